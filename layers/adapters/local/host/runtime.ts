/**
 * Publishes the Python runtime to the local bucket as the AWS stack does at deploy time:
 * `runtime/<hash>/nbops_runtime/<file>`, with the same content hash (core/sagemaker/runtime-hash)
 * that the request builders put in every training job's `nbops-runtime` channel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { runtimePrefix } from '#core/layout';
import type { ObjectStore } from '#core/ports';
import { isRuntimeFile, type RuntimeFile, runtimeHash } from '#core/sagemaker/runtime-hash';
import { DEFAULT_RUNTIME_DIR } from '../processes';

/** The runtime package folder of this checkout (layers/runtime/nbops_runtime). */
export const RUNTIME_PACKAGE_DIR = join(DEFAULT_RUNTIME_DIR, 'nbops_runtime');

/** The runtime's files, paths relative to the package folder and `/`-separated. */
export function readRuntimeFiles(packageDir: string = RUNTIME_PACKAGE_DIR): RuntimeFile[] {
  const files: RuntimeFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const path = relative(packageDir, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (isRuntimeFile(`${path}/x`)) walk(full);
      } else if (entry.isFile() && isRuntimeFile(path)) files.push({ path, content: readFileSync(full) });
    }
  };
  walk(packageDir);
  if (files.length === 0) throw new Error(`${packageDir} holds no runtime files; is the checkout complete?`);
  return files;
}

/** Uploads the runtime (skipped when this exact runtime is already there); returns its hash. */
export async function publishRuntime(
  store: ObjectStore,
  bucket: string,
  packageDir: string = RUNTIME_PACKAGE_DIR,
): Promise<string> {
  const files = readRuntimeFiles(packageDir);
  const hash = runtimeHash(files);
  const prefix = `${runtimePrefix(hash)}nbops_runtime/`;
  const present = new Set<string>();
  for await (const object of store.list(bucket, prefix)) present.add(object.key.slice(prefix.length));
  for (const file of files)
    if (!present.has(file.path)) await store.put({ bucket, key: `${prefix}${file.path}` }, file.content);
  return hash;
}
