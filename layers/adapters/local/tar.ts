/**
 * model.tar.gz the way SageMaker makes and reads it: a POSIX ustar archive (PAX headers for
 * long or non-ASCII names), gzip-compressed, entries relative to the folder (`inference.py`,
 * `code/x.py`, no `./`). The writer and reader are small and in-memory: fine for the model
 * folders notebooks produce locally (the reader refuses archives past a size cap).
 *
 * The reader also accepts what other tools write: GNU long names (`L`), PAX `path`/`size`, and
 * base-256 sizes. Links and devices are skipped; paths that would escape the target folder fail.
 */
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const BLOCK = 512;
/** Octal size fields hold 11 digits: 8 GiB minus one byte. */
const MAX_USTAR_SIZE = 8 * 1024 ** 3 - 1;

export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

export interface TarEntry {
  /** Relative POSIX path; directories without the trailing slash. */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  /** Modification time, whole seconds since the epoch. */
  mtime: number;
  /** File content (empty for directories). */
  data: Uint8Array;
}

// --- writing ------------------------------------------------------------------------------------

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8');
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits then NUL
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  // The length prefix counts its own digits.
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
  return `${length}${body}`;
}

/** Splits a long path into ustar's prefix (<=155 bytes) and name (<=100 bytes) at a slash. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '')
      return { prefix, name };
  }
  return undefined;
}

function header(fields: {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  type: string;
}): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, fields.name);
  writeOctal(h, 100, 8, fields.mode & 0o7777);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, fields.size);
  writeOctal(h, 136, 12, Math.max(0, Math.floor(fields.mtime)));
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(h, 156, 1, fields.type);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, fields.prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** An uncompressed ustar archive of the entries, in the order given. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const path = entry.type === 'directory' ? `${entry.path}/` : entry.path;
    const size = entry.type === 'directory' ? 0 : entry.data.byteLength;
    if (size > MAX_USTAR_SIZE)
      throw new TarError(`${entry.path} is ${size} bytes; this writer stores files up to 8 GiB`);
    const ascii = /^[\x20-\x7e]*$/.test(path);
    const split = ascii ? splitUstarPath(path) : undefined;
    if (!split) {
      const pax = Buffer.from(paxRecord('path', path), 'utf8');
      parts.push(
        header({
          name: `PaxHeader/${path.replace(/[^\x20-\x7e]/g, '_').slice(-80)}`,
          prefix: '',
          mode: 0o644,
          size: pax.byteLength,
          mtime: entry.mtime,
          type: 'x',
        }),
        pax,
        padding(pax.byteLength),
      );
    }
    const fallbackName = path.replace(/[^\x20-\x7e]/g, '_').slice(-100);
    parts.push(
      header({
        name: split?.name ?? fallbackName,
        prefix: split?.prefix ?? '',
        mode: entry.mode,
        size,
        mtime: entry.mtime,
        type: entry.type === 'directory' ? '5' : '0',
      }),
    );
    if (size > 0) parts.push(Buffer.from(entry.data.buffer, entry.data.byteOffset, size), padding(size));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

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

// --- reading ------------------------------------------------------------------------------------

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if ((field[0]! & 0x80) !== 0) {
    // GNU base-256: big-endian binary after the marker bit
    let value = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`bad number field "${text}" in a tar header`);
  return Number.parseInt(text, 8);
}

function checksumMatches(block: Buffer): boolean {
  const stored = readNumber(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) out[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return out;
}

/** A safe relative path, or a TarError for absolute paths and `..`. */
function safePath(raw: string): string | undefined {
  const normalized = posix.normalize(raw.replace(/\\/g, '/'));
  if (normalized === '.' || normalized === './' || normalized === '') return undefined;
  if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../'))
    throw new TarError(`the archive entry "${raw}" points outside the folder; refusing to extract it`);
  return normalized.replace(/\/+$/, '');
}

/** Entries of an uncompressed tar archive (files and folders; links and devices skipped). */
export function readTar(archive: Uint8Array): TarEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: TarEntry[] = [];
  let offset = 0;
  let nextPath: string | undefined;
  let nextSize: number | undefined;
  while (offset + BLOCK <= buf.length) {
    const block = buf.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    if (!checksumMatches(block))
      throw new TarError(`corrupt tar header at byte ${offset} (checksum mismatch); the archive is damaged`);
    const type = String.fromCharCode(block[156]!);
    const size = nextSize ?? readNumber(block, 124, 12);
    const dataStart = offset + BLOCK;
    if (dataStart + size > buf.length)
      throw new TarError(`truncated tar archive: an entry needs ${size} bytes past byte ${dataStart}`);
    const data = buf.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x') {
      const pax = parsePax(data);
      if (pax.path !== undefined) nextPath = pax.path;
      if (pax.size !== undefined) nextSize = Number(pax.size);
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      nextPath = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'K') continue;

    const magic = readString(block, 257, 6);
    const prefix = magic.startsWith('ustar') ? readString(block, 345, 155) : '';
    const name = readString(block, 0, 100);
    const rawPath = nextPath ?? (prefix ? `${prefix}/${name}` : name);
    nextPath = undefined;
    nextSize = undefined;
    const path = safePath(rawPath);
    if (path === undefined) continue;
    const mode = readNumber(block, 100, 8);
    const mtime = readNumber(block, 136, 12);
    if (type === '0' || type === '\0' || type === '7') {
      entries.push({ path, type: 'file', mode, mtime, data: new Uint8Array(data) });
    } else if (type === '5') {
      entries.push({ path, type: 'directory', mode, mtime, data: new Uint8Array() });
    }
    // hard links, symlinks, devices and FIFOs are not part of a model folder: skipped
  }
  return entries;
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
