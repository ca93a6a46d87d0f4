/**
 * Drift benchmark: 1,000,000 captured records × 10 features (100 hourly SageMaker capture files,
 * CSV payloads) read through the capture reader and evaluated against a baseline, in a child node
 * process pinned to one core, so its wall time and peak RSS are the evaluation's own.
 *
 * Also prices one evaluation on Lambda next to a Model Monitor processing run.
 */
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Baseline, CategoricalReference, ReferenceFeature } from '#core/drift/baseline';
import { baselineDocument, numericReference, seededRandom } from '#core/drift/baseline';
import { CAPTURE_PREFETCH, readCapture } from '#core/drift/capture';
import { evaluateDrift } from '#core/drift/evaluate';
import type { FeatureSpec } from '#core/drift/values';
import { captureKeyPrefix } from '#core/layout';
import type { ObjectStore } from '#core/ports';

const RECORDS = 1_000_000;
const FILES = 100; // one per hour, as SageMaker writes them
const REFERENCE_ROWS = 200_000;
const ENDPOINT = 'churn-prod';
const VARIANT = 'AllTraffic';
const BUCKET = 'bench';
const WINDOW_START = Date.UTC(2025, 0, 1, 0, 0, 0);
const DATASET_VERSION = 2;

/** Lambda on-demand price (x86) and request charge, per the Lambda pricing page. */
const LAMBDA_GB_SECOND = 0.0000166667;
const LAMBDA_REQUEST = 0.2 / 1_000_000;
/** Lambda allocates one full vCPU at 1,769 MB; the benchmark runs on one core. */
const LAMBDA_MEMORY_MB = 1769;
/**
 * ml.m5.xlarge processing, on-demand, us-east-1: an assumption ($0.23/hour, the rate commonly quoted
 * for ml.m5.xlarge training/processing); check aws.amazon.com/sagemaker/pricing for your region.
 */
const M5_XLARGE_HOURLY = 0.23;
/** AWS's own example Model Monitor baseline job: 343 s wall clock (drift-and-slo.md). */
const MODEL_MONITOR_RUN_SECONDS = 343;

export const FEATURES: FeatureSpec[] = [
  { name: 'tenure_months', type: 'numeric' },
  { name: 'monthly_charges', type: 'numeric' },
  { name: 'total_charges', type: 'numeric' },
  { name: 'support_calls', type: 'numeric' },
  { name: 'age', type: 'numeric' },
  { name: 'data_gb', type: 'numeric' },
  { name: 'late_payments', type: 'numeric' },
  { name: 'contract', type: 'categorical' },
  { name: 'internet', type: 'categorical' },
  { name: 'payment_method', type: 'categorical' },
];

const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];
const INTERNET = ['dsl', 'fiber', 'none'];
const PAYMENT = ['card', 'bank-transfer', 'electronic-check', 'mailed-check'];

/** One synthetic customer; `drift` shifts three features the way a changed population would. */
function customer(random: () => number, drift: boolean): (number | string)[] {
  const normal = () => {
    let z = 0;
    for (let i = 0; i < 6; i++) z += random();
    return (z - 3) * Math.SQRT2;
  };
  const pick = (values: string[], weights: number[]) => {
    let u = random();
    for (let i = 0; i < values.length; i++) {
      u -= weights[i]!;
      if (u < 0) return values[i]!;
    }
    return values[values.length - 1]!;
  };
  const tenure = Math.max(1, Math.round(30 + 18 * normal()));
  const monthly = Math.round((65 + (drift ? 8 : 0) + 25 * normal()) * 100) / 100;
  return [
    tenure,
    monthly,
    Math.round(tenure * monthly * 100) / 100,
    Math.floor(random() * random() * (drift ? 9 : 6)),
    Math.round(45 + 14 * normal()),
    Math.round((drift ? 55 : 40) * random() * random() * 1000) / 1000,
    Math.floor(random() * 4),
    pick(CONTRACTS, drift ? [0.7, 0.18, 0.12] : [0.55, 0.25, 0.2]),
    pick(INTERNET, [0.35, 0.45, 0.2]),
    pick(PAYMENT, [0.3, 0.25, 0.3, 0.15]),
  ];
}

function uuid(random: () => number): string {
  const hex = () =>
    Math.floor(random() * 0x10000)
      .toString(16)
      .padStart(4, '0');
  return `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

/** The capture files and the baseline, written once (reused while the dataset version matches). */
function writeDataset(dir: string): { baselinePath: string; captureRoot: string; bytes: number } {
  const marker = join(dir, 'dataset.json');
  const baselinePath = join(dir, 'baseline.json');
  const captureRoot = join(dir, 'capture');
  const wanted = { version: DATASET_VERSION, records: RECORDS, files: FILES };
  if (existsSync(marker) && existsSync(baselinePath)) {
    const found = JSON.parse(readFileSync(marker, 'utf8'));
    if (JSON.stringify(found.wanted) === JSON.stringify(wanted))
      return { baselinePath, captureRoot, bytes: found.bytes };
  }
  mkdirSync(dir, { recursive: true });
  // Baseline: the training data (no drift), summarised as the runtime's save_baseline would.
  const random = seededRandom(7);
  const columns = FEATURES.map(() => [] as (number | string)[]);
  for (let i = 0; i < REFERENCE_ROWS; i++) {
    const row = customer(random, false);
    for (let j = 0; j < row.length; j++) columns[j]!.push(row[j]!);
  }
  const features: ReferenceFeature[] = FEATURES.map((f, j): ReferenceFeature => {
    if (f.type === 'numeric')
      return numericReference(f.name, Float64Array.from(columns[j] as number[]), 0, 10_000, j + 1);
    const frequencies = new Map<string, number>();
    for (const v of columns[j] as string[]) frequencies.set(v, (frequencies.get(v) ?? 0) + 1);
    return {
      name: f.name,
      type: 'categorical',
      count: REFERENCE_ROWS,
      missing: 0,
      frequencies,
    } as CategoricalReference;
  });
  const baseline: Baseline = { source: 'rows', count: REFERENCE_ROWS, features };
  writeFileSync(baselinePath, JSON.stringify(baselineDocument(baseline, new Date(WINDOW_START))));

  // Capture: RECORDS records over FILES hours, CSV payloads, as the serving runtime writes them.
  const traffic = seededRandom(11);
  const perFile = RECORDS / FILES;
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const hourStart = WINDOW_START + f * 3_600_000;
    const d = new Date(hourStart);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const folder = join(
      captureRoot,
      captureKeyPrefix(ENDPOINT, VARIANT),
      `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}`,
    );
    mkdirSync(folder, { recursive: true });
    const lines: string[] = [];
    for (let r = 0; r < perFile; r++) {
      const at = new Date(hourStart + Math.floor((r / perFile) * 3_600_000));
      const drift = f >= FILES / 2; // the population changes half way through the window
      const payload = customer(traffic, drift).join(',');
      const score = (traffic() * 0.9 + 0.05).toFixed(4);
      lines.push(
        JSON.stringify({
          captureData: {
            endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: payload, encoding: 'CSV' },
            endpointOutput: {
              observedContentType: 'text/csv',
              mode: 'OUTPUT',
              data: `${score}\n`,
              encoding: 'CSV',
            },
          },
          eventMetadata: { eventId: uuid(traffic), inferenceTime: `${at.toISOString().slice(0, 19)}Z` },
          eventVersion: '0',
        }),
      );
    }
    const text = `${lines.join('\n')}\n`;
    bytes += Buffer.byteLength(text);
    writeFileSync(join(folder, `00-00-000-${uuid(traffic)}.jsonl`), text);
  }
  writeFileSync(marker, JSON.stringify({ wanted, bytes }));
  return { baselinePath, captureRoot, bytes };
}

/**
 * S3's first-byte latency for small GETs, modelled: "tens of milliseconds" median (the S3
 * performance guidelines whitepaper). The folder store has none, so the latency comparison adds it.
 */
const MODELLED_GET_LATENCY_MS = 30;

/** An ObjectStore over a local folder (bucket ignored): what the child reads capture through. */
function folderStore(root: string, getLatencyMs = 0): ObjectStore {
  const unsupported = () => Promise.reject(new Error('read-only benchmark store'));
  return {
    head: unsupported,
    getBytes: unsupported,
    put: unsupported,
    copy: unsupported,
    presignPut: unsupported,
    async getStream(ref) {
      if (getLatencyMs > 0) await new Promise((resolve) => setTimeout(resolve, getLatencyMs));
      return createReadStream(join(root, ref.key), { highWaterMark: 256 * 1024 });
    },
    async *list(_bucket, prefix) {
      const dir = join(root, prefix);
      if (!existsSync(dir)) return;
      const walk = function* (folder: string): Generator<string> {
        for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
          a.name < b.name ? -1 : 1,
        )) {
          const full = join(folder, entry.name);
          if (entry.isDirectory()) yield* walk(full);
          else yield full;
        }
      };
      for (const file of walk(dir)) yield { key: relative(root, file), size: statSync(file).size };
    },
  };
}

interface ChildResult {
  records: number;
  rows: number;
  files: number;
  bytes: number;
  wallSeconds: number;
  /** User + system CPU time: what the evaluation costs when other processes compete for the core. */
  cpuSeconds: number;
  peakRssMB: number;
  skipped: number;
  datasetDrift: { share: number; drifted: boolean };
  features: { name: string; method: string; statistic: number | null; drifted: boolean }[];
}

/** The measured part, in the child process (`prefetch` undefined: readCapture's default). */
async function child(dir: string, hours: number, getLatencyMs = 0, prefetch?: number): Promise<void> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const { parseBaseline } = await import('#core/drift/baseline');
  const baseline = parseBaseline(
    JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')),
    'baseline.json',
  );
  const { accumulators, stats } = await readCapture(folderStore(join(dir, 'capture'), getLatencyMs), {
    bucket: BUCKET,
    prefix: captureKeyPrefix(ENDPOINT, VARIANT),
    from: new Date(WINDOW_START),
    to: new Date(WINDOW_START + hours * 3_600_000),
    features: FEATURES,
    baseline,
    ...(prefetch !== undefined ? { prefetch } : {}),
  });
  const report = evaluateDrift({ baseline, current: accumulators, features: FEATURES });
  const wallSeconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const result: ChildResult = {
    records: stats.records,
    rows: stats.rows,
    files: stats.files,
    bytes: stats.bytes,
    wallSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    skipped: Object.values(stats.skipped).reduce((s, n) => s + n, 0),
    datasetDrift: { share: report.datasetDrift.share, drifted: report.datasetDrift.drifted },
    features: report.features.map((f) => ({
      name: f.name,
      method: f.method,
      statistic: f.statistic,
      drifted: f.drifted,
    })),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export interface DriftBenchResult extends ChildResult {
  recordsPerSecond: number;
  pinnedToOneCore: boolean;
  /** 1-minute load average when the child started: above the core count, other work shared the core. */
  loadAverage: number;
  /** The same evaluation over a tenth of the window, for the memory comparison. */
  smallWindow: { records: number; wallSeconds: number; peakRssMB: number };
  /**
   * The whole window again with a modelled S3 first-byte latency on every GET, reading one file at
   * a time and with readCapture's default prefetch, side by side.
   */
  getLatency: {
    latencyMs: number;
    files: number;
    sequentialSeconds: number;
    prefetchSeconds: number;
    prefetch: number;
  };
  targets: { target: string; ok: boolean; value: string }[];
  cost: {
    lambda: { memoryMB: number; seconds: number; dollars: number; note: string };
    modelMonitor: { instance: string; hourly: number; seconds: number; dollars: number; note: string };
  };
}

export async function benchDrift(outDir: string): Promise<DriftBenchResult> {
  const { bytes } = writeDataset(outDir);
  const self = fileURLToPath(import.meta.url);
  const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  const loadAverage = loadavg()[0]!;
  const measure = (hours: number, latency?: { ms: number; prefetch?: number }): ChildResult => {
    const node = [process.execPath, '--import', 'tsx', self, '--drift-child', outDir, String(hours)];
    if (latency) node.push(String(latency.ms), String(latency.prefetch ?? ''));
    const [command, ...args] = pinned ? ['taskset', '-c', '0', ...node] : node;
    const run = spawnSync(command!, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`drift benchmark child failed (${run.status}):\n${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildResult;
  };
  // A tenth of the window first: peak memory must not grow with the window.
  const small = measure(FILES / 10);
  const measured = measure(FILES);
  const sequential = measure(FILES, { ms: MODELLED_GET_LATENCY_MS, prefetch: 0 });
  const prefetched = measure(FILES, { ms: MODELLED_GET_LATENCY_MS });
  const lambdaSeconds = Math.ceil(measured.wallSeconds * 1000) / 1000;
  const lambdaDollars = (LAMBDA_MEMORY_MB / 1024) * lambdaSeconds * LAMBDA_GB_SECOND + LAMBDA_REQUEST;
  const mmDollars = (M5_XLARGE_HOURLY * MODEL_MONITOR_RUN_SECONDS) / 3600;
  return {
    ...measured,
    bytes: measured.bytes || bytes,
    recordsPerSecond: measured.records / measured.wallSeconds,
    pinnedToOneCore: pinned,
    loadAverage,
    smallWindow: { records: small.records, wallSeconds: small.wallSeconds, peakRssMB: small.peakRssMB },
    getLatency: {
      latencyMs: MODELLED_GET_LATENCY_MS,
      files: prefetched.files,
      sequentialSeconds: sequential.wallSeconds,
      prefetchSeconds: prefetched.wallSeconds,
      prefetch: CAPTURE_PREFETCH,
    },
    targets: [
      {
        target: '1M records x 10 features in < 10 s on one core',
        ok: measured.records === RECORDS && measured.wallSeconds < 10,
        value:
          `wall ${measured.wallSeconds.toFixed(2)} s, CPU ${measured.cpuSeconds.toFixed(2)} s` +
          (measured.wallSeconds >= 10 && measured.cpuSeconds < 10
            ? ` (the core was shared: load average ${loadAverage.toFixed(1)})`
            : ''),
      },
      {
        target: 'peak memory < 400 MB',
        ok: measured.peakRssMB < 400,
        value: `${measured.peakRssMB.toFixed(0)} MB (${small.peakRssMB.toFixed(0)} MB for a tenth of the window)`,
      },
    ],
    cost: {
      lambda: {
        memoryMB: LAMBDA_MEMORY_MB,
        seconds: lambdaSeconds,
        dollars: lambdaDollars,
        note: `${LAMBDA_MEMORY_MB} MB (one full vCPU) x measured seconds x $${LAMBDA_GB_SECOND}/GB-s + $0.20 per 1M requests; S3 GETs (${measured.files} x $0.0004/1000) not included`,
      },
      modelMonitor: {
        instance: 'ml.m5.xlarge',
        hourly: M5_XLARGE_HOURLY,
        seconds: MODEL_MONITOR_RUN_SECONDS,
        dollars: mmDollars,
        note: `assumed $${M5_XLARGE_HOURLY}/h on-demand (us-east-1) x ${MODEL_MONITOR_RUN_SECONDS} s, the wall clock of AWS's example Model Monitor job`,
      },
    },
  };
}

/** Lines for bench/run.ts to print. */
export function formatDriftBench(r: DriftBenchResult): string[] {
  const lines = [
    `  ${r.records.toLocaleString('en-US')} records x ${FEATURES.length} features, ${r.files} capture files, ${(r.bytes / 1024 / 1024).toFixed(0)} MB` +
      `${r.pinnedToOneCore ? ', child pinned to CPU 0 (taskset)' : ', child process (not pinned: no taskset)'}`,
    `  wall ${r.wallSeconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s, load average ${r.loadAverage.toFixed(1)}), ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} records/s, peak RSS ${r.peakRssMB.toFixed(0)} MB, ${r.skipped} skipped`,
    `  verdict: ${
      r.features
        .filter((f) => f.drifted)
        .map((f) => `${f.name} (${f.method})`)
        .join(', ') || 'no feature'
    } drifted; dataset share ${r.datasetDrift.share.toFixed(2)} -> ${r.datasetDrift.drifted ? 'DRIFT' : 'no drift'}`,
    `  cost per evaluation: Lambda $${r.cost.lambda.dollars.toFixed(6)} (${r.cost.lambda.note})`,
    `                       Model Monitor $${r.cost.modelMonitor.dollars.toFixed(4)} (${r.cost.modelMonitor.note})`,
    `  hourly for 30 days: Lambda $${(r.cost.lambda.dollars * 720).toFixed(2)} vs Model Monitor $${(r.cost.modelMonitor.dollars * 720).toFixed(2)}`,
    `  with ${r.getLatency.latencyMs} ms first-byte latency per GET (modelled S3), ${r.getLatency.files} files: one GET at a time ${r.getLatency.sequentialSeconds.toFixed(2)} s, ${r.getLatency.prefetch} ahead ${r.getLatency.prefetchSeconds.toFixed(2)} s (${(r.getLatency.sequentialSeconds / r.getLatency.prefetchSeconds).toFixed(2)}x)`,
  ];
  for (const t of r.targets) lines.push(`  target ${t.ok ? 'MET ' : 'MISSED'}  ${t.target}: ${t.value}`);
  return lines;
}

if (
  process.argv[2] === '--drift-child' &&
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1]
) {
  const [dir, hours, latencyMs, prefetch] = process.argv.slice(3);
  await child(dir!, Number(hours ?? FILES), Number(latencyMs ?? 0), prefetch ? Number(prefetch) : undefined);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `tsx bench/drift.ts`: run just this benchmark.
  const result = await benchDrift(join(import.meta.dirname, 'out', 'drift'));
  for (const line of formatDriftBench(result)) console.log(line);
}
