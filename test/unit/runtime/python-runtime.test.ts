import { execFile, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The Python runtime (layers/runtime) has its own unittest suite; this wrapper runs it module by
// module so a failure shows up as a named vitest test with the Python output attached.
const runtimeDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../layers/runtime');
const python = process.env.NBOPS_PYTHON ?? 'python3';
const missingPython =
  `'${python}' was not found or does not run: the nbops runtime tests need Python >= 3.9 on PATH ` +
  '(or set NBOPS_PYTHON to an interpreter).';

const modules = readdirSync(join(runtimeDir, 'tests'))
  .filter((file) => /^test_\w+\.py$/.test(file))
  .map((file) => file.replace(/\.py$/, ''))
  .sort();

function runModule(module: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      python,
      ['-m', 'unittest', '-v', `tests.${module}`],
      { cwd: runtimeDir, maxBuffer: 16 * 1024 * 1024, timeout: 110_000 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(missingPython));
          return;
        }
        const code = error ? Number(error.code ?? 1) : 0;
        resolvePromise({ code: Number.isNaN(code) ? 1 : code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('python runtime', () => {
  it('has a usable python3 (>= 3.9)', () => {
    const probe = spawnSync(python, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'], {
      encoding: 'utf8',
    });
    if (probe.error || probe.status !== 0) throw new Error(missingPython);
    const [major, minor] = probe.stdout.trim().split(' ').map(Number);
    expect(major === 3 && (minor ?? 0) >= 9, `found Python ${probe.stdout.trim()}, need >= 3.9`).toBe(true);
  });

  it('finds the Python test modules', () => {
    expect(modules).toEqual(expect.arrayContaining(['test_runner', 'test_server', 'test_baseline']));
  });

  describe.concurrent('unittest modules', () => {
    for (const module of modules) {
      it(module, { timeout: 120_000 }, async () => {
        const { code, output } = await runModule(module);
        expect(code, output).toBe(0);
        expect(output).toMatch(/\nOK( \(skipped=\d+\))?\s*$/);
      });
    }
  });
});
