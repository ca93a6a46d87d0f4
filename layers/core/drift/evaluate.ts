/**
 * Per-feature and dataset drift verdicts for a current window against a baseline.
 *
 * Methods, defaults and `auto` follow Evidently (legacy stattests registry):
 *   numeric, > 5 distinct values:   KS (drift when p <= 0.05) if the reference has <= 1000 values,
 *                                   else Wasserstein / std(reference) (drift when >= 0.1);
 *   categorical, or numeric with <= 5 distinct values (reference ∪ current):
 *                                   chi-square (p < 0.05), the two-proportion Z-test (p < 0.05) for
 *                                   <= 2 categories, if the reference has <= 1000 values,
 *                                   else Jensen-Shannon distance (>= 0.1).
 * Dataset drift: at least one feature drifted and drifted / evaluated features >= datasetShare.
 */
import {
  createAccumulators,
  type DriftAccumulators,
  type FeatureAccumulator,
  type NumericAccumulator,
  PER_VALUE_MAX_DISTINCT,
  type ReferenceGrid,
} from './accumulate';
import { type Baseline, type CategoricalReference, type NumericReference, OTHER_CATEGORY } from './baseline';
import { ksTwoSamplePValue } from './kolmogorov';
import {
  type CategoryCounts,
  chiSquareHomogeneity,
  histogram,
  jensenShannon,
  linfCategorical,
  linfRobust,
  normalisedWasserstein,
  psi,
  shares,
  sturgesEdges,
  twoProportionZTest,
  wasserstein,
} from './stats';
import type { FeatureSpec, FeatureType } from './values';

export type DriftMethod = 'auto' | 'psi' | 'js' | 'ks' | 'wasserstein' | 'chi2' | 'linf';
/** The statistic actually computed for a feature (`z`: the two-proportion test `auto` picks). */
export type AppliedMethod = 'psi' | 'js' | 'ks' | 'wasserstein' | 'chi2' | 'z' | 'linf';

export const DRIFT_METHODS: readonly DriftMethod[] = [
  'auto',
  'psi',
  'js',
  'ks',
  'wasserstein',
  'chi2',
  'linf',
];

/** Default thresholds: p-value levels for the tests, distances for the rest. */
export const DEFAULT_THRESHOLDS: Record<AppliedMethod, number> = {
  ks: 0.05,
  chi2: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  psi: 0.1,
  js: 0.1,
  linf: 0.1,
};

export const DEFAULT_DATASET_SHARE = 0.5;
export const DEFAULT_MIN_RECORDS = 100;
/** Evidently's switch from tests to distances: reference sizes above this use distances. */
export const AUTO_SMALL_REFERENCE = 1000;

export interface MethodResult {
  statistic: number;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}

export interface FeatureDrift {
  name: string;
  type: FeatureType;
  method: AppliedMethod;
  /** null when the feature could not be evaluated (see `note`). */
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
  /** Reference values the statistic used (the sample size for KS, Wasserstein and L-infinity). */
  nReference: number;
  /** Current non-missing values. */
  nCurrent: number;
  missingCurrent: number;
  /** Current values that were not numbers in a numeric feature (excluded, like missing ones). */
  invalidCurrent: number;
  /** Why there is no verdict, how the method was chosen, or what was approximated. */
  note?: string;
}

export interface DriftReport {
  method: DriftMethod;
  features: FeatureDrift[];
  datasetDrift: {
    share: number;
    drifted: boolean;
    threshold: number;
    driftedFeatures: number;
    evaluatedFeatures: number;
  };
  /** Rows in the current window. */
  records: number;
  minRecords: number;
  /** Fewer than minRecords rows: no verdict (every `drifted` is false). */
  insufficientData: boolean;
}

export interface EvaluateDriftOptions {
  baseline: Baseline;
  /** Accumulators filled from the window (readCapture), or the rows themselves. */
  current: DriftAccumulators | Iterable<ArrayLike<unknown> | Record<string, unknown>>;
  /** Features to evaluate (default: the accumulators' features, else the baseline's). */
  features?: FeatureSpec[];
  method?: DriftMethod;
  /** One threshold for every feature (p-value level for ks/chi2/z); absent: each method's default. */
  threshold?: number;
  datasetShare?: number;
  minRecords?: number;
  /** L-infinity variant: Model Monitor's linf_simple (default) or linf_robust with c_α. */
  linf?: { robust?: boolean; cAlpha?: number };
}

export function evaluateDrift(options: EvaluateDriftOptions): DriftReport {
  const { baseline } = options;
  const method = options.method ?? 'auto';
  const datasetShare = options.datasetShare ?? DEFAULT_DATASET_SHARE;
  const minRecords = options.minRecords ?? DEFAULT_MIN_RECORDS;
  let accumulators: DriftAccumulators;
  if (isAccumulators(options.current)) {
    accumulators = options.current;
  } else {
    const features =
      options.features ?? baseline.features.map((f) => ({ name: f.name, type: f.type }) as FeatureSpec);
    accumulators = createAccumulators(baseline, features, { exactLimit: Infinity });
    for (const row of options.current) {
      if (Array.isArray(row) || ArrayBuffer.isView(row)) accumulators.addRow(row as ArrayLike<unknown>);
      else accumulators.addRecord(row as Record<string, unknown>);
    }
  }
  const features = options.features ?? accumulators.features;
  const references = new Map(baseline.features.map((f) => [f.name, f]));
  const insufficientData = accumulators.rows < minRecords;

  const results = features.map((feature): FeatureDrift => {
    const position = accumulators.positionOf(feature.name);
    const accumulator = position === undefined ? undefined : accumulators.accumulators[position];
    const reference = references.get(feature.name);
    const base = { name: feature.name, type: feature.type };
    if (!reference || reference.type !== feature.type || !accumulator) {
      const why = !reference
        ? `the baseline has no feature "${feature.name}"; regenerate the baseline with this feature or drop it from the feature list`
        : reference.type !== feature.type
          ? `the baseline has "${feature.name}" as ${reference.type}, the feature list as ${feature.type}; make the two agree`
          : `"${feature.name}" was not read from the current data`;
      const applied: AppliedMethod =
        method === 'auto' ? (feature.type === 'numeric' ? 'ks' : 'chi2') : method;
      return {
        ...base,
        method: applied,
        statistic: null,
        pValue: null,
        threshold: options.threshold ?? DEFAULT_THRESHOLDS[applied],
        drifted: false,
        nReference: 0,
        nCurrent: accumulator?.count ?? 0,
        missingCurrent: accumulator?.missing ?? 0,
        invalidCurrent: accumulator?.invalid ?? 0,
        note: why,
      };
    }
    const result =
      reference.type === 'numeric'
        ? evaluateNumeric(reference, accumulator as NumericAccumulator, method, options)
        : evaluateCategorical(reference, accumulator, method, options);
    if (insufficientData) result.drifted = false;
    return { ...base, ...result };
  });

  const evaluated = results.filter((r) => r.statistic !== null);
  const drifted = evaluated.filter((r) => r.drifted).length;
  const share = evaluated.length ? drifted / evaluated.length : 0;
  return {
    method,
    features: results,
    datasetDrift: {
      share,
      drifted: !insufficientData && drifted > 0 && share >= datasetShare,
      threshold: datasetShare,
      driftedFeatures: drifted,
      evaluatedFeatures: evaluated.length,
    },
    records: accumulators.rows,
    minRecords,
    insufficientData,
  };
}

function isAccumulators(value: unknown): value is DriftAccumulators {
  return typeof value === 'object' && value !== null && 'accumulators' in value && 'addRow' in value;
}

type FeatureOutcome = Omit<FeatureDrift, 'name' | 'type'>;

function verdict(
  method: AppliedMethod,
  statistic: number,
  pValue: number | null,
  threshold: number,
): boolean {
  if (method === 'ks') return pValue! <= threshold;
  if (method === 'chi2' || method === 'z') return pValue! < threshold;
  return statistic >= threshold;
}

function outcome(
  method: AppliedMethod,
  statistic: number | null,
  pValue: number | null,
  counts: { nReference: number; accumulator: FeatureAccumulator },
  options: EvaluateDriftOptions,
  note?: string,
): FeatureOutcome {
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  return {
    method,
    statistic,
    pValue,
    threshold,
    drifted: statistic === null ? false : verdict(method, statistic, pValue, threshold),
    nReference: counts.nReference,
    nCurrent: counts.accumulator.count,
    missingCurrent: counts.accumulator.missing,
    invalidCurrent: counts.accumulator.invalid,
    ...(note ? { note } : {}),
  };
}

const joinNotes = (...notes: (string | undefined)[]): string | undefined =>
  notes.filter(Boolean).join('; ') || undefined;

// ---------------------------------------------------------------------------------------------
// Numeric features

function evaluateNumeric(
  reference: NumericReference,
  current: NumericAccumulator,
  requested: DriftMethod,
  options: EvaluateDriftOptions,
): FeatureOutcome {
  const grid = current.grid;
  const referenceDistinct = grid.values.length;
  const extra = current.extraDistinct();
  // Distinct values in reference ∪ current, as far as `auto` needs to know (> 5 or not).
  const unionDistinct = referenceDistinct > 5 || extra === undefined ? Infinity : referenceDistinct + extra;
  const autoMethod: AppliedMethod =
    reference.count <= AUTO_SMALL_REFERENCE
      ? unionDistinct > 5
        ? 'ks'
        : unionDistinct > 2
          ? 'chi2'
          : 'z'
      : unionDistinct > 5
        ? 'wasserstein'
        : 'js';
  const method: AppliedMethod = requested === 'auto' ? autoMethod : requested;
  const sampleNote = reference.approximation;
  const noValues = (nReference: number) =>
    outcome(
      method,
      null,
      null,
      { nReference, accumulator: current },
      options,
      reference.count === 0
        ? 'the reference has no values for this feature; no comparison possible'
        : 'no current values (all missing or invalid); no comparison possible',
    );
  if (reference.count === 0 || current.count === 0 || grid.sampleSize === 0) return noValues(grid.sampleSize);

  switch (method) {
    case 'ks': {
      const d = ksFromGrid(grid, current);
      const p = ksTwoSamplePValue(d, grid.sampleSize, current.count);
      return outcome(
        'ks',
        p.statistic,
        p.pValue,
        { nReference: grid.sampleSize, accumulator: current },
        options,
        sampleNote,
      );
    }
    case 'linf': {
      const simple = ksFromGrid(grid, current);
      const statistic = options.linf?.robust
        ? linfRobust(simple, grid.sampleSize, current.count, options.linf.cAlpha)
        : simple;
      return outcome(
        'linf',
        statistic,
        null,
        { nReference: grid.sampleSize, accumulator: current },
        options,
        sampleNote,
      );
    }
    case 'wasserstein': {
      const exact = current.exactValues();
      let distance: number;
      let note = sampleNote;
      if (exact) distance = wasserstein(reference.sample, exact);
      else {
        const estimate = wassersteinFromGrid(grid, current);
        distance = estimate.distance;
        if (estimate.bound > 0)
          note = joinNotes(
            note,
            `Wasserstein estimated from the streaming summary (distance within ±${estimate.bound.toPrecision(2)})`,
          );
      }
      const std = reference.std ?? 0;
      return outcome(
        'wasserstein',
        normalisedWasserstein(distance, std),
        null,
        { nReference: grid.sampleSize, accumulator: current },
        options,
        joinNotes(
          note,
          std === 0 ? 'constant reference: distance divided by 0.001 instead of its std of 0' : undefined,
        ),
      );
    }
    case 'psi':
    case 'js': {
      const binned = numericShares(reference, current);
      const statistic =
        method === 'psi'
          ? psi(binned.reference, binned.current)
          : jensenShannon(binned.reference, binned.current);
      return outcome(
        method,
        statistic,
        null,
        { nReference: binned.nReference, accumulator: current },
        options,
        joinNotes(sampleNote, binned.note),
      );
    }
    case 'chi2':
    case 'z': {
      // Few distinct values: one category per value. Many: the baseline's quantile bins as categories.
      const perValue = referenceDistinct <= PER_VALUE_MAX_DISTINCT;
      const categories = perValue ? numericCategories(current) : binCategories(reference, current);
      const nReference = categories.reduce((s, c) => s + c.reference, 0);
      const counts = { nReference, accumulator: current };
      const binsNote = perValue
        ? undefined
        : `compared over the baseline's ${reference.counts.length} quantile bins as categories`;
      if (method === 'z') {
        const z = twoProportionZTest(categories);
        return outcome('z', z.statistic, z.pValue, counts, options, joinNotes(sampleNote, binsNote));
      }
      const chi = chiSquareHomogeneity(categories);
      return outcome(
        'chi2',
        chi.statistic,
        chi.pValue,
        counts,
        options,
        joinNotes(sampleNote, binsNote, chiNote(chi.groups)),
      );
    }
  }
}

/** sup |F_ref − F_cur| from the grid counts: equal to scipy's statistic on the full current data. */
export function ksFromGrid(grid: ReferenceGrid, current: NumericAccumulator): number {
  const n1 = grid.sampleSize;
  const n2 = current.count;
  const values = grid.values;
  let currentCumulative = 0;
  let previousReference = 0;
  let max = 0;
  let min = 0;
  const consider = (i: number, j: number) => {
    const diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  };
  for (let k = 0; k < values.length; k++) {
    if (current.between[k]! > 0) {
      currentCumulative += current.between[k]!;
      consider(previousReference, currentCumulative); // the largest current value below values[k]
    }
    currentCumulative += current.at[k]!;
    previousReference = grid.cumulative[k]!;
    consider(previousReference, currentCumulative);
  }
  return Math.max(max, Math.min(-min, 1));
}

/**
 * ∫ |F_ref − F_cur| from the grid summary. Exact in every interval where the two CDFs do not cross;
 * where they cross, the current values of that interval are placed at their mean (their offset sum
 * is exact), which errs by at most (values in the interval / n)·(interval width): `bound` adds those up.
 */
export function wassersteinFromGrid(
  grid: ReferenceGrid,
  current: NumericAccumulator,
): { distance: number; bound: number } {
  const n1 = grid.sampleSize;
  const n2 = current.count;
  const values = grid.values;
  const K = values.length;
  let distance = current.offsetSum[0]! / n2; // below the reference: F_ref = 0
  let bound = 0;
  let currentCumulative = current.between[0]! + current.at[0]!;
  for (let k = 1; k < K; k++) {
    const width = values[k]! - values[k - 1]!;
    const a = grid.cumulative[k - 1]! / n1;
    const c = currentCumulative / n2;
    const inside = current.between[k]!;
    const rise = inside / n2;
    const area = c * width + (inside * width - current.offsetSum[k]!) / n2; // ∫ F_cur over the interval
    if (a <= c) distance += area - a * width;
    else if (a >= c + rise) distance += a * width - area;
    else {
      const meanOffset = current.offsetSum[k]! / inside;
      distance += (a - c) * meanOffset + (c + rise - a) * (width - meanOffset);
      bound += rise * width;
    }
    currentCumulative += inside + current.at[k]!;
  }
  distance += current.offsetSum[K]! / n2; // above the reference: F_ref = 1
  return { distance, bound };
}

interface BinnedShares {
  reference: number[];
  current: number[];
  nReference: number;
  note?: string;
}

/**
 * Shares for PSI and JS. Evidently's binning when every value of both sides is at hand (Sturges
 * bins over reference ∪ current when the reference has > 20 distinct values, else one bin per
 * value); otherwise per value from the grid, or the baseline's quantile bins.
 */
function numericShares(reference: NumericReference, current: NumericAccumulator): BinnedShares {
  const grid = current.grid;
  const exact = reference.complete ? current.exactValues() : undefined;
  const perValue = grid.values.length <= PER_VALUE_MAX_DISTINCT;
  if (exact && !perValue) {
    const edges = sturgesEdges(reference.sample, exact);
    return {
      reference: shares(histogram(reference.sample, edges), reference.sample.length),
      current: shares(histogram(exact, edges), exact.length),
      nReference: reference.sample.length,
    };
  }
  if (perValue) {
    const categories = numericCategories(current);
    const nReference = grid.sampleSize;
    return {
      reference: categories.map((c) => c.reference / nReference),
      current: categories.map((c) => c.current / current.count),
      nReference,
      ...(current.extraOverflow > 0
        ? { note: `more than 1000 distinct new values: ${current.extraOverflow} values binned together` }
        : {}),
    };
  }
  const nReference = reference.counts.reduce((s, c) => s + c, 0);
  return {
    reference: shares(reference.counts, nReference),
    current: shares(current.binCounts, current.count),
    nReference,
    note: `binned on the baseline's ${reference.counts.length} quantile bins (values outside the reference range in the end bins)`,
  };
}

/** A numeric feature's values as categories: reference sample counts vs current counts per value. */
function numericCategories(current: NumericAccumulator): CategoryCounts[] {
  const grid = current.grid;
  const out: CategoryCounts[] = [];
  for (let k = 0; k < grid.values.length; k++) {
    const reference = grid.cumulative[k]! - (k > 0 ? grid.cumulative[k - 1]! : 0);
    out.push({ key: String(grid.values[k]), rank: grid.values[k]!, reference, current: current.at[k]! });
  }
  const exact = current.exactValues();
  if (exact) {
    const extra = new Map<number, number>();
    for (const v of exact) {
      const k = binaryFind(grid.values, v);
      if (k < 0) extra.set(v, (extra.get(v) ?? 0) + 1);
    }
    for (const [value, count] of extra)
      out.push({ key: String(value), rank: value, reference: 0, current: count });
  } else {
    for (const [value, count] of current.extraValues ?? [])
      out.push({ key: String(value), rank: value, reference: 0, current: count });
    const lumped = current.extraValues ? current.extraOverflow : current.count - sum(current.at);
    if (lumped > 0) out.push({ key: OTHER_CATEGORY, rank: Infinity, reference: 0, current: lumped });
  }
  return out;
}

/** The baseline's quantile bins as categories (bin i ranked i). */
function binCategories(reference: NumericReference, current: NumericAccumulator): CategoryCounts[] {
  return reference.counts.map((count, i) => ({
    key: `[${reference.edges[i]}, ${reference.edges[i + 1]}${i === reference.counts.length - 1 ? ']' : ')'}`,
    rank: i,
    reference: count,
    current: current.binCounts[i]!,
  }));
}

function binaryFind(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const sum = (values: ArrayLike<number>): number => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
};

function chiNote(groups: string[][]): string | undefined {
  const merged = groups.filter((g) => g.length > 1);
  if (!merged.length) return undefined;
  const shown = merged.map((g) => g.slice(0, 4).join('+') + (g.length > 4 ? `+${g.length - 4} more` : ''));
  return `sparse categories merged: ${shown.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Categorical features

function evaluateCategorical(
  reference: CategoricalReference,
  current: FeatureAccumulator,
  requested: DriftMethod,
  options: EvaluateDriftOptions,
): FeatureOutcome {
  const counts = (current as { counts: Map<string, number> }).counts;
  const categories = categoricalCounts(reference, counts);
  const nReference = reference.count;
  const union = categories.length;
  const autoMethod: AppliedMethod = nReference <= AUTO_SMALL_REFERENCE ? (union > 2 ? 'chi2' : 'z') : 'js';
  let method: AppliedMethod = requested === 'auto' ? autoMethod : requested;
  let note: string | undefined;
  if (method === 'ks' || method === 'wasserstein') {
    note = `${method} applies to numeric features only; used ${autoMethod} (auto) for this categorical feature`;
    method = autoMethod;
  }
  note = joinNotes(
    reference.approximation,
    note,
    reference.frequencies.has(OTHER_CATEGORY)
      ? `categories outside the baseline's kept categories counted as ${OTHER_CATEGORY}`
      : undefined,
  );
  const base = { nReference, accumulator: current };
  if (nReference === 0 || current.count === 0) {
    return outcome(
      method,
      null,
      null,
      base,
      options,
      joinNotes(
        note,
        nReference === 0
          ? 'the reference has no values for this feature; no comparison possible'
          : 'no current values (all missing); no comparison possible',
      ),
    );
  }
  switch (method) {
    case 'chi2': {
      const chi = chiSquareHomogeneity(categories);
      return outcome('chi2', chi.statistic, chi.pValue, base, options, joinNotes(note, chiNote(chi.groups)));
    }
    case 'z': {
      const z = twoProportionZTest(categories);
      return outcome('z', z.statistic, z.pValue, base, options, note);
    }
    case 'psi':
    case 'js': {
      const ref = categories.map((c) => c.reference / nReference);
      const cur = categories.map((c) => c.current / current.count);
      return outcome(
        method,
        method === 'psi' ? psi(ref, cur) : jensenShannon(ref, cur),
        null,
        base,
        options,
        note,
      );
    }
    case 'linf': {
      const simple = linfCategorical(categories);
      const statistic = options.linf?.robust
        ? linfRobust(simple, nReference, current.count, options.linf.cAlpha)
        : simple;
      return outcome('linf', statistic, null, base, options, note);
    }
    default:
      throw new Error(`unreachable method ${method}`);
  }
}

/**
 * Union of categories. When the baseline lumped its rare categories under __other__, current
 * categories it does not list are counted there too, so like is compared with like.
 */
function categoricalCounts(reference: CategoricalReference, current: Map<string, number>): CategoryCounts[] {
  const lumpUnknown = reference.frequencies.has(OTHER_CATEGORY);
  const merged = new Map<string, CategoryCounts>();
  for (const [key, count] of reference.frequencies) merged.set(key, { key, reference: count, current: 0 });
  for (const [rawKey, count] of current) {
    const key = lumpUnknown && !reference.frequencies.has(rawKey) ? OTHER_CATEGORY : rawKey;
    const entry = merged.get(key) ?? { key, reference: 0, current: 0 };
    entry.current += count;
    merged.set(key, entry);
  }
  return [...merged.values()];
}
