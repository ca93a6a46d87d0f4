/**
 * tar archives the way SageMaker makes and reads model.tar.gz: POSIX ustar (PAX headers for long or
 * non-ASCII names), entries relative to the folder (`inference.py`, `code/x.py`, no `./`). Pure:
 * buffers in, buffers out (the local host's file-system helpers are in adapters/local/tar.ts).
 *
 * The reader also accepts what other tools write: GNU long names (`L`), PAX `path`/`size`, and
 * base-256 sizes. Links and devices are skipped; paths that would escape the folder fail.
 * `findTarEntry` streams a (gzipped) archive and keeps only the entry it looks for, so a
 * multi-gigabyte model.tar.gz never has to fit in memory to read its drift baseline.
 */
import { posix } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

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

/** One header block, read: what follows it and how many data bytes it has. */
type HeaderRecord =
  | { kind: 'end' }
  /** A PAX or GNU extension record: its data changes the next entry's path or size. */
  | { kind: 'extension'; type: string; size: number }
  | { kind: 'entry'; size: number; entry: Omit<TarEntry, 'data'> | undefined };

/**
 * Reads headers in order, carrying PAX / GNU long-name records over to the entry they describe.
 * Shared by the in-memory and the streaming reader so both read archives the same way.
 */
class HeaderReader {
  private nextPath: string | undefined;
  private nextSize: number | undefined;

  /** `offset` is only for messages. */
  header(block: Buffer, offset: number): HeaderRecord {
    if (block.every((b) => b === 0)) return { kind: 'end' };
    if (!checksumMatches(block))
      throw new TarError(`corrupt tar header at byte ${offset} (checksum mismatch); the archive is damaged`);
    const type = String.fromCharCode(block[156]!);
    const size = this.nextSize ?? readNumber(block, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K')
      return { kind: 'extension', type, size: readNumber(block, 124, 12) };
    const magic = readString(block, 257, 6);
    const prefix = magic.startsWith('ustar') ? readString(block, 345, 155) : '';
    const name = readString(block, 0, 100);
    const rawPath = this.nextPath ?? (prefix ? `${prefix}/${name}` : name);
    this.nextPath = undefined;
    this.nextSize = undefined;
    const path = safePath(rawPath);
    const mode = readNumber(block, 100, 8);
    const mtime = readNumber(block, 136, 12);
    let entry: Omit<TarEntry, 'data'> | undefined;
    if (path !== undefined && (type === '0' || type === '\0' || type === '7'))
      entry = { path, type: 'file', mode, mtime };
    else if (path !== undefined && type === '5') entry = { path, type: 'directory', mode, mtime };
    // hard links, symlinks, devices and FIFOs are not part of a model folder: skipped
    return { kind: 'entry', size, entry };
  }

  /** The data of an extension record, applied to the next entry. */
  extension(type: string, data: Buffer): void {
    if (type === 'x') {
      const pax = parsePax(data);
      if (pax.path !== undefined) this.nextPath = pax.path;
      if (pax.size !== undefined) this.nextSize = Number(pax.size);
    } else if (type === 'L') {
      this.nextPath = data.toString('utf8').replace(/\0.*$/s, '');
    }
  }
}

const paddedSize = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** Entries of an uncompressed tar archive (files and folders; links and devices skipped). */
export function readTar(archive: Uint8Array): TarEntry[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const reader = new HeaderReader();
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= buf.length) {
    const record = reader.header(buf.subarray(offset, offset + BLOCK), offset);
    if (record.kind === 'end') break;
    const dataStart = offset + BLOCK;
    if (dataStart + record.size > buf.length)
      throw new TarError(`truncated tar archive: an entry needs ${record.size} bytes past byte ${dataStart}`);
    const data = buf.subarray(dataStart, dataStart + record.size);
    offset = dataStart + paddedSize(record.size);
    if (record.kind === 'extension') reader.extension(record.type, data);
    else if (record.entry)
      entries.push({
        ...record.entry,
        data: record.entry.type === 'file' ? new Uint8Array(data) : new Uint8Array(),
      });
  }
  return entries;
}

/** Extension records (long names) are small; anything bigger is not one. */
const MAX_EXTENSION_BYTES = 1024 * 1024;

/**
 * Streams a tar archive (gzip-compressed or not, told apart by its first bytes) and returns the
 * first regular file whose path `matches`, or undefined when the archive has none. Other entries
 * are skipped as they stream past, so memory stays at one chunk plus the wanted file; reading stops
 * (and the source is closed) as soon as the file is complete. A wanted file over `maxBytes` is a
 * TarError, as are damaged and truncated archives.
 */
export async function findTarEntry(
  archive: AsyncIterable<Uint8Array>,
  matches: (path: string) => boolean,
  options: { maxBytes: number },
): Promise<TarEntry | undefined> {
  const source = new ByteSource(decompressed(archive));
  const reader = new HeaderReader();
  try {
    for (;;) {
      const at = source.offset;
      const block = await source.read(BLOCK);
      if (!block) return undefined; // no end-of-archive blocks: tolerated, as tar does
      const record = reader.header(block, at);
      if (record.kind === 'end') return undefined;
      const padding = paddedSize(record.size) - record.size;
      if (record.kind === 'extension') {
        if (record.size > MAX_EXTENSION_BYTES)
          throw new TarError(
            `a tar extension header of ${record.size} bytes at byte ${at}; the archive is damaged`,
          );
        reader.extension(record.type, await source.readExactly(record.size));
        await source.skip(padding);
      } else if (record.entry?.type === 'file' && matches(record.entry.path)) {
        if (record.size > options.maxBytes)
          throw new TarError(
            `${record.entry.path} is ${record.size} bytes in the archive; at most ${options.maxBytes} are read`,
          );
        return { ...record.entry, data: new Uint8Array(await source.readExactly(record.size)) };
      } else {
        await source.skip(record.size + padding);
      }
    }
  } finally {
    await source.close();
  }
}

/** Pull-style reads of exact byte counts from a stream of chunks. */
class ByteSource {
  offset = 0;
  private chunk: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Uint8Array>;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.iterator = chunks[Symbol.asyncIterator]();
  }

  /** Exactly n bytes; undefined at a clean end (no byte left); TarError when it ends midway. */
  async read(n: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (this.chunk.length === 0) {
        const next = await this.iterator.next();
        if (next.done) {
          if (got === 0) return undefined;
          throw new TarError(`truncated tar archive: it ends at byte ${this.offset}, inside an entry`);
        }
        this.chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        continue;
      }
      const take = Math.min(n - got, this.chunk.length);
      parts.push(this.chunk.subarray(0, take));
      this.chunk = this.chunk.subarray(take);
      got += take;
      this.offset += take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  async readExactly(n: number): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    const data = await this.read(n);
    if (!data) throw new TarError(`truncated tar archive: it ends at byte ${this.offset}, inside an entry`);
    return data;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.chunk.length === 0) {
        const next = await this.iterator.next();
        if (next.done)
          throw new TarError(`truncated tar archive: it ends at byte ${this.offset}, inside an entry`);
        this.chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        continue;
      }
      const take = Math.min(left, this.chunk.length);
      this.chunk = this.chunk.subarray(take);
      left -= take;
      this.offset += take;
    }
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** The archive's bytes, gunzipped (streaming) when they start with gzip's magic number. */
async function* decompressed(archive: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = archive[Symbol.asyncIterator]();
  // Enough bytes to see gzip's two-byte magic number, however the source is chunked.
  const start: Uint8Array[] = [];
  let have = 0;
  while (have < 2) {
    const next = await iterator.next();
    if (next.done) break;
    start.push(next.value);
    have += next.value.byteLength;
  }
  if (have === 0) return;
  const head = start.length === 1 ? start[0]! : Buffer.concat(start);
  async function* all(): AsyncGenerator<Uint8Array> {
    try {
      yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* all();
    return;
  }
  const gunzip = createGunzip();
  const input = Readable.from(all(), { objectMode: false });
  // pipeline destroys both streams when either fails or the consumer stops early.
  const done = new Promise<void>((resolve) => pipeline(input, gunzip, () => resolve()));
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    // zlib's own errors say the bytes are not gzip; anything else (the source failing) stays as is.
    if (String((error as { code?: unknown }).code ?? '').startsWith('Z_'))
      throw new TarError(`the archive is not valid gzip (${(error as Error).message})`);
    throw error;
  } finally {
    gunzip.destroy();
    input.destroy();
    await done;
  }
}
