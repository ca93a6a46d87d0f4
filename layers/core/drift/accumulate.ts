/**
 * Streaming summaries of the current window, built against a baseline so memory stays bounded
 * however many records the window holds.
 *
 * Numeric feature, per value (O(log K) for K distinct reference sample values, K <= 10,000):
 * - a count on the "grid" of the reference sample's distinct values: how many current values equal
 *   each reference value and how many fall strictly between two neighbours (with the sum of their
 *   offsets). From it the KS statistic (and L-infinity) against the reference sample is EXACT, and the
 *   Wasserstein distance is exact except inside intervals where the two CDFs cross, where it is
 *   estimated with a stated bound;
 * - a histogram over the baseline's quantile bins (values outside fold into the first/last bin);
 * - the exact values themselves while there are at most `exactLimit` of them, so small windows give
 *   exactly the scipy/Evidently results;
 * - for features whose reference has few distinct values (<= 20), the counts of current values
 *   that are not reference values (up to 1,000 distinct), for per-value PSI/JS/chi-square.
 * Categorical feature: counts per category (up to 100,000 distinct; the rest counted as __other__).
 */
import { type Baseline, type NumericReference, OTHER_CATEGORY, type ReferenceFeature } from './baseline';
import { type FeatureSpec, INVALID, toCategory, toNumber } from './values';

/** Values kept exactly per numeric feature before switching to the summaries alone. */
export const DEFAULT_EXACT_LIMIT = 10_000;
/** Reference features with at most this many distinct values are binned per value (Evidently). */
export const PER_VALUE_MAX_DISTINCT = 20;
const MAX_EXTRA_VALUES = 1_000;
const MAX_CATEGORIES = 100_000;
const CHUNK = 16_384;

/** The reference sample's distinct values and cumulative counts, shared by every accumulator. */
export interface ReferenceGrid {
  values: Float64Array;
  /** Reference sample values <= values[k]. */
  cumulative: Float64Array;
  sampleSize: number;
}

const grids = new WeakMap<NumericReference, ReferenceGrid>();

/** Values in `sorted` that are <= value. Monomorphic on Float64Array: this runs for every value. */
function upperBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function referenceGrid(reference: NumericReference): ReferenceGrid {
  let grid = grids.get(reference);
  if (grid) return grid;
  const sample = reference.sample;
  const values: number[] = [];
  const cumulative: number[] = [];
  for (let i = 0; i < sample.length; i++) {
    if (i > 0 && sample[i] === sample[i - 1]) cumulative[cumulative.length - 1] = i + 1;
    else {
      values.push(sample[i]!);
      cumulative.push(i + 1);
    }
  }
  grid = {
    values: Float64Array.from(values),
    cumulative: Float64Array.from(cumulative),
    sampleSize: sample.length,
  };
  grids.set(reference, grid);
  return grid;
}

export class NumericAccumulator {
  readonly kind = 'numeric';
  count = 0;
  missing = 0;
  invalid = 0;
  min = Infinity;
  max = -Infinity;
  readonly grid: ReferenceGrid;
  /** Current values equal to grid value k. */
  readonly at: Float64Array;
  /** Current values strictly between grid values k−1 and k (k = 0: below all, k = K: above all). */
  readonly between: Float64Array;
  /** Σ (x − grid[k−1]) over those values (k = 0: Σ (grid[0] − x)). */
  readonly offsetSum: Float64Array;
  /** Counts over the baseline's quantile bins (outside values folded into the end bins). */
  readonly binCounts: Float64Array;
  private readonly edges: Float64Array;
  /** Current values that are not reference values, for per-value binning (few-valued features). */
  readonly extraValues: Map<number, number> | undefined;
  extraOverflow = 0;
  private chunks: Float64Array[] | undefined = [];
  private filled = 0;
  private sorted: Float64Array | undefined;

  constructor(
    readonly name: string,
    readonly reference: NumericReference,
    readonly exactLimit: number = DEFAULT_EXACT_LIMIT,
  ) {
    this.grid = referenceGrid(reference);
    const k = this.grid.values.length;
    this.at = new Float64Array(k);
    this.between = new Float64Array(k + 1);
    this.offsetSum = new Float64Array(k + 1);
    this.edges = Float64Array.from(reference.edges);
    this.binCounts = new Float64Array(Math.max(reference.edges.length - 1, 0));
    this.extraValues = k <= PER_VALUE_MAX_DISTINCT ? new Map() : undefined;
    if (exactLimit <= 0) this.chunks = undefined;
  }

  add(raw: unknown): void {
    const value = toNumber(raw);
    if (value === INVALID) {
      this.invalid++;
      return;
    }
    if (Number.isNaN(value)) {
      this.missing++;
      return;
    }
    this.addNumber(value);
  }

  /** A finite number (callers have already classified it). */
  addNumber(value: number): void {
    this.count++;
    this.sorted = undefined;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const grid = this.grid.values;
    const k = upperBound(grid, value); // grid[k−1] <= value < grid[k]
    if (k > 0 && grid[k - 1] === value) this.at[k - 1]!++;
    else {
      this.between[k]!++;
      this.offsetSum[k]! += k === 0 ? grid[0]! - value : value - grid[k - 1]!;
      const extra = this.extraValues;
      if (extra) {
        const seen = extra.get(value);
        if (seen !== undefined) extra.set(value, seen + 1);
        else if (extra.size < MAX_EXTRA_VALUES) extra.set(value, 1);
        else this.extraOverflow++;
      }
    }
    const edges = this.edges;
    if (edges.length > 1) {
      let bin = upperBound(edges, value) - 1; // edges[bin] <= value < edges[bin+1]
      if (bin < 0) bin = 0;
      if (bin > edges.length - 2) bin = edges.length - 2;
      this.binCounts[bin]!++;
    }
    if (this.chunks) {
      if (this.count > this.exactLimit) {
        this.chunks = undefined; // past the limit: the summaries alone describe the window
        return;
      }
      let chunk = this.chunks[this.chunks.length - 1];
      if (!chunk || this.filled === chunk.length) {
        chunk = new Float64Array(CHUNK);
        this.chunks.push(chunk);
        this.filled = 0;
      }
      chunk[this.filled++] = value;
    }
  }

  /** Every current value, ascending, or undefined once the window outgrew `exactLimit`. */
  exactValues(): Float64Array | undefined {
    if (!this.chunks) return undefined;
    if (this.sorted) return this.sorted;
    const out = new Float64Array(this.count);
    let offset = 0;
    this.chunks.forEach((chunk, i) => {
      const length = i === this.chunks!.length - 1 ? this.filled : chunk.length;
      out.set(chunk.subarray(0, length), offset);
      offset += length;
    });
    this.sorted = out.sort();
    return this.sorted;
  }

  /** Distinct current values that are not reference values, when known (undefined: too many). */
  extraDistinct(): number | undefined {
    const exact = this.exactValues();
    if (exact) {
      const grid = this.grid.values;
      let distinct = 0;
      for (let i = 0; i < exact.length; i++) {
        if (i > 0 && exact[i] === exact[i - 1]) continue;
        const k = upperBound(grid, exact[i]!);
        if (!(k > 0 && grid[k - 1] === exact[i])) distinct++;
      }
      return distinct;
    }
    if (this.extraValues && this.extraOverflow === 0) return this.extraValues.size;
    return undefined;
  }
}

export class CategoricalAccumulator {
  readonly kind = 'categorical';
  count = 0;
  missing = 0;
  invalid = 0;
  readonly counts = new Map<string, number>();

  constructor(readonly name: string) {}

  add(raw: unknown): void {
    const category = toCategory(raw);
    if (category === undefined) {
      this.missing++;
      return;
    }
    this.count++;
    const seen = this.counts.get(category);
    if (seen !== undefined) this.counts.set(category, seen + 1);
    else if (this.counts.size < MAX_CATEGORIES) this.counts.set(category, 1);
    else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + 1);
  }
}

export type FeatureAccumulator = NumericAccumulator | CategoricalAccumulator;

/** One accumulator per feature, fed row by row. */
export class DriftAccumulators {
  /** Rows (feature vectors) added. */
  rows = 0;
  readonly accumulators: (FeatureAccumulator | undefined)[];
  private readonly positions: Map<string, number>;

  constructor(
    readonly features: FeatureSpec[],
    readonly baseline: Baseline,
    readonly exactLimit: number = DEFAULT_EXACT_LIMIT,
  ) {
    const byName = new Map<string, ReferenceFeature>(baseline.features.map((f) => [f.name, f]));
    this.positions = new Map(features.map((f, i) => [f.name, i]));
    this.accumulators = features.map((feature) => {
      const reference = byName.get(feature.name);
      if (!reference || reference.type !== feature.type) return undefined; // reported by evaluateDrift
      return reference.type === 'numeric'
        ? new NumericAccumulator(feature.name, reference, exactLimit)
        : new CategoricalAccumulator(feature.name);
    });
  }

  /** A row with values in feature order (CSV columns, JSON arrays). */
  addRow(values: ArrayLike<unknown>): void {
    this.rows++;
    const accumulators = this.accumulators;
    for (let i = 0; i < accumulators.length; i++) accumulators[i]?.add(values[i]);
  }

  /** A row given as an object keyed by feature name. */
  addRecord(record: Record<string, unknown>): void {
    this.rows++;
    const accumulators = this.accumulators;
    for (let i = 0; i < accumulators.length; i++) accumulators[i]?.add(record[this.features[i]!.name]);
  }

  positionOf(name: string): number | undefined {
    return this.positions.get(name);
  }
}

export function createAccumulators(
  baseline: Baseline,
  features: FeatureSpec[],
  options: { exactLimit?: number } = {},
): DriftAccumulators {
  return new DriftAccumulators(features, baseline, options.exactLimit ?? DEFAULT_EXACT_LIMIT);
}
