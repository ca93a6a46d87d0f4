/** "Did you mean" suggestions for misspelt names, enum values and instance types. */

/** Edit distance between a and b, or Infinity once it exceeds `limit` (keeps long inputs cheap). */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return Number.POSITIVE_INFINITY;
    previous = current;
  }
  return previous[b.length]!;
}

/** Case, `_` and `-` differences do not count: `instance_type` matches `instanceType`. */
const normalize = (s: string) => s.toLowerCase().replace(/[_\-\s]/g, '');

/**
 * The candidate closest to `value`, when one is close enough to be a plausible typo; undefined
 * otherwise. Inputs longer than 100 characters get no suggestion (and cost nothing).
 */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  if (value.length === 0 || value.length > 100) return undefined;
  const wanted = normalize(value);
  const same = candidates.find((c) => normalize(c) === wanted);
  if (same !== undefined) return same;
  const limit = Math.max(1, Math.min(3, Math.floor(wanted.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = editDistance(wanted, normalize(candidate), limit);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Instance types: `g5.xlarge` -> `ml.g5.xlarge`; a wrong size keeps the family (`ml.g5.large` ->
 * `ml.g5.xlarge`, not `ml.m5.large`); a wrong family keeps the size.
 */
export function closestInstanceType(value: string, candidates: readonly string[]): string | undefined {
  if (value.length > 100) return undefined;
  const typed = value.trim().toLowerCase();
  const full = typed.startsWith('ml.') ? typed : `ml.${typed}`;
  if (candidates.includes(full)) return full;
  const [, family, size] = full.split('.');
  const sameFamily = candidates.filter((c) => c.split('.')[1] === family);
  if (sameFamily.length > 0 && size !== undefined) {
    const sizes = sameFamily.map((c) => c.split('.')[2] ?? '');
    const nearest = closest(size, sizes);
    if (nearest !== undefined) return `ml.${family}.${nearest}`;
  }
  return closest(full, candidates);
}
