/**
 * The content hash of the Python runtime (layers/runtime/nbops_runtime): the runtime is published
 * under runtime/<hash>/ so a training job always reads the exact code it was planned with, and a
 * changed runtime never overwrites the one running jobs use.
 */
import { createHash } from 'node:crypto';

/** Used by `nbops plan` when the runtime files are not available (an installed CLI without them). */
export const RUNTIME_HASH_PLACEHOLDER = '0'.repeat(64);

export interface RuntimeFile {
  /** Path relative to the runtime package folder, `/`-separated, e.g. `runner.py`. */
  path: string;
  content: Uint8Array | string;
}

/** Files that belong in the published runtime: no bytecode caches. */
export function isRuntimeFile(path: string): boolean {
  return !path.split('/').includes('__pycache__') && !path.endsWith('.pyc');
}

/**
 * SHA-256 (hex) over the runtime files sorted by path: each contributes its path, a NUL, its
 * length and its bytes, so renaming or moving content between files changes the hash too.
 */
export function runtimeHash(files: readonly RuntimeFile[]): string {
  const hash = createHash('sha256');
  const sorted = files
    .filter((f) => isRuntimeFile(f.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    hash.update(`${file.path}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
