/**
 * Turning raw feature values (CSV text, JSON values) into numbers and categories, with the same
 * missing-value rules as the runtime's save_baseline: None/null, empty or blank strings, NaN and,
 * for numeric features, ±inf are missing; numeric strings such as "3.5" are numbers.
 */

export type FeatureType = 'numeric' | 'categorical';

export interface FeatureSpec {
  name: string;
  type: FeatureType;
}

/** A numeric value that is missing (NaN) or could not be parsed (INVALID). */
export const INVALID = Symbol('invalid');

const NUMBER_CHARS = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING_WORDS = new Set([
  'nan',
  '+nan',
  '-nan',
  'inf',
  '+inf',
  '-inf',
  'infinity',
  '+infinity',
  '-infinity',
]);

/** A decimal number as Python's float() reads it (underscores aside); NaN when missing. */
export function parseNumber(text: string): number | typeof INVALID {
  // Fast path for what almost every payload holds ("12", "-0.5", "1e-3"): the number conversion
  // itself, guarded against what it accepts and Python does not (hex/binary/octal, empty text).
  const c0 = text.charCodeAt(0);
  if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 46 || c0 === 43) {
    const c1 = text.charCodeAt(1);
    if (!(c1 === 120 || c1 === 88 || c1 === 98 || c1 === 66 || c1 === 111 || c1 === 79)) {
      const value = +text;
      if (!Number.isNaN(value)) return Number.isFinite(value) ? value : Number.NaN;
    }
  }
  const trimmed = text.trim();
  if (trimmed === '') return Number.NaN;
  if (MISSING_WORDS.has(trimmed.toLowerCase())) return Number.NaN;
  if (!NUMBER_CHARS.test(trimmed)) return INVALID;
  const value = +trimmed;
  return Number.isFinite(value) ? value : Number.NaN;
}

/** A finite number, NaN when the value is missing or non-finite, INVALID when it is not a number. */
export function toNumber(value: unknown): number | typeof INVALID {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'string') {
    const parsed = parseNumber(value);
    return parsed === INVALID || Number.isFinite(parsed) ? parsed : Number.NaN;
  }
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return INVALID;
}

/** A category as the runtime writes it (trimmed strings, booleans true/false); undefined when missing. */
export function toCategory(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/** Reads a features list: [{name, type}], {features: [...]} or a manifest {serving: {features}}. */
export function readFeatureList(document: unknown, source = 'features'): FeatureSpec[] {
  let list: unknown = document;
  if (list && typeof list === 'object' && !Array.isArray(list)) {
    const record = list as Record<string, unknown>;
    if (Array.isArray(record.features)) list = record.features;
    else if (record.serving && typeof record.serving === 'object')
      list = (record.serving as Record<string, unknown>).features;
  }
  if (!Array.isArray(list)) {
    throw new Error(
      `${source}: expected a list of features like [{"name": "age", "type": "numeric"}] (or an object with a "features" list); write the feature list in that form`,
    );
  }
  const seen = new Set<string>();
  return list.map((item, index) => {
    const entry = item as Record<string, unknown> | null;
    const name = entry && typeof entry === 'object' ? entry.name : undefined;
    const type = entry && typeof entry === 'object' ? entry.type : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new Error(
        `${source}: features[${index}] needs a non-empty string "name"; add the feature's name`,
      );
    }
    if (type !== 'numeric' && type !== 'categorical') {
      throw new Error(
        `${source}: features[${index}] ("${name}") has type ${JSON.stringify(type)}; set "type" to "numeric" or "categorical"`,
      );
    }
    if (seen.has(name))
      throw new Error(`${source}: feature "${name}" is listed twice; list each feature once`);
    seen.add(name);
    return { name, type };
  });
}
