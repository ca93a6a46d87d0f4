/**
 * Drift statistics on plain arrays and counts. Each function states the reference implementation
 * it matches; scripts/drift_reference.py computes the same quantities with scipy/numpy and the
 * unit tests compare the two to 1e-9 relative.
 *
 * Sorted inputs are ascending Float64Arrays without NaN (callers drop missing values first).
 */
import { ksTwoSamplePValue } from './kolmogorov';
import { CompensatedSum, chiSquareSf, normalTwoSided } from './special';

/** Values of `a` that are <= `value` (a sorted ascending): numpy searchsorted(a, value, 'right'). */
export function countAtMost(a: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Values of `a` that are < `value` (a sorted ascending): numpy searchsorted(a, value, 'left'). */
export function countBelow(a: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of distinct values in a sorted array. */
export function distinctCount(sorted: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) count++;
  return count;
}

/**
 * Two-sample Kolmogorov-Smirnov statistic sup_x |F_a(x) − F_b(x)| (scipy.stats.ks_2samp's `statistic`
 * before the exact method's rounding): the empirical CDFs compared at every observed value.
 */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let max = 0;
  let min = 0;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= value) i++;
    while (j < n2 && b[j]! <= value) j++;
    const diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  }
  return Math.max(max, Math.min(-min, 1));
}

export interface KsResult {
  statistic: number;
  pValue: number;
  pMethod: 'exact' | 'asymp';
}

/** scipy.stats.ks_2samp(a, b) with the defaults (two-sided, method='auto'). */
export function ksTest(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const p = ksTwoSamplePValue(ksStatistic(a, b), a.length, b.length);
  return { statistic: p.statistic, pValue: p.pValue, pMethod: p.method };
}

/** First Wasserstein distance between two samples (scipy.stats.wasserstein_distance). */
export function wasserstein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  const sum = new CompensatedSum();
  let i = 0;
  let j = 0;
  let previous = Number.NaN;
  let previousGap = 0;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    if (!Number.isNaN(previous)) sum.add(previousGap * (value - previous));
    while (i < n1 && a[i]! <= value) i++;
    while (j < n2 && b[j]! <= value) j++;
    previousGap = Math.abs(i / n1 - j / n2);
    previous = value;
  }
  return sum.value;
}

/** Evidently's normaliser: the reference's population standard deviation, at least 0.001. */
export const WASSERSTEIN_MIN_NORM = 0.001;

export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sum = new CompensatedSum();
  for (let i = 0; i < n; i++) sum.add(values[i]!);
  const mean = sum.value / n;
  const squares = new CompensatedSum();
  for (let i = 0; i < n; i++) squares.add((values[i]! - mean) ** 2);
  return Math.sqrt(squares.value / n);
}

/** Wasserstein distance divided by max(std(reference), 0.001) (Evidently's `wasserstein`). */
export function normalisedWasserstein(distance: number, referenceStd: number): number {
  return distance / Math.max(referenceStd, WASSERSTEIN_MIN_NORM);
}

/**
 * numpy.histogram_bin_edges(values, bins='sturges') for the values of a and b together: equal-width
 * bins over [min, max], ceil(range / (range / (log2(n) + 1))) of them.
 */
export function sturgesEdges(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const size = a.length + b.length;
  let first = Math.min(a.length ? a[0]! : Infinity, b.length ? b[0]! : Infinity);
  let last = Math.max(a.length ? a[a.length - 1]! : -Infinity, b.length ? b[b.length - 1]! : -Infinity);
  const range = last - first;
  const width = range / (Math.log2(size) + 1);
  const bins = width ? Math.ceil(range / width) : 1;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const step = (last - first) / bins;
  const edges: number[] = [];
  for (let i = 0; i < bins; i++) edges.push(i * step + first);
  edges.push(last);
  return edges;
}

/**
 * Counts per bin (numpy.histogram with explicit edges): bin i holds edges[i] <= x < edges[i+1], the
 * last bin also x == edges[last]; values outside [edges[0], edges[last]] are not counted.
 */
export function histogram(sorted: ArrayLike<number>, edges: ArrayLike<number>): number[] {
  const counts: number[] = [];
  const last = edges.length - 1;
  for (let i = 0; i < last; i++) {
    const start = countBelow(sorted, edges[i]!);
    const end = i + 1 === last ? countAtMost(sorted, edges[last]!) : countBelow(sorted, edges[i + 1]!);
    counts.push(end - start);
  }
  return counts;
}

/**
 * Evidently's empty-bin rule for PSI: zero shares become 1e-4, or the smallest non-zero share / 1e6
 * when that share is itself <= 1e-4 (so the filler stays far below every real share).
 */
export function fillZeroShares(shares: number[]): number[] {
  let smallest = Infinity;
  for (const s of shares) if (s !== 0 && s < smallest) smallest = s;
  if (smallest === Infinity) return shares.slice();
  const filler = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  return shares.map((s) => (s === 0 ? filler : s));
}

/** Shares of each bin: count / total, as Evidently's get_binned_data computes them. */
export function shares(counts: ArrayLike<number>, total: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < counts.length; i++) out.push(counts[i]! / total);
  return out;
}

/** Population stability index Σ (ref% − cur%)·ln(ref% / cur%) with Evidently's empty-bin filler. */
export function psi(referenceShares: number[], currentShares: number[]): number {
  const r = fillZeroShares(referenceShares);
  const c = fillZeroShares(currentShares);
  const sum = new CompensatedSum();
  for (let i = 0; i < r.length; i++) sum.add((r[i]! - c[i]!) * Math.log(r[i]! / c[i]!));
  return sum.value;
}

/** x·ln(x/y) with scipy.special.rel_entr's conventions for zeros. */
function relativeEntropyTerm(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * Jensen-Shannon DISTANCE with base-2 logarithms (scipy.spatial.distance.jensenshannon(p, q, base=2)):
 * the square root of the divergence, 0 for identical and 1 for disjoint distributions.
 */
export function jensenShannon(p: number[], q: number[]): number {
  const sp = p.reduce((s, v) => s + v, 0);
  const sq = q.reduce((s, v) => s + v, 0);
  const left = new CompensatedSum();
  const right = new CompensatedSum();
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const m = (pi + qi) / 2;
    left.add(relativeEntropyTerm(pi, m));
    right.add(relativeEntropyTerm(qi, m));
  }
  const divergence = (left.value + right.value) / Math.log(2);
  return Math.sqrt(Math.max(divergence, 0) / 2);
}

export interface CategoryCounts {
  key: string;
  reference: number;
  current: number;
  /** Sort position for numeric values compared as categories (numeric order, as Python sorts floats). */
  rank?: number;
}

/** Compares category keys by Unicode code point (Python's string order). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; ) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

/** Categories in Python's sorted() order: numbers numerically, strings by code point. */
export function compareCategories(
  x: { key: string; rank?: number },
  y: { key: string; rank?: number },
): number {
  if (x.rank !== undefined && y.rank !== undefined && x.rank !== y.rank) return x.rank < y.rank ? -1 : 1;
  return compareKeys(x.key, y.key);
}

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
  /** Categories after merging sparse ones (each a list of the original keys). */
  groups: string[][];
}

/** Below this expected count a category is sparse (Yates, Moore & McCabe; Deequ's default 5). */
export const CHI2_MIN_EXPECTED = 5;
/** Share of categories allowed to be sparse before merging starts (Deequ's default 0.2). */
export const CHI2_SPARSE_SHARE = 0.2;

/**
 * Chi-square test of homogeneity of the reference and current category counts
 * (scipy.stats.chi2_contingency([reference, current], correction=False) on the merged table).
 *
 * Sparse categories are merged first as Deequ does: while more than 20% of the categories have an
 * expected count below 5 (in the smaller sample), the category with the fewest observations is
 * merged into the next fewest. Unlike Deequ, merging stops at two categories (so two disjoint
 * categories are still tested instead of being merged into one) and categories the reference never
 * saw are kept, not dropped.
 */
export function chiSquareHomogeneity(categories: CategoryCounts[]): ChiSquareResult {
  let columns = categories
    .filter((c) => c.reference + c.current > 0)
    .sort(compareCategories)
    .map((c) => ({ key: c.key, rank: c.rank, keys: [c.key], reference: c.reference, current: c.current }));
  let nReference = 0;
  let nCurrent = 0;
  for (const c of columns) {
    nReference += c.reference;
    nCurrent += c.current;
  }
  const total = nReference + nCurrent;
  const smallerRow = Math.min(nReference, nCurrent);
  while (columns.length > 2) {
    const sparse = columns.filter(
      (c) => (smallerRow * (c.reference + c.current)) / total < CHI2_MIN_EXPECTED,
    );
    if (sparse.length <= Math.floor(CHI2_SPARSE_SHARE * columns.length)) break;
    const order = [...columns].sort(
      (x, y) => x.reference + x.current - (y.reference + y.current) || compareCategories(x, y),
    );
    const smallest = order[0]!;
    const next = order[1]!;
    next.keys.push(...smallest.keys);
    next.reference += smallest.reference;
    next.current += smallest.current;
    columns = columns.filter((c) => c !== smallest);
  }
  const groups = columns.map((c) => c.keys);
  if (columns.length < 2 || nReference === 0 || nCurrent === 0) {
    return { statistic: 0, pValue: 1, degreesOfFreedom: 0, groups };
  }
  const statistic = new CompensatedSum();
  for (const c of columns) {
    const columnTotal = c.reference + c.current;
    const expectedReference = (nReference * columnTotal) / total;
    const expectedCurrent = (nCurrent * columnTotal) / total;
    statistic.add((c.reference - expectedReference) ** 2 / expectedReference);
    statistic.add((c.current - expectedCurrent) ** 2 / expectedCurrent);
  }
  const degreesOfFreedom = columns.length - 1;
  const value = statistic.value;
  return { statistic: value, pValue: chiSquareSf(value, degreesOfFreedom), degreesOfFreedom, groups };
}

export interface ZTestResult {
  statistic: number;
  pValue: number;
}

/**
 * Evidently's two-proportion Z-test for a feature with at most two categories: z for the share of
 * observations that are not the first category (in code-point order), pooled variance, and the
 * two-sided p-value 2·P(Z >= |z|). One category on both sides (nothing can differ) gives z = 0, p = 1.
 */
export function twoProportionZTest(categories: CategoryCounts[]): ZTestResult {
  const present = categories.filter((c) => c.reference + c.current > 0).sort(compareCategories);
  let n1 = 0;
  let n2 = 0;
  for (const c of present) {
    n1 += c.reference;
    n2 += c.current;
  }
  if (present.length < 2 || n1 === 0 || n2 === 0) return { statistic: 0, pValue: 1 };
  const first = present[0]!;
  const p1 = (n1 - first.reference) / n1;
  const p2 = (n2 - first.current) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic: z, pValue: normalTwoSided(z) };
}

/** Deequ's categorical L-infinity distance: max over categories |share_ref − share_cur|. */
export function linfCategorical(categories: CategoryCounts[]): number {
  let n = 0;
  let m = 0;
  for (const c of categories) {
    n += c.reference;
    m += c.current;
  }
  let max = 0;
  for (const c of categories) max = Math.max(max, Math.abs(c.reference / n - c.current / m));
  return max;
}

/** Model Monitor's default c_α (α ≈ 0.003): c_α = sqrt(−ln(α/2)/2). */
export const LINF_DEFAULT_C_ALPHA = 1.8;

/** linf_robust: the simple distance minus the sampling allowance c_α·sqrt((n+m)/(n·m)), floored at 0. */
export function linfRobust(linfSimple: number, n: number, m: number, cAlpha = LINF_DEFAULT_C_ALPHA): number {
  return Math.max(0, linfSimple - cAlpha * Math.sqrt((n + m) / (n * m)));
}

/** Quantile with linear interpolation between order statistics (numpy's default), sorted input. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  const position = (n - 1) * p;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const fraction = position - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}
