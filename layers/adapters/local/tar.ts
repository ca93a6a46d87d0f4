/**
 * model.tar.gz on the local host: archive a model folder the way SageMaker does (`tar czf - -C dir
 * .` without `./`) and extract one into a folder. The archive format itself (ustar + PAX, reading
 * and writing, streaming lookup) is pure and lives in core/archive/tar.ts; this file adds the file
 * system. In-memory: fine for the model folders notebooks produce locally.
 */
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { readTar, type TarEntry, TarError, tarArchive } from '#core/archive/tar';

export { findTarEntry, readTar, type TarEntry, TarError, tarArchive } from '#core/archive/tar';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Every regular file and folder under `dir`, sorted, as tar entries (symlinks are skipped). */
export async function directoryEntries(dir: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  async function walk(current: string): Promise<void> {
    const names = (await readdir(current)).sort();
    for (const name of names) {
      const full = join(current, name);
      const stat = await lstat(full);
      const path = relative(dir, full).split(sep).join('/');
      const mtime = Math.floor(stat.mtimeMs / 1000);
      if (stat.isDirectory()) {
        entries.push({ path, type: 'directory', mode: stat.mode & 0o7777, mtime, data: new Uint8Array() });
        await walk(full);
      } else if (stat.isFile()) {
        entries.push({ path, type: 'file', mode: stat.mode & 0o7777, mtime, data: await readFile(full) });
      }
    }
  }
  await walk(dir);
  return entries;
}

/** `tar czf - -C dir .` without the `./` prefix: what SageMaker uploads as model.tar.gz. */
export async function tarGzDirectory(dir: string): Promise<Buffer> {
  return gzipAsync(tarArchive(await directoryEntries(dir)));
}

/**
 * Extracts a .tar.gz (or plain .tar) into `dest`, creating it; returns the files written (relative
 * paths). Fails before writing anything when an entry would land outside `dest`.
 */
export async function extractTarGz(archive: Uint8Array, dest: string): Promise<string[]> {
  const isGzip = archive[0] === 0x1f && archive[1] === 0x8b;
  let tar: Uint8Array;
  try {
    tar = isGzip ? await gunzipAsync(archive) : archive;
  } catch (error) {
    throw new TarError(`the archive is not valid gzip (${(error as Error).message})`);
  }
  const entries = readTar(tar);
  const root = resolve(dest);
  await mkdir(root, { recursive: true });
  const written: string[] = [];
  for (const entry of entries) {
    const target = resolve(root, ...entry.path.split('/'));
    if (target !== root && !target.startsWith(root + sep))
      throw new TarError(
        `the archive entry "${entry.path}" points outside the folder; refusing to extract it`,
      );
    if (entry.type === 'directory') {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(resolve(target, '..'), { recursive: true });
    await writeFile(target, entry.data, { mode: (entry.mode & 0o777) | 0o600 });
    written.push(entry.path);
  }
  return written;
}
