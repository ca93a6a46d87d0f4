// Facts are compared by a hash of their canonical JSON, so "same value" does not depend on key order
// and the comparison can be a cheap string condition in the database.
import { createHash } from 'node:crypto';
import type { FactName, VersionFacts } from './types';

export const FACT_NAMES: readonly FactName[] = [
  'notebook',
  'manifestHash',
  'manifest',
  'dataRefs',
  'trainingImage',
  'trainingJob',
  'artifact',
  'baseline',
  'metrics',
  'gates',
  'validation',
  'reportUris',
  'billableSeconds',
  'servingImage',
  'deployment',
];

/** JSON with object keys sorted and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // fromEntries keeps even a "__proto__" key (from user JSON) as an ordinary member.
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, (value as Record<string, unknown>)[key]])
        .filter(([, member]) => member !== undefined)
        .map(([key, member]) => [key, sortKeys(member)]),
    );
  }
  return value;
}

export function factHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** The facts that are set (not undefined), in a stable order. */
export function presentFacts(facts: VersionFacts): [FactName, unknown][] {
  return FACT_NAMES.filter((name) => facts[name] !== undefined).map((name) => [name, facts[name]]);
}

/** A short stable id from parts, for audit and incident sort keys. */
export function stableId(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}
