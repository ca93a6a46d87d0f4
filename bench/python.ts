import { spawnSync } from 'node:child_process';

/** First interpreter that can import `module`: $NBOPS_PYTHON, Debian's /usr/bin/python3, then python3. */
export function findPython(module: string): string | undefined {
  const candidates = [process.env.NBOPS_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}
