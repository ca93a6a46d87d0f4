/**
 * The Python runtime as a deploy-time asset: its files and their content hash, computed with the
 * same runtimeHash the handlers' requests use, so `runtime/<hash>/nbops_runtime/` in the bucket is
 * exactly what NBOPS_RUNTIME_HASH points training jobs at.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isRuntimeFile, type RuntimeFile, runtimeHash } from '#core/sagemaker/runtime-hash';

/** The runtime files under `packageDir` (the nbops_runtime folder), paths `/`-separated. */
export function runtimeFiles(packageDir: string): RuntimeFile[] {
  const files: RuntimeFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const path = relative(packageDir, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (isRuntimeFile(`${path}/x`)) walk(full);
      } else if (entry.isFile() && isRuntimeFile(path)) {
        files.push({ path, content: readFileSync(full) });
      }
    }
  };
  walk(packageDir);
  if (files.length === 0) throw new Error(`${packageDir} holds no runtime files; is the checkout complete?`);
  return files;
}

/** The published runtime's hash (the `<hash>` in `runtime/<hash>/`). */
export function runtimeHashOf(packageDir: string): string {
  return runtimeHash(runtimeFiles(packageDir));
}

/** Glob patterns the asset leaves out: the same files isRuntimeFile rejects. */
export const RUNTIME_ASSET_EXCLUDE = ['__pycache__', '*.pyc'];
