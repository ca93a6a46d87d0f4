/**
 * The reference side of drift evaluation, in memory. Three sources fill the same type:
 *
 * - the runtime's `nbops-baseline/v1` (layers/runtime/README.md): quantile bins, a reservoir sample of
 *   up to 10,000 values and exact mean/std per numeric feature; frequencies per categorical one;
 * - SageMaker Model Monitor `statistics.json`, so existing baselines keep working. Its numeric
 *   features carry only a KLL sketch and 10 buckets, so the sample is a reconstruction: the
 *   sketch's items with their weights (2^level), or values spread evenly inside each bucket when
 *   there is no sketch, taken at evenly spaced ranks;
 * - raw rows (the CLI's reference CSV, tests): every value kept, so results equal scipy's exactly.
 */
import { histogram, populationStd, quantileSorted } from './stats';
import { type FeatureSpec, type FeatureType, INVALID, toCategory, toNumber } from './values';

export const BASELINE_FORMAT = 'nbops-baseline/v1';
export const SAMPLE_SIZE = 10_000;
export const QUANTILE_BINS = 20;
export const OTHER_CATEGORY = '__other__';

export interface NumericReference {
  name: string;
  type: 'numeric';
  /** Non-missing values in the reference data. */
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation (ddof 0) of the whole reference. */
  std: number | null;
  /** Quantile bin edges (strictly increasing; [v, v] for a constant feature) and counts per bin. */
  edges: number[];
  counts: number[];
  /** Reference values, ascending: a uniform sample, or every value when `complete`. */
  sample: Float64Array;
  complete: boolean;
  /** Set when the sample is reconstructed rather than observed (Model Monitor import). */
  approximation?: string;
}

export interface CategoricalReference {
  name: string;
  type: 'categorical';
  count: number;
  missing: number;
  frequencies: Map<string, number>;
  approximation?: string;
}

export type ReferenceFeature = NumericReference | CategoricalReference;

export interface Baseline {
  source: 'nbops-baseline/v1' | 'sagemaker-model-monitor' | 'rows';
  createdAt?: string;
  /** Rows in the reference data. */
  count: number;
  features: ReferenceFeature[];
}

/** A baseline document that cannot be used; `problems` name each field and the fix. */
export class BaselineError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a usable baseline:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'BaselineError';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads a baseline document of either supported format; throws BaselineError listing every problem. */
export function parseBaseline(document: unknown, source = 'baseline'): Baseline {
  if (isRecord(document) && document.format === BASELINE_FORMAT) return fromNbopsBaseline(document, source);
  if (isRecord(document) && document.version === 0 && Array.isArray(document.features))
    return fromModelMonitorStatistics(document, source);
  const format = isRecord(document) ? document.format : undefined;
  throw new BaselineError(source, [
    format !== undefined
      ? `format ${JSON.stringify(format)} is not supported; use "${BASELINE_FORMAT}" (written by save_baseline) or a Model Monitor statistics.json`
      : `not a baseline: expected {"format": "${BASELINE_FORMAT}", ...} (save_baseline in the notebook writes it) or a Model Monitor statistics.json ({"version": 0, "features": [...]})`,
  ]);
}

function fromNbopsBaseline(doc: Record<string, unknown>, source: string): Baseline {
  const problems: string[] = [];
  const fix = 'regenerate the baseline with save_baseline(rows, features)';
  if (!Array.isArray(doc.features) || doc.features.length === 0) {
    throw new BaselineError(source, [`features: expected a non-empty list; ${fix}`]);
  }
  const features: ReferenceFeature[] = [];
  doc.features.forEach((raw, index) => {
    const at = `features[${index}]`;
    if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') {
      problems.push(`${at}: expected an object with a non-empty "name"; ${fix}`);
      return;
    }
    const name = raw.name;
    const where = `${at} ("${name}")`;
    if (!isCount(raw.count) || !isCount(raw.missing)) {
      problems.push(`${where}: "count" and "missing" must be non-negative integers; ${fix}`);
      return;
    }
    if (raw.type === 'categorical') {
      if (!isRecord(raw.frequencies)) {
        problems.push(`${where}.frequencies: expected an object {category: count}; ${fix}`);
        return;
      }
      const frequencies = new Map<string, number>();
      for (const [key, value] of Object.entries(raw.frequencies)) {
        if (!isCount(value)) {
          problems.push(`${where}.frequencies["${key}"]: ${JSON.stringify(value)} is not a count; ${fix}`);
          return;
        }
        if (value > 0) frequencies.set(key, value);
      }
      features.push({ name, type: 'categorical', count: raw.count, missing: raw.missing, frequencies });
      return;
    }
    if (raw.type !== 'numeric') {
      problems.push(`${where}.type: ${JSON.stringify(raw.type)} is not "numeric" or "categorical"; ${fix}`);
      return;
    }
    const quantiles = isRecord(raw.quantiles) ? raw.quantiles : {};
    const edges = quantiles.edges;
    const counts = quantiles.counts;
    const sample = raw.sample;
    if (raw.count === 0) {
      features.push(emptyNumeric(name, raw.missing));
      return;
    }
    const stats = [raw.min, raw.max, raw.mean, raw.std];
    if (!stats.every(isFiniteNumber)) {
      problems.push(`${where}: min, max, mean and std must be numbers when count > 0; ${fix}`);
      return;
    }
    if (!Array.isArray(edges) || edges.length < 2 || !edges.every(isFiniteNumber)) {
      problems.push(`${where}.quantiles.edges: expected at least two numbers; ${fix}`);
      return;
    }
    const increasing =
      (edges.length === 2 && edges[0] === edges[1]) || edges.every((e, i) => i === 0 || e > edges[i - 1]!);
    if (!increasing) {
      problems.push(`${where}.quantiles.edges: edges must strictly increase (or be [v, v]); ${fix}`);
      return;
    }
    if (!Array.isArray(counts) || counts.length !== edges.length - 1 || !counts.every(isCount)) {
      problems.push(
        `${where}.quantiles.counts: expected ${edges.length - 1} counts (one per bin between the edges); ${fix}`,
      );
      return;
    }
    if (!Array.isArray(sample) || !sample.every(isFiniteNumber) || sample.length > raw.count) {
      problems.push(`${where}.sample: expected a list of at most ${raw.count} numbers; ${fix}`);
      return;
    }
    const feature: NumericReference = {
      name,
      type: 'numeric',
      count: raw.count,
      missing: raw.missing,
      min: raw.min as number,
      max: raw.max as number,
      mean: raw.mean as number,
      std: raw.std as number,
      edges: edges as number[],
      counts: counts as number[],
      sample: Float64Array.from(sample as number[]).sort(),
      complete: sample.length === raw.count,
    };
    if (sample.length === 0) {
      // An older or hand-written baseline without a sample: rebuild one from the quantile bins.
      feature.sample = sampleFromBuckets(
        feature.counts.map((count, i) => ({ lower: feature.edges[i]!, upper: feature.edges[i + 1]!, count })),
        Math.min(raw.count, SAMPLE_SIZE),
      );
      feature.complete = false;
      feature.approximation = 'sample reconstructed from the quantile bins (the baseline has none)';
    }
    features.push(feature);
  });
  if (problems.length) throw new BaselineError(source, problems);
  checkUniqueNames(features, source);
  return {
    source: 'nbops-baseline/v1',
    ...(typeof doc.createdAt === 'string' ? { createdAt: doc.createdAt } : {}),
    count: isCount(doc.count) ? doc.count : Math.max(0, ...features.map((f) => f.count + f.missing)),
    features,
  };
}

function emptyNumeric(name: string, missing: number): NumericReference {
  return {
    name,
    type: 'numeric',
    count: 0,
    missing,
    min: null,
    max: null,
    mean: null,
    std: null,
    edges: [],
    counts: [],
    sample: new Float64Array(0),
    complete: true,
  };
}

function checkUniqueNames(features: ReferenceFeature[], source: string): void {
  const seen = new Set<string>();
  for (const f of features) {
    if (seen.has(f.name))
      throw new BaselineError(source, [`feature "${f.name}" appears twice; keep one entry per feature`]);
    seen.add(f.name);
  }
}

interface Bucket {
  lower: number;
  upper: number;
  count: number;
}

/** `size` values at evenly spaced ranks of a distribution given as buckets, spread evenly inside each. */
function sampleFromBuckets(buckets: Bucket[], size: number): Float64Array {
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const out = new Float64Array(total > 0 ? size : 0);
  let bucket = 0;
  let before = 0;
  for (let i = 0; i < out.length; i++) {
    const rank = ((i + 0.5) / out.length) * total;
    while (bucket < buckets.length - 1 && rank >= before + buckets[bucket]!.count) {
      before += buckets[bucket]!.count;
      bucket++;
    }
    const b = buckets[bucket]!;
    const within = b.count > 0 ? (rank - before) / b.count : 0.5;
    out[i] = b.lower + (b.upper - b.lower) * Math.min(Math.max(within, 0), 1);
  }
  return out.sort();
}

/** `size` values at evenly spaced ranks of weighted items (a KLL sketch: level i weighs 2^i). */
function sampleFromWeightedItems(levels: number[][], size: number): Float64Array {
  const items: { value: number; weight: number }[] = [];
  levels.forEach((level, i) => {
    for (const value of level) items.push({ value, weight: 2 ** i });
  });
  items.sort((a, b) => a.value - b.value);
  const total = items.reduce((s, it) => s + it.weight, 0);
  const out = new Float64Array(items.length ? size : 0);
  let index = 0;
  let before = 0;
  for (let i = 0; i < out.length; i++) {
    const rank = ((i + 0.5) / out.length) * total;
    while (index < items.length - 1 && rank >= before + items[index]!.weight) {
      before += items[index]!.weight;
      index++;
    }
    out[i] = items[index]!.value;
  }
  return out;
}

function fromModelMonitorStatistics(doc: Record<string, unknown>, source: string): Baseline {
  const problems: string[] = [];
  const features: ReferenceFeature[] = [];
  const fix = 'use the statistics.json a Model Monitor baselining job wrote, unmodified';
  (doc.features as unknown[]).forEach((raw, index) => {
    const at = `features[${index}]`;
    if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') {
      problems.push(`${at}: expected an object with a non-empty "name"; ${fix}`);
      return;
    }
    const name = raw.name;
    const where = `${at} ("${name}")`;
    const numeric = isRecord(raw.numerical_statistics) ? raw.numerical_statistics : undefined;
    const strings = isRecord(raw.string_statistics) ? raw.string_statistics : undefined;
    const stats = numeric ?? strings;
    const common = stats && isRecord(stats.common) ? stats.common : undefined;
    if (!stats || !common || !isCount(common.num_present) || !isCount(common.num_missing)) {
      problems.push(
        `${where}: expected numerical_statistics or string_statistics with common.num_present and common.num_missing; ${fix}`,
      );
      return;
    }
    const count = common.num_present;
    const missing = common.num_missing;
    const distribution = isRecord(stats.distribution) ? stats.distribution : {};
    if (strings) {
      const categorical = isRecord(distribution.categorical) ? distribution.categorical : {};
      const buckets = Array.isArray(categorical.buckets) ? categorical.buckets : [];
      const frequencies = new Map<string, number>();
      for (const bucket of buckets) {
        if (!isRecord(bucket) || !isCount(bucket.count) || bucket.value === undefined) {
          problems.push(
            `${where}.string_statistics.distribution.categorical.buckets: expected {value, count}; ${fix}`,
          );
          return;
        }
        const key = String(bucket.value);
        if (bucket.count > 0) frequencies.set(key, (frequencies.get(key) ?? 0) + bucket.count);
      }
      const listed = [...frequencies.values()].reduce((s, v) => s + v, 0);
      const feature: CategoricalReference = { name, type: 'categorical', count, missing, frequencies };
      if (listed < count) {
        frequencies.set(OTHER_CATEGORY, (frequencies.get(OTHER_CATEGORY) ?? 0) + count - listed);
        feature.approximation = `${count - listed} values of unlisted categories counted as ${OTHER_CATEGORY}`;
      }
      features.push(feature);
      return;
    }
    const n = numeric!;
    if (count === 0) {
      features.push(emptyNumeric(name, missing));
      return;
    }
    if (![n.mean, n.std_dev, n.min, n.max].every(isFiniteNumber)) {
      problems.push(`${where}.numerical_statistics: mean, std_dev, min and max must be numbers; ${fix}`);
      return;
    }
    const kll = isRecord(distribution.kll) ? distribution.kll : {};
    const rawBuckets = Array.isArray(kll.buckets) ? kll.buckets : [];
    const buckets: Bucket[] = [];
    for (const b of rawBuckets) {
      if (
        !isRecord(b) ||
        !isFiniteNumber(b.lower_bound) ||
        !isFiniteNumber(b.upper_bound) ||
        !isCount(b.count)
      ) {
        problems.push(
          `${where}.numerical_statistics.distribution.kll.buckets: expected {lower_bound, upper_bound, count}; ${fix}`,
        );
        return;
      }
      buckets.push({ lower: b.lower_bound, upper: b.upper_bound, count: b.count });
    }
    const sketch = isRecord(kll.sketch) ? kll.sketch : undefined;
    const levels =
      sketch &&
      Array.isArray(sketch.data) &&
      sketch.data.every((l) => Array.isArray(l) && l.every(isFiniteNumber))
        ? (sketch.data as number[][])
        : undefined;
    const size = Math.min(count, SAMPLE_SIZE);
    let sample: Float64Array;
    let approximation: string;
    if (levels?.some((l) => l.length > 0)) {
      sample = sampleFromWeightedItems(levels, size);
      approximation = `sample of ${size} values reconstructed from the Model Monitor KLL sketch (items weighted 2^level)`;
    } else if (buckets.length > 0) {
      sample = sampleFromBuckets(buckets, size);
      approximation = `sample of ${size} values reconstructed from the ${buckets.length} Model Monitor KLL buckets (spread evenly inside each)`;
    } else {
      problems.push(
        `${where}.numerical_statistics.distribution.kll: has neither buckets nor a sketch; ${fix}`,
      );
      return;
    }
    // Bins: the buckets' bounds (merged where bounds repeat), else quantiles of the reconstruction.
    let edges: number[] = [];
    let counts: number[] = [];
    if (buckets.length > 0) {
      edges.push(buckets[0]!.lower);
      for (const b of buckets) {
        if (b.upper > edges[edges.length - 1]!) {
          edges.push(b.upper);
          counts.push(b.count);
        } else if (counts.length) counts[counts.length - 1]! += b.count;
        else {
          edges.push(b.upper);
          counts.push(b.count);
        }
      }
    } else {
      ({ edges, counts } = quantileBins(sample));
    }
    features.push({
      name,
      type: 'numeric',
      count,
      missing,
      min: n.min as number,
      max: n.max as number,
      mean: n.mean as number,
      std: n.std_dev as number,
      edges,
      counts,
      sample,
      complete: false,
      approximation,
    });
  });
  if (problems.length) throw new BaselineError(source, problems);
  checkUniqueNames(features, source);
  const dataset = isRecord(doc.dataset) ? doc.dataset : {};
  return {
    source: 'sagemaker-model-monitor',
    count: isCount(dataset.item_count)
      ? dataset.item_count
      : Math.max(0, ...features.map((f) => f.count + f.missing)),
    features,
  };
}

/** The runtime's bins: exact quantiles at 0, 5, …, 100%, repeated edges merged, last bin closed. */
export function quantileBins(sorted: Float64Array): { edges: number[]; counts: number[] } {
  if (sorted.length === 0) return { edges: [], counts: [] };
  const edges: number[] = [];
  for (let i = 0; i <= QUANTILE_BINS; i++) {
    const edge = quantileSorted(sorted, i / QUANTILE_BINS);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  if (edges.length === 1) edges.push(edges[0]!);
  return { edges, counts: histogram(sorted, edges) };
}

/** Columns of raw reference rows, missing values counted, invalid numbers reported. */
export interface ReferenceColumns {
  features: FeatureSpec[];
  rows: number;
  numeric: Map<string, { values: number[]; missing: number }>;
  categorical: Map<string, { frequencies: Map<string, number>; missing: number }>;
}

/**
 * An exact baseline from raw rows (arrays in feature order, or objects keyed by feature name):
 * every numeric value is kept, so the evaluation equals scipy's on the same data.
 * Throws on a value that is not a number in a numeric feature, naming row and feature.
 */
export function baselineFromRows(
  rows: Iterable<ArrayLike<unknown> | Record<string, unknown>>,
  features: FeatureSpec[],
): Baseline {
  const numeric = features.map(() => [] as number[]);
  const frequencies = features.map(() => new Map<string, number>());
  const missing = features.map(() => 0);
  let count = 0;
  for (const row of rows) {
    count++;
    const byName = !isArrayLike(row);
    features.forEach((feature, i) => {
      const raw = byName ? (row as Record<string, unknown>)[feature.name] : (row as ArrayLike<unknown>)[i];
      if (feature.type === 'numeric') {
        const value = toNumber(raw);
        if (value === INVALID) {
          throw new Error(
            `reference row ${count}, feature "${feature.name}": ${JSON.stringify(raw)} is not a number; clean the value or declare the feature categorical`,
          );
        }
        if (Number.isNaN(value)) missing[i]!++;
        else numeric[i]!.push(value);
      } else {
        const category = toCategory(raw);
        if (category === undefined) missing[i]!++;
        else frequencies[i]!.set(category, (frequencies[i]!.get(category) ?? 0) + 1);
      }
    });
  }
  return {
    source: 'rows',
    count,
    features: features.map((feature, i): ReferenceFeature => {
      if (feature.type === 'categorical') {
        const f = frequencies[i]!;
        let n = 0;
        for (const v of f.values()) n += v;
        return { name: feature.name, type: 'categorical', count: n, missing: missing[i]!, frequencies: f };
      }
      return numericReference(feature.name, Float64Array.from(numeric[i]!), missing[i]!, Infinity);
    }),
  };
}

/** Summary, bins and (sampled or complete) values of one numeric column. */
export function numericReference(
  name: string,
  values: Float64Array,
  missing: number,
  sampleSize: number,
  seed = 0,
): NumericReference {
  if (values.length === 0) return emptyNumeric(name, missing);
  const sorted = Float64Array.from(values).sort();
  const { edges, counts } = quantileBins(sorted);
  let sum = 0;
  for (const v of values) sum += v;
  const sample = values.length <= sampleSize ? sorted : reservoirSample(values, sampleSize, seed).sort();
  return {
    name,
    type: 'numeric',
    count: values.length,
    missing,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / values.length,
    std: populationStd(values),
    edges,
    counts,
    sample,
    complete: sample.length === values.length,
  };
}

/** Algorithm R with a small seeded generator (mulberry32), for reproducible samples. */
export function reservoirSample(values: ArrayLike<number>, size: number, seed = 0): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(Math.min(size, values.length));
  for (let i = 0; i < values.length; i++) {
    if (i < size) out[i] = values[i]!;
    else {
      const slot = Math.floor(random() * (i + 1));
      if (slot < size) out[slot] = values[i]!;
    }
  }
  return out;
}

/** mulberry32: a tiny, fast, seeded 32-bit generator (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `nbops-baseline/v1` document for a baseline (what the runtime's save_baseline writes). */
export function baselineDocument(baseline: Baseline, createdAt = new Date()): Record<string, unknown> {
  return {
    format: BASELINE_FORMAT,
    createdAt: createdAt.toISOString(),
    count: baseline.count,
    features: baseline.features.map((f) =>
      f.type === 'categorical'
        ? {
            name: f.name,
            type: f.type,
            count: f.count,
            missing: f.missing,
            frequencies: Object.fromEntries(f.frequencies),
          }
        : {
            name: f.name,
            type: f.type,
            count: f.count,
            missing: f.missing,
            min: f.min,
            max: f.max,
            mean: f.mean,
            std: f.std,
            quantiles: { edges: f.edges, counts: f.counts },
            sample: Array.from(f.sample),
          },
    ),
  };
}

export function featureSpecs(baseline: Baseline): FeatureSpec[] {
  return baseline.features.map((f) => ({ name: f.name, type: f.type as FeatureType }));
}

function isArrayLike(row: unknown): row is ArrayLike<unknown> {
  return Array.isArray(row) || ArrayBuffer.isView(row);
}
