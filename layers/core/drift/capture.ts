/**
 * Reads SageMaker data capture (JSONL, one record per line) for a time window and feeds the
 * request payloads into drift accumulators. Streaming: files are read chunk by chunk and split into
 * lines as they arrive, so memory depends on the longest line, never on the window.
 *
 * Record: {"captureData": {"endpointInput": {"observedContentType", "mode", "data", "encoding"}, ...},
 *          "eventMetadata": {"eventId", "inferenceTime", "inferenceId"?}, "eventVersion": "0"}
 * Keys:   <prefix>yyyy/mm/dd/hh/<file>.jsonl by the UTC hour of invocation.
 * Bad lines and rows are counted with a reason and skipped; they never end the evaluation.
 */
import type { ObjectStore } from '../ports';
import { createAccumulators, type DriftAccumulators } from './accumulate';
import type { Baseline } from './baseline';
import { parseCsv } from './csv';
import type { FeatureSpec } from './values';

/** SageMaker payloads are at most 6 MB, base64 adds a third, JSON escaping a little more. */
export const DEFAULT_MAX_LINE_CHARS = 16 * 1024 * 1024;
const MAX_EXAMPLES = 20;

export interface CaptureStats {
  /** .jsonl files read. */
  files: number;
  /** Keys under the hour prefixes that are not .jsonl files (ignored). */
  ignoredKeys: number;
  bytes: number;
  lines: number;
  /** Capture records inside the window. */
  records: number;
  /** Feature rows fed to the accumulators (a request may hold several). */
  rows: number;
  /** Records outside [from, to) (files hold a whole hour; the window may not). */
  outsideWindow: number;
  /** Lines or rows skipped, by reason. */
  skipped: Record<string, number>;
  /** The first skipped lines, to find them: file, 1-based line, reason. */
  examples: { file: string; line: number; reason: string }[];
}

export interface CaptureDecodeOptions {
  /** Payload columns (CSV, JSON arrays) or keys (JSON objects), in payload order. */
  features: FeatureSpec[];
  /** Used for BASE64 payloads whose observedContentType is neither CSV nor JSON. */
  contentType?: string;
  from?: Date;
  to?: Date;
}

type PayloadKind = 'csv' | 'json' | 'jsonlines';

function payloadKind(contentType: string | undefined): PayloadKind | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (media === 'text/csv' || media === 'application/csv') return 'csv';
  if (
    media === 'application/jsonlines' ||
    media === 'application/x-jsonlines' ||
    media === 'application/jsonl'
  )
    return 'jsonlines';
  if (media === 'application/json' || media.endsWith('+json')) return 'json';
  return undefined;
}

export function emptyCaptureStats(): CaptureStats {
  return {
    files: 0,
    ignoredKeys: 0,
    bytes: 0,
    lines: 0,
    records: 0,
    rows: 0,
    outsideWindow: 0,
    skipped: {},
    examples: [],
  };
}

interface CaptureFields {
  data: unknown;
  encoding: unknown;
  contentType: unknown;
  time: unknown;
}

// Fast path for capture lines as SageMaker (and the nbops runtime) write them: compact JSON whose
// objects hold only string values. Reading the few fields drift needs with indexOf is several times
// cheaper than JSON.parse of the whole record, which dominated the run time. Any other shape
// (whitespace, numbers, nesting, odd keys) returns undefined and goes through JSON.parse.

const INPUT_PREFIX = '{"captureData":{"endpointInput":';
const KEEP_NOTHING = 0;
const KEEP_INPUT = 1;
const KEEP_METADATA = 2;

/** Index of the quote closing the JSON string whose content starts at `from`, or -1. */
function stringEnd(line: string, from: number): number {
  let end = line.indexOf('"', from);
  while (end !== -1) {
    let backslashes = 0;
    while (end - 1 - backslashes >= from && line.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if ((backslashes & 1) === 0) return end;
    end = line.indexOf('"', end + 1);
  }
  return -1;
}

/** The value of the JSON string line[from, end) (unescaped), or undefined if invalid. */
function stringValue(line: string, from: number, end: number): string | undefined {
  const raw = line.slice(from, end);
  if (raw.indexOf('\\') === -1) return raw;
  try {
    return JSON.parse(line.slice(from - 1, end + 1)) as string;
  } catch {
    return undefined;
  }
}

/**
 * A compact object of string values starting at line[pos] === '{'; keeps the members `keep`
 * names in `fields`. Returns the index after its '}', or -1 when the shape is anything else.
 */
function compactObject(line: string, pos: number, keep: number, fields: CaptureFields): number {
  if (line.charCodeAt(pos) !== 123) return -1;
  pos++;
  if (line.charCodeAt(pos) === 125) return pos + 1;
  for (;;) {
    if (line.charCodeAt(pos) !== 34) return -1;
    const keyEnd = line.indexOf('"', pos + 1);
    if (keyEnd === -1 || line.charCodeAt(keyEnd + 1) !== 58 || line.charCodeAt(keyEnd + 2) !== 34) return -1;
    const key = line.slice(pos + 1, keyEnd);
    if (key.indexOf('\\') !== -1) return -1;
    const valueStart = keyEnd + 3;
    const valueEnd = stringEnd(line, valueStart);
    if (valueEnd === -1) return -1;
    const wanted =
      keep === KEEP_INPUT
        ? key === 'data' || key === 'encoding' || key === 'observedContentType'
        : keep === KEEP_METADATA && key === 'inferenceTime';
    if (wanted) {
      const value = stringValue(line, valueStart, valueEnd);
      if (value === undefined) return -1; // a bad escape: JSON.parse reports the line
      if (key === 'data') fields.data = value;
      else if (key === 'encoding') fields.encoding = value;
      else if (key === 'observedContentType') fields.contentType = value;
      else fields.time = value;
    }
    pos = valueEnd + 1;
    const next = line.charCodeAt(pos);
    if (next === 125) return pos + 1;
    if (next !== 44) return -1;
    pos++;
  }
}

/** The fields of a canonical capture line, or undefined (then JSON.parse decides). */
export function fastCaptureFields(line: string): CaptureFields | undefined {
  if (!line.startsWith(INPUT_PREFIX)) return undefined;
  const fields: CaptureFields = {
    data: undefined,
    encoding: undefined,
    contentType: undefined,
    time: undefined,
  };
  let pos = compactObject(line, INPUT_PREFIX.length, KEEP_INPUT, fields);
  // Rest of captureData (endpointOutput), then the rest of the record (eventMetadata, eventVersion).
  for (let level = 0; level < 2; level++) {
    for (;;) {
      if (pos === -1) return undefined;
      const c = line.charCodeAt(pos);
      if (c === 125) {
        pos++;
        break;
      }
      if (c !== 44 || line.charCodeAt(pos + 1) !== 34) return undefined;
      const keyEnd = line.indexOf('"', pos + 2);
      if (keyEnd === -1 || line.charCodeAt(keyEnd + 1) !== 58) return undefined;
      const key = line.slice(pos + 2, keyEnd);
      const valueStart = keyEnd + 2;
      const open = line.charCodeAt(valueStart);
      if (open === 123) {
        const keep = level === 1 && key === 'eventMetadata' ? KEEP_METADATA : KEEP_NOTHING;
        if (level === 0 && key === 'endpointInput') return undefined; // duplicate: let JSON.parse decide
        pos = compactObject(line, valueStart, keep, fields);
      } else if (open === 34) {
        const end = stringEnd(line, valueStart + 1);
        pos = end === -1 ? -1 : end + 1;
      } else return undefined;
    }
  }
  return pos === line.length ? fields : undefined;
}

const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;

/** Milliseconds of `YYYY-MM-DDTHH:MM:SS[.fff]Z` (SageMaker's form) without Date.parse; else Date.parse. */
function parseTime(text: string, cache: { prefix: string; ms: number }): number {
  if (text.length >= 20 && text.charCodeAt(10) === 84 && text.charCodeAt(text.length - 1) === 90) {
    const hour = text.slice(0, 13);
    if (hour !== cache.prefix) {
      const ms = Date.parse(`${hour}:00:00Z`);
      if (Number.isNaN(ms)) return Date.parse(text);
      cache.prefix = hour;
      cache.ms = ms;
    }
    const minutes = digit(text, 14) * 10 + digit(text, 15);
    const seconds = digit(text, 17) * 10 + digit(text, 18);
    if (
      text.charCodeAt(13) === 58 &&
      text.charCodeAt(16) === 58 &&
      minutes >= 0 &&
      minutes < 60 &&
      seconds >= 0 &&
      seconds < 61
    ) {
      if (text.length === 20) return cache.ms + minutes * 60_000 + seconds * 1000;
      if (text.charCodeAt(19) === 46) {
        const fraction = Number(`0${text.slice(19, -1)}`);
        if (!Number.isNaN(fraction))
          return cache.ms + minutes * 60_000 + seconds * 1000 + Math.floor(fraction * 1000);
      }
    }
  }
  return Date.parse(text);
}

/** Turns capture lines into accumulator rows, counting what it skips and why. */
export class CaptureDecoder {
  readonly stats: CaptureStats = emptyCaptureStats();
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly featureNames: Set<string>;
  private readonly fallbackKind: PayloadKind | undefined;
  private readonly timeCache = { prefix: '', ms: 0 };

  constructor(
    readonly accumulators: DriftAccumulators,
    private readonly options: CaptureDecodeOptions,
  ) {
    this.fromMs = options.from ? options.from.getTime() : -Infinity;
    this.toMs = options.to ? options.to.getTime() : Infinity;
    this.featureNames = new Set(options.features.map((f) => f.name));
    this.fallbackKind = payloadKind(options.contentType);
  }

  skip(reason: string, file: string, line: number, count = 1): void {
    this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + count;
    if (this.stats.examples.length < MAX_EXAMPLES) this.stats.examples.push({ file, line, reason });
  }

  /** One line of a capture file (without its line break). */
  line(text: string, file: string, lineNumber: number): void {
    this.stats.lines++;
    if (text.length === 0 || (text.length < 8 && text.trim() === '')) return;
    const fields = fastCaptureFields(text) ?? this.parseLine(text, file, lineNumber);
    if (!fields) return;
    if (typeof fields.data !== 'string') {
      this.skip('not a capture record: no captureData.endpointInput.data', file, lineNumber);
      return;
    }
    const time = fields.time;
    if (typeof time !== 'string') {
      this.skip('no eventMetadata.inferenceTime', file, lineNumber);
      return;
    }
    const ms = parseTime(time, this.timeCache);
    if (Number.isNaN(ms)) {
      this.skip('eventMetadata.inferenceTime is not an ISO-8601 time', file, lineNumber);
      return;
    }
    if (ms < this.fromMs || ms >= this.toMs) {
      this.stats.outsideWindow++;
      return;
    }
    const input = { data: fields.data, encoding: fields.encoding, observedContentType: fields.contentType };
    this.stats.records++;
    const observed = typeof input.observedContentType === 'string' ? input.observedContentType : undefined;
    let data = input.data;
    let kind: PayloadKind | undefined;
    switch (input.encoding) {
      case 'CSV':
        kind = 'csv';
        break;
      case 'JSON':
        kind = payloadKind(observed) === 'jsonlines' ? 'jsonlines' : 'json';
        break;
      case 'BASE64': {
        kind = payloadKind(observed) ?? this.fallbackKind;
        if (!kind) {
          this.skip(
            `BASE64 payload of content type "${observed ?? ''}" is neither CSV nor JSON (set serving.contentType)`,
            file,
            lineNumber,
          );
          return;
        }
        data = Buffer.from(data, 'base64').toString('utf8');
        break;
      }
      default:
        this.skip(`unsupported encoding ${JSON.stringify(input.encoding)}`, file, lineNumber);
        return;
    }
    if (kind === 'csv') this.csvRows(data, file, lineNumber);
    else if (kind === 'jsonlines') {
      for (const part of data.split('\n')) if (part.trim() !== '') this.jsonPayload(part, file, lineNumber);
    } else this.jsonPayload(data, file, lineNumber);
  }

  /** The fields drift needs from one capture record (invalid JSON is reported and skipped). */
  private parseLine(text: string, file: string, lineNumber: number): CaptureFields | undefined {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      this.skip('line is not valid JSON', file, lineNumber);
      return undefined;
    }
    const r = record as {
      captureData?: { endpointInput?: { data?: unknown; encoding?: unknown; observedContentType?: unknown } };
      eventMetadata?: { inferenceTime?: unknown };
    } | null;
    const input = r && typeof r === 'object' ? r.captureData?.endpointInput : undefined;
    return {
      data: input && typeof input === 'object' ? input.data : undefined,
      encoding: input && typeof input === 'object' ? input.encoding : undefined,
      contentType: input && typeof input === 'object' ? input.observedContentType : undefined,
      time: r && typeof r === 'object' ? r.eventMetadata?.inferenceTime : undefined,
    };
  }

  private csvRows(data: string, file: string, lineNumber: number): void {
    const width = this.options.features.length;
    const accumulators = this.accumulators;
    // One row without quotes, the common case.
    if (data.indexOf('\n') === -1 && data.indexOf('"') === -1) {
      const fields = data.split(',');
      if (fields.length !== width) this.columnMismatch(fields.length, file, lineNumber);
      else {
        accumulators.addRow(fields);
        this.stats.rows++;
      }
      return;
    }
    // Several rows without quotes: split lines without building the records list.
    if (!data.includes('"')) {
      let start = 0;
      while (start <= data.length) {
        let end = data.indexOf('\n', start);
        if (end === -1) end = data.length;
        let row = data.slice(start, end);
        if (row.endsWith('\r')) row = row.slice(0, -1);
        start = end + 1;
        if (row === '') continue;
        const fields = row.split(',');
        if (fields.length !== width) this.columnMismatch(fields.length, file, lineNumber);
        else {
          accumulators.addRow(fields);
          this.stats.rows++;
        }
      }
      return;
    }
    for (const fields of parseCsv(data)) {
      if (fields.length !== width) this.columnMismatch(fields.length, file, lineNumber);
      else {
        accumulators.addRow(fields);
        this.stats.rows++;
      }
    }
  }

  private columnMismatch(columns: number, file: string, lineNumber: number): void {
    this.skip(
      `CSV row has ${columns} columns, the feature list ${this.options.features.length} (list every payload column in serving.features)`,
      file,
      lineNumber,
    );
  }

  private jsonPayload(text: string, file: string, lineNumber: number): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.skip('payload is not valid JSON', file, lineNumber);
      return;
    }
    this.jsonValue(value, file, lineNumber, 0);
  }

  /**
   * JSON payload shapes: an object keyed by feature name; an array of values in feature order; an
   * array of such rows; {"instances": [...]} (SageMaker's JSON format) or {"features": [...]} with
   * values in feature order, unless a feature is itself called instances/features.
   */
  private jsonValue(value: unknown, file: string, lineNumber: number, depth: number): void {
    const width = this.options.features.length;
    if (Array.isArray(value)) {
      if (value.length === 0) return;
      const nested = value.every((v) => Array.isArray(v) || (typeof v === 'object' && v !== null));
      if (nested && depth < 2) {
        for (const item of value) this.jsonValue(item, file, lineNumber, depth + 1);
        return;
      }
      if (value.length !== width) {
        this.skip(
          `JSON row has ${value.length} values, the feature list ${width} (list every payload value in serving.features)`,
          file,
          lineNumber,
        );
        return;
      }
      this.accumulators.addRow(value);
      this.stats.rows++;
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const object = value as Record<string, unknown>;
      if (Array.isArray(object.instances) && !this.featureNames.has('instances') && depth < 2) {
        this.jsonValue(object.instances, file, lineNumber, depth + 1);
        return;
      }
      if (Array.isArray(object.features) && !this.featureNames.has('features')) {
        this.jsonValue(object.features, file, lineNumber, 2);
        return;
      }
      this.accumulators.addRecord(object);
      this.stats.rows++;
      return;
    }
    this.skip('JSON payload is neither an object nor an array', file, lineNumber);
  }
}

/** Splits a byte stream into lines (UTF-8, \n or \r\n) and hands each to the decoder. */
export async function readCaptureStream(
  source: AsyncIterable<Uint8Array>,
  file: string,
  decoder: CaptureDecoder,
  maxLineChars = DEFAULT_MAX_LINE_CHARS,
): Promise<void> {
  const text = new TextDecoder('utf-8');
  let carry = '';
  let lineNumber = 0;
  let skippingLongLine = false;
  const emit = (line: string) => {
    lineNumber++;
    if (skippingLongLine) {
      skippingLongLine = false;
      decoder.stats.lines++;
      decoder.skip(`line longer than ${maxLineChars} characters`, file, lineNumber);
      return;
    }
    decoder.line(line.endsWith('\r') ? line.slice(0, -1) : line, file, lineNumber);
  };
  for await (const chunk of source) {
    decoder.stats.bytes += chunk.byteLength;
    let piece = text.decode(chunk, { stream: true });
    if (carry) {
      piece = carry + piece;
      carry = '';
    }
    let start = 0;
    let newline = piece.indexOf('\n', start);
    while (newline !== -1) {
      emit(piece.slice(start, newline));
      start = newline + 1;
      newline = piece.indexOf('\n', start);
    }
    const rest = start === 0 ? piece : piece.slice(start);
    if (skippingLongLine) continue;
    if (rest.length > maxLineChars) skippingLongLine = true;
    else carry = rest;
  }
  const last = carry + text.decode();
  if (last.length > 0 || skippingLongLine) emit(last);
  decoder.stats.files++;
}

/** Hour folders `<prefix>yyyy/mm/dd/hh/` whose hour overlaps [from, to). */
export function captureHourPrefixes(prefix: string, from: Date, to: Date): string[] {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const hour = 3_600_000;
  const out: string[] = [];
  for (let t = Math.floor(from.getTime() / hour) * hour; t < to.getTime(); t += hour) {
    const d = new Date(t);
    const pad = (n: number) => String(n).padStart(2, '0');
    out.push(
      `${base}${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`,
    );
  }
  return out;
}

export interface ReadCaptureOptions extends CaptureDecodeOptions {
  bucket: string;
  /** captureKeyPrefix(endpoint, variant) from core/layout. */
  prefix: string;
  from: Date;
  to: Date;
  /** Accumulators to feed; built from `baseline` when absent. */
  accumulators?: DriftAccumulators;
  baseline?: Baseline;
  /** Current values kept exactly per numeric feature (default 10,000). */
  exactLimit?: number;
  maxLineChars?: number;
  /** Capture GETs kept open ahead of the file being read (default CAPTURE_PREFETCH; 0 = one at a time). */
  prefetch?: number;
}

/**
 * How many capture GETs run ahead of the file being parsed, and how many hour folders are listed
 * at once. On S3 each request waits tens of milliseconds for its first byte; one after another,
 * that wait adds up over the hundreds of files of a day's capture. Files are still read in order,
 * so the result is the same.
 */
export const CAPTURE_PREFETCH = 4;

export interface CaptureWindow {
  accumulators: DriftAccumulators;
  stats: CaptureStats;
}

const MISSING_OBJECT = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);

/** Streams every capture file of the window [from, to) into drift accumulators. */
export async function readCapture(store: ObjectStore, options: ReadCaptureOptions): Promise<CaptureWindow> {
  const accumulators =
    options.accumulators ??
    (options.baseline
      ? createAccumulators(options.baseline, options.features, { exactLimit: options.exactLimit })
      : undefined);
  if (!accumulators) throw new Error('readCapture needs a baseline or accumulators to feed');
  const decoder = new CaptureDecoder(accumulators, options);
  const ahead = Math.max(0, Math.floor(options.prefetch ?? CAPTURE_PREFETCH));
  const hours = captureHourPrefixes(options.prefix, options.from, options.to);
  const listed = await inOrder(hours, Math.max(1, ahead), async (hourPrefix) => {
    const keys: string[] = [];
    for await (const object of store.list(options.bucket, hourPrefix)) keys.push(object.key);
    return keys;
  });
  const keys: string[] = [];
  for (const key of listed.flat()) {
    if (key.endsWith('.jsonl')) keys.push(key);
    else decoder.stats.ignoredKeys++;
  }

  // GETs settle into values (never rejected promises left waiting), `ahead` of the file being read.
  type Opened = { key: string; stream?: AsyncIterable<Uint8Array>; error?: unknown };
  const open = (key: string): Promise<Opened> =>
    store.getStream({ bucket: options.bucket, key }).then(
      (stream) => ({ key, stream }),
      (error: unknown) => ({ key, error }),
    );
  const opening: Promise<Opened>[] = [];
  let next = 0;
  const refill = (inFlight: number) => {
    while (opening.length < inFlight && next < keys.length) opening.push(open(keys[next++]!));
  };
  refill(Math.max(1, ahead));
  try {
    for (;;) {
      refill(1);
      const pending = opening.shift();
      if (!pending) break;
      const opened = await pending;
      if (opened.error !== undefined) {
        // Deleted between list and get (lifecycle expiry): nothing to read.
        if (MISSING_OBJECT.has((opened.error as Error).name)) {
          decoder.skip('capture file disappeared before it was read', opened.key, 0);
          continue;
        }
        throw opened.error;
      }
      refill(ahead);
      await readCaptureStream(opened.stream!, opened.key, decoder, options.maxLineChars);
    }
  } finally {
    // After a failure, release the GETs already opened ahead (their sockets).
    for (const pending of opening) void pending.then((o) => o.stream && discard(o.stream));
  }
  return { accumulators, stats: decoder.stats };
}

/** `fn` over the items with at most `limit` running at once; results in the items' order. */
async function inOrder<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Closes a body nobody will read: Node streams have destroy(), other iterables return(). */
function discard(stream: AsyncIterable<Uint8Array>): void {
  const destroyable = stream as { destroy?: () => void };
  if (typeof destroyable.destroy === 'function') destroyable.destroy();
  else void stream[Symbol.asyncIterator]().return?.();
}
