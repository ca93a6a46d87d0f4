/**
 * Validation benchmark: nbops read+validateNotebook (every rule family, secrets included) against
 * Python nbformat read+validate on the same synthetic files, side by side in one run. Both sides
 * time reading the file (from the page cache) and exclude start-up and imports.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeUtf8 } from '#core/validation/parse';
import { validateNotebook } from '#core/validation/validate';
import { errorOutputsNotebook, mixedNotebook } from './notebooks';
import { findPython } from './python';

const MB = 1024 * 1024;

export interface ValidateBenchRow {
  name: string;
  bytes: number;
  nbopsMs: number;
  nbopsMBps: number;
  findings: number;
  /**
   * Reading and JSON.parse alone, timed in the same runs: the floor of any validator that builds
   * the notebook value in V8 (every nbops rule family reads that value).
   */
  parseMs: number;
  /** nbformat read+validate with its default validator (fastjsonschema). */
  nbformatMs?: number;
  ratio?: number;
  /** nbformatMs / parseMs: the best ratio a validator that parses the notebook could reach here. */
  ceiling?: number;
  /** nbformat read+validate with the jsonschema reference validator. */
  nbformatJsonschemaMs?: number;
  ratioJsonschema?: number;
}

/** The bench validates files up to 50 MB, so it raises the default 50 MiB cap a little. */
const BENCH_POLICY = { maxNotebookBytes: 64 * 1024 * 1024 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchValidate(outDir: string): Promise<{ rows: ValidateBenchRow[]; notes: string[] }> {
  mkdirSync(outDir, { recursive: true });
  const inputs: [string, () => string][] = [
    ['mixed-1MB', () => mixedNotebook(1 * MB)],
    ['mixed-10MB', () => mixedNotebook(10 * MB)],
    ['mixed-50MB', () => mixedNotebook(50 * MB)],
    ['errors-50k', () => errorOutputsNotebook(50_000)],
  ];
  const files = inputs.map(([name, make]) => {
    const path = join(outDir, `${name}.ipynb`);
    writeFileSync(path, make());
    return { name, path };
  });

  const notes: string[] = [];
  // nbops is timed in a fresh process, as nbformat is: the strings this process just built to write
  // the files would otherwise be the garbage collector's work during the timed runs.
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', self, '--validate-child', ...files.map((f) => f.path)],
    { encoding: 'utf8', maxBuffer: 16 * MB },
  );
  if (child.status !== 0)
    throw new Error(`validation benchmark child failed (${child.status}):\n${child.stderr}`);
  const timed = new Map(
    child.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ChildRow)
      .map((r) => [r.path, r]),
  );
  const rows: ValidateBenchRow[] = files.map(({ name, path }) => {
    const r = timed.get(path);
    if (!r) throw new Error(`validation benchmark child printed nothing for ${path}`);
    return {
      name,
      bytes: r.bytes,
      nbopsMs: r.ms,
      nbopsMBps: r.bytes / MB / (r.ms / 1000),
      parseMs: r.parseMs,
      findings: r.findings,
    };
  });

  const python = findPython('nbformat');
  if (!python) {
    notes.push('nbformat comparison skipped: no python with nbformat (apt-get install python3-nbformat)');
    return { rows, notes };
  }
  const runs: [validator: string, repeats: number, set: (row: ValidateBenchRow, ms: number) => void][] = [
    [
      'fastjsonschema',
      3,
      (row, ms) => Object.assign(row, { nbformatMs: ms, ratio: ms / row.nbopsMs, ceiling: ms / row.parseMs }),
    ],
    [
      'jsonschema',
      1,
      (row, ms) => Object.assign(row, { nbformatJsonschemaMs: ms, ratioJsonschema: ms / row.nbopsMs }),
    ],
  ];
  for (const [validator, repeats, set] of runs) {
    const script = join(import.meta.dirname, 'nbformat_bench.py');
    const run = spawnSync(python, [script, String(repeats), validator, ...files.map((f) => f.path)], {
      encoding: 'utf8',
      maxBuffer: 16 * MB,
    });
    if (run.status !== 0) notes.push(`nbformat (${validator}) run failed: ${run.stderr.slice(0, 500)}`);
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      const rec = JSON.parse(line) as { path?: string; ms?: number; import_ms?: number; nbformat?: string };
      if (rec.import_ms !== undefined)
        notes.push(
          `nbformat ${rec.nbformat} (${validator}): import ${rec.import_ms.toFixed(0)} ms, not included`,
        );
      const row = rows[files.findIndex((f) => f.path === rec.path)];
      if (row && rec.ms !== undefined) set(row, rec.ms);
    }
  }
  return { rows, notes };
}

interface ChildRow {
  path: string;
  bytes: number;
  ms: number;
  parseMs: number;
  findings: number;
}

/**
 * The timed part, in the child: per file a warm-up, then the median of 11 (5 above 20 MB) runs,
 * each timing the whole validation and then reading and parsing alone.
 */
function timeValidation(paths: string[]): void {
  for (const path of paths) {
    const bytes = statSync(path).size;
    validateNotebook({ content: readFileSync(path), path, policy: BENCH_POLICY }); // warm-up (JIT, lazy schema compile)
    const times: number[] = [];
    const parseTimes: number[] = [];
    let findings = 0;
    const runs = bytes > 20 * MB ? 5 : 11;
    for (let i = 0; i < runs; i++) {
      // The file read is timed, as nbformat.read's is on the Python side.
      let start = performance.now();
      const result = validateNotebook({ content: readFileSync(path), path, policy: BENCH_POLICY });
      times.push(performance.now() - start);
      findings = result.findings.length;
      start = performance.now();
      JSON.parse(decodeUtf8(readFileSync(path)) ?? ''); // the validator's own decode, then V8's parser
      parseTimes.push(performance.now() - start);
    }
    const row: ChildRow = { path, bytes, ms: median(times), parseMs: median(parseTimes), findings };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}

if (
  process.argv[2] === '--validate-child' &&
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1]
)
  timeValidation(process.argv.slice(3));
