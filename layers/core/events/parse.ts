/**
 * Shared pieces of the event parsers: a typed error for events no retry can fix, field readers that
 * name the path of what is missing, the EventBridge envelope, and defensive timestamp parsing.
 * Pure functions over plain JSON: no Lambda types, no AWS clients.
 */

/**
 * An event that cannot be turned into a use-case input (a field is missing or has the wrong type,
 * or the event reached the wrong handler). Retrying delivers the same bytes, so handlers log it and
 * return `{kind: 'ignored'}` instead of throwing.
 */
export class EventParseError extends Error {
  readonly code = 'EVENT_PARSE';
  constructor(
    /** What the parser expected, e.g. `SageMaker Training Job State Change`. */
    readonly expected: string,
    /** Path of the offending field in the event, e.g. `detail.TrainingJobName`. */
    readonly field: string,
    /** What is wrong with it, e.g. `is missing`. */
    readonly problem: string,
  ) {
    super(`${expected} event: ${field || '(event)'} ${problem}`);
    this.name = 'EventParseError';
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads fields of one object and reports problems with their full path. */
export class FieldReader {
  constructor(
    readonly expected: string,
    readonly value: Json,
    readonly path: string,
  ) {}

  static of(expected: string, value: unknown, path = ''): FieldReader {
    if (!isObject(value))
      throw new EventParseError(expected, path, `must be a JSON object, got ${describe(value)}`);
    return new FieldReader(expected, value, path);
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  error(key: string, problem: string): EventParseError {
    return new EventParseError(this.expected, this.at(key), problem);
  }

  fail(key: string, problem: string): never {
    throw this.error(key, problem);
  }

  object(key: string): FieldReader {
    const v = this.value[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    return FieldReader.of(this.expected, v, this.at(key));
  }

  optionalObject(key: string): FieldReader | undefined {
    const v = this.value[key];
    return v === undefined || v === null ? undefined : FieldReader.of(this.expected, v, this.at(key));
  }

  string(key: string): string {
    const v = this.value[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${describe(v)}`);
    if (v === '') this.fail(key, 'is empty');
    return v;
  }

  optionalString(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${describe(v)}`);
    return v;
  }

  /** A number, or a string holding one (AWS events carry both). */
  number(key: string): number {
    const v = this.value[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(key, `must be a number, got ${describe(v)}`);
    return n;
  }

  array(key: string): unknown[] {
    const v = this.value[key];
    if (v === undefined || v === null) this.fail(key, 'is missing');
    if (!Array.isArray(v)) this.fail(key, `must be a list, got ${describe(v)}`);
    return v;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The fields of an EventBridge envelope every parser needs. */
export interface Envelope {
  id: string;
  /** ISO-8601. */
  time: string;
  source: string;
  detailType: string;
  detail: FieldReader;
}

/**
 * Reads an EventBridge envelope and checks it is one of the expected detail-types from `source`.
 * A different source or detail-type means the event reached the wrong handler (a wiring mistake),
 * which retrying cannot fix either.
 */
export function readEnvelope(
  event: unknown,
  expected: string,
  source: string,
  detailTypes: readonly string[],
): Envelope {
  const e = FieldReader.of(expected, event);
  const actualSource = e.string('source');
  if (actualSource !== source)
    e.fail('source', `is ${describe(actualSource)}; this handler takes "${source}"`);
  const detailType = e.string('detail-type');
  if (!detailTypes.includes(detailType))
    e.fail(
      'detail-type',
      `is ${describe(detailType)}; this handler takes ${detailTypes.map((t) => `"${t}"`).join(' or ')}`,
    );
  const time = isoTime(e.value.time);
  if (time === undefined) throw e.error('time', `must be an ISO-8601 time, got ${describe(e.value.time)}`);
  return { id: e.string('id'), time, source: actualSource, detailType, detail: e.object('detail') };
}

/**
 * A timestamp from an AWS event as ISO-8601, or undefined when absent or unreadable. Accepts epoch
 * milliseconds as a number or a numeric string (`"1583831889050"`, `1592411992203.0`), epoch seconds
 * (values below 1e11, i.e. before 1973 in milliseconds), and ISO strings (including CloudWatch's
 * `+0000` offsets).
 */
export function isoTime(value: unknown): string | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) ms = Number(text);
    else {
      // `2019-10-01T13:56:40.987+0000` is not ISO; Date.parse needs the colon in the offset.
      const parsed = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (!Number.isNaN(parsed)) ms = parsed;
    }
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  if (Math.abs(ms) < 1e11) ms *= 1000;
  const date = new Date(Math.round(ms));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
