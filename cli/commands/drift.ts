/**
 * `nbops drift evaluate`: compares current data (a CSV file, or SageMaker data-capture JSONL files)
 * with reference data (a CSV file, or a baseline JSON: nbops-baseline/v1 or a Model Monitor
 * statistics.json) feature by feature, with the same engine the scheduled drift evaluation uses.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Command as CommandClass, CommanderError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { createAccumulators, type DriftAccumulators } from '#core/drift/accumulate';
import {
  type Baseline,
  BaselineError,
  baselineFromRows,
  featureSpecs,
  parseBaseline,
} from '#core/drift/baseline';
import { CaptureDecoder, type CaptureStats, readCaptureStream } from '#core/drift/capture';
import { CsvRecordReader } from '#core/drift/csv';
import { DRIFT_METHODS, type DriftMethod, type DriftReport, evaluateDrift } from '#core/drift/evaluate';
import { type FeatureSpec, INVALID, readFeatureList, toNumber } from '#core/drift/values';
import { EXIT, UserError } from '../exit';
import { readText } from '../files';

interface DriftEvaluateOptions {
  reference: string;
  current: string;
  features?: string;
  method: DriftMethod;
  threshold?: string;
  datasetShare: string;
  minRecords: string;
  json?: boolean;
}

/** Where the command writes; tests pass their own. */
export interface DriftIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: DriftIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Current values the CLI keeps exactly per numeric feature (results equal scipy's up to here). */
const CLI_EXACT_LIMIT = 1_000_000;

function defineEvaluate(command: Command, run: (options: DriftEvaluateOptions) => Promise<void>): Command {
  return command
    .description(
      'Compare current data with reference data feature by feature (KS, Wasserstein, chi-square, Jensen-Shannon, PSI, L-infinity) and decide dataset drift.',
    )
    .requiredOption(
      '--reference <file>',
      'reference data: a CSV with a header row, or a baseline JSON (nbops-baseline/v1 or Model Monitor statistics.json)',
    )
    .requiredOption(
      '--current <path>',
      'current data: a CSV with a header row, a data-capture .jsonl file, or a directory of them',
    )
    .option(
      '--features <file>',
      'features to compare, YAML/JSON [{name, type: numeric|categorical}] (a manifest with serving.features works too); capture payload columns are in this order',
    )
    .addOption(
      new Option('--method <method>', 'drift statistic for every feature (auto: per feature, as Evidently)')
        .choices([...DRIFT_METHODS])
        .default('auto'),
    )
    .option(
      '--threshold <n>',
      'drift threshold for every feature: a p-value level for ks/chi2, a distance otherwise (default: per method)',
    )
    .option('--dataset-share <n>', 'share of drifted features (0-1) that makes the dataset drifted', '0.5')
    .option('--min-records <n>', 'fewer current rows than this: no verdict (insufficient data)', '1')
    .option(
      '--json',
      'print {"features":[{name,type,method,statistic,pValue,threshold,drifted,nReference,nCurrent}],"datasetDrift":{share,drifted}}',
    )
    .addHelpText('after', '\nExit status: 0 no dataset drift, 1 dataset drift, 2 usage or I/O errors.')
    .action(run);
}

export function registerDriftCommand(program: Command, setExit: (code: number) => void): void {
  const drift = program
    .command('drift')
    .description('Drift evaluation: compare current data with the training reference.');
  defineEvaluate(drift.command('evaluate'), async (options) => {
    setExit(await runEvaluate(options, processIo));
  });
}

/** `nbops drift evaluate` with `args` (what follows `evaluate`); resolves to the exit code. */
export async function runDriftEvaluate(args: string[], io: DriftIo = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const command = defineEvaluate(new CommandClass('evaluate'), async (options) => {
    code = await runEvaluate(options, io);
  })
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  return code;
}

async function runEvaluate(options: DriftEvaluateOptions, io: DriftIo): Promise<number> {
  try {
    return await evaluate(options, io);
  } catch (err) {
    const known = err instanceof UserError || err instanceof BaselineError;
    io.stderr(`nbops: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!known) io.stderr('nbops: this is a bug; please report it with the input that caused it\n');
    return EXIT.usage;
  }
}

function numberOption(
  value: string | undefined,
  flag: string,
  min: number,
  max = Infinity,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new UserError(
      `${flag} ${JSON.stringify(value)} is not a number ${range}; pass e.g. ${flag} ${min === 0 && max === 1 ? '0.5' : '0.1'}`,
    );
  }
  return n;
}

async function evaluate(options: DriftEvaluateOptions, io: DriftIo): Promise<number> {
  const threshold = numberOption(options.threshold, '--threshold', 0);
  const datasetShare = numberOption(options.datasetShare, '--dataset-share', 0, 1)!;
  const minRecords = numberOption(options.minRecords, '--min-records', 0)!;
  const declared = options.features ? readFeaturesFile(options.features) : undefined;

  const reference = readReference(options.reference, declared);
  const features = declared ?? reference.features;
  const currentFiles = currentInputs(options.current);
  const accumulators = createAccumulators(reference.baseline, features, { exactLimit: CLI_EXACT_LIMIT });
  let captureStats: CaptureStats | undefined;
  if (currentFiles.kind === 'csv') await readCurrentCsv(currentFiles.paths[0]!, features, accumulators);
  else {
    const decoder = new CaptureDecoder(accumulators, { features });
    for (const path of currentFiles.paths) await readCaptureStream(openFile(path), path, decoder);
    captureStats = decoder.stats;
  }

  const report = evaluateDrift({
    baseline: reference.baseline,
    current: accumulators,
    features,
    method: options.method,
    ...(threshold !== undefined ? { threshold } : {}),
    datasetShare,
    minRecords,
  });
  if (captureStats) reportSkipped(captureStats, io);
  if (options.json) io.stdout(`${JSON.stringify(jsonReport(report))}\n`);
  else io.stdout(textReport(report));
  return report.datasetDrift.drifted ? EXIT.findings : EXIT.ok;
}

function readFeaturesFile(path: string): FeatureSpec[] {
  const text = readText(path);
  let document: unknown;
  try {
    document = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new UserError(`cannot parse ${path}: ${(err as Error).message}; write it as YAML or JSON`);
  }
  try {
    return readFeatureList(document, path);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

function readReference(
  path: string,
  declared: FeatureSpec[] | undefined,
): { baseline: Baseline; features: FeatureSpec[] } {
  const text = readText(path);
  const start = text.trimStart()[0];
  if (path.endsWith('.json') || start === '{') {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (err) {
      throw new UserError(
        `cannot parse ${path} as JSON: ${(err as Error).message}; pass a baseline JSON or a CSV`,
      );
    }
    const baseline = parseBaseline(document, path);
    return { baseline, features: declared ?? featureSpecs(baseline) };
  }
  const records = new CsvRecordReader();
  const rows = records.end(records.push(text));
  const header = rows.shift();
  if (!header || header.length === 0 || header.every((h) => h.trim() === '')) {
    throw new UserError(`${path} is empty; the reference CSV needs a header row naming the columns`);
  }
  const names = header.map((h) => h.trim());
  const features = declared ?? inferFeatures(names, rows);
  const columns = features.map((f) => {
    const index = names.indexOf(f.name);
    if (index < 0)
      throw new UserError(
        `${path} has no column "${f.name}" (columns: ${names.join(', ')}); add the column or fix the feature name`,
      );
    return index;
  });
  try {
    const baseline = baselineFromRows(
      rows.map((row) => columns.map((c) => row[c])),
      features,
    );
    return { baseline, features };
  } catch (err) {
    throw new UserError(`${path}: ${(err as Error).message}`);
  }
}

/** Without a features file: every column, numeric when every non-missing value is a number. */
function inferFeatures(names: string[], rows: string[][]): FeatureSpec[] {
  return names.map((name, index) => {
    let numeric = true;
    for (const row of rows) {
      if (toNumber(row[index]) === INVALID) {
        numeric = false;
        break;
      }
    }
    return { name, type: numeric ? 'numeric' : 'categorical' };
  });
}

function currentInputs(path: string): { kind: 'csv' | 'capture'; paths: string[] } {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new UserError(`cannot read ${path}: no such file or directory`);
  }
  if (stat.isDirectory()) {
    const paths: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      )) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.jsonl')) paths.push(full);
      }
    };
    walk(path);
    if (paths.length === 0)
      throw new UserError(
        `${path} holds no .jsonl capture files; pass a capture directory, a .jsonl file or a CSV`,
      );
    return { kind: 'capture', paths };
  }
  if (path.endsWith('.jsonl')) return { kind: 'capture', paths: [path] };
  return { kind: 'csv', paths: [path] };
}

function openFile(path: string): AsyncIterable<Uint8Array> {
  return createReadStream(path);
}

async function readCurrentCsv(
  path: string,
  features: FeatureSpec[],
  accumulators: DriftAccumulators,
): Promise<void> {
  const reader = new CsvRecordReader();
  const decoder = new TextDecoder('utf-8');
  let columns: number[] | undefined;
  const take = (records: string[][]) => {
    for (const record of records) {
      if (!columns) {
        const names = record.map((h) => h.trim());
        columns = features.map((f) => {
          const index = names.indexOf(f.name);
          if (index < 0)
            throw new UserError(
              `${path} has no column "${f.name}" (columns: ${names.join(', ')}); add the column or fix the feature name`,
            );
          return index;
        });
        continue;
      }
      accumulators.addRow(columns.map((c) => record[c]));
    }
  };
  try {
    for await (const chunk of openFile(path)) take(reader.push(decoder.decode(chunk, { stream: true })));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${path}: ${(err as Error).message}`);
  }
  take(reader.end(reader.push(decoder.decode())));
  if (!columns)
    throw new UserError(`${path} is empty; the current CSV needs a header row naming the columns`);
}

function reportSkipped(stats: CaptureStats, io: DriftIo): void {
  const reasons = Object.entries(stats.skipped);
  if (reasons.length === 0) return;
  const total = reasons.reduce((s, [, n]) => s + n, 0);
  io.stderr(`nbops: skipped ${total} capture line(s) or row(s):\n`);
  for (const [reason, count] of reasons) {
    const first = stats.examples.find((e) => e.reason === reason);
    io.stderr(`  ${count} x ${reason}${first ? ` (first: ${first.file}:${first.line})` : ''}\n`);
  }
}

const finiteOrNull = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);

/** Exactly the documented --json shape. */
export function jsonReport(report: DriftReport) {
  return {
    features: report.features.map((f) => ({
      name: f.name,
      type: f.type,
      method: f.method,
      statistic: finiteOrNull(f.statistic),
      pValue: finiteOrNull(f.pValue),
      threshold: f.threshold,
      drifted: f.drifted,
      nReference: f.nReference,
      nCurrent: f.nCurrent,
    })),
    datasetDrift: { share: report.datasetDrift.share, drifted: report.datasetDrift.drifted },
  };
}

function formatNumber(n: number | null): string {
  if (n === null) return '-';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  return abs >= 1e-4 && abs < 1e6 ? String(Number(n.toPrecision(4))) : n.toExponential(3);
}

function textReport(report: DriftReport): string {
  const header = [
    'feature',
    'type',
    'method',
    'statistic',
    'p-value',
    'threshold',
    'drift',
    'n ref',
    'n cur',
  ];
  const rows = report.features.map((f) => [
    f.name,
    f.type,
    f.method,
    formatNumber(f.statistic),
    formatNumber(f.pValue),
    formatNumber(f.threshold),
    f.statistic === null ? '-' : f.drifted ? 'DRIFT' : 'ok',
    String(f.nReference),
    String(f.nCurrent),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  let out = line(header) + line(widths.map((w) => '-'.repeat(w)));
  for (const r of rows) out += line(r);
  const notes = report.features.filter((f) => f.note);
  if (notes.length) {
    out += '\n';
    for (const f of notes) out += `note ${f.name}: ${f.note}\n`;
  }
  const d = report.datasetDrift;
  out += '\n';
  if (report.insufficientData) {
    out += `insufficient data: ${report.records} current row(s), fewer than --min-records ${report.minRecords}; no drift verdict\n`;
  } else {
    out += `dataset: ${d.driftedFeatures} of ${d.evaluatedFeatures} feature(s) drifted (share ${formatNumber(d.share)}, threshold ${formatNumber(d.threshold)}): ${d.drifted ? 'DRIFT' : 'no drift'}\n`;
  }
  return out;
}
