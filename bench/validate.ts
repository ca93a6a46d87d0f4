/**
 * Validation benchmark: nbops validateNotebook (every rule family, secrets included) against Python
 * nbformat read+validate on the same synthetic files, side by side in one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  /** nbformat read+validate with its default validator (fastjsonschema). */
  nbformatMs?: number;
  ratio?: number;
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
  const rows: ValidateBenchRow[] = [];
  for (const { name, path } of files) {
    const bytes = readFileSync(path);
    validateNotebook({ content: bytes, path, policy: BENCH_POLICY }); // warm-up (JIT, lazy schema compile)
    const times: number[] = [];
    let findings = 0;
    const runs = bytes.length > 20 * MB ? 5 : 11;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const result = validateNotebook({ content: bytes, path, policy: BENCH_POLICY });
      times.push(performance.now() - start);
      findings = result.findings.length;
    }
    const ms = median(times);
    rows.push({
      name,
      bytes: bytes.length,
      nbopsMs: ms,
      nbopsMBps: bytes.length / MB / (ms / 1000),
      findings,
    });
  }

  const python = findPython('nbformat');
  if (!python) {
    notes.push('nbformat comparison skipped: no python with nbformat (apt-get install python3-nbformat)');
    return { rows, notes };
  }
  const runs: [validator: string, repeats: number, set: (row: ValidateBenchRow, ms: number) => void][] = [
    ['fastjsonschema', 3, (row, ms) => Object.assign(row, { nbformatMs: ms, ratio: ms / row.nbopsMs })],
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
