import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the real `nbops` launcher (bin/nbops.js) as a user would, from the repository root. */
export function nbops(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['bin/nbops.js', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
