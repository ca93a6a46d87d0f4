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
  nbformatMs?: number;
  ratio?: number;
}

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
    validateNotebook({ content: bytes, path }); // warm-up (JIT, lazy schema compile)
    const times: number[] = [];
    let findings = 0;
    const runs = bytes.length > 20 * MB ? 5 : 11;
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const result = validateNotebook({ content: bytes, path });
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
  } else {
    const run = spawnSync(
      python,
      [join(import.meta.dirname, 'nbformat_bench.py'), '3', ...files.map((f) => f.path)],
      {
        encoding: 'utf8',
        maxBuffer: 16 * MB,
      },
    );
    if (run.status !== 0) notes.push(`nbformat run failed: ${run.stderr.slice(0, 500)}`);
    for (const line of run.stdout.split('\n').filter(Boolean)) {
      const rec = JSON.parse(line) as { path?: string; ms?: number; import_ms?: number; nbformat?: string };
      if (rec.import_ms !== undefined)
        notes.push(`nbformat ${rec.nbformat}: import ${rec.import_ms.toFixed(0)} ms (not included below)`);
      const row = rows[files.findIndex((f) => f.path === rec.path)];
      if (row && rec.ms !== undefined) {
        row.nbformatMs = rec.ms;
        row.ratio = rec.ms / row.nbopsMs;
      }
    }
  }
  return { rows, notes };
}
