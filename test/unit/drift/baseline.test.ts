import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BaselineError,
  baselineDocument,
  baselineFromRows,
  type NumericReference,
  parseBaseline,
  quantileBins,
} from '#core/drift/baseline';
import { evaluateDrift } from '#core/drift/evaluate';
import { numbers } from './datasets';

const runtimeDir = fileURLToPath(new URL('../../../layers/runtime', import.meta.url));

/** The runtime's own compute_baseline (stdlib Python), on rows given as JSON. */
function runtimeBaseline(rows: unknown[][], features: { name: string; type: string }[]): unknown {
  const python = process.env.NBOPS_PYTHON ?? 'python3';
  const code =
    'import json, sys\nfrom nbops_runtime.baseline import compute_baseline\n' +
    'spec = json.load(sys.stdin)\nprint(json.dumps(compute_baseline(spec["rows"], spec["features"])))';
  const run = spawnSync(python, ['-c', code], {
    cwd: runtimeDir,
    input: JSON.stringify({ rows, features }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`runtime compute_baseline failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('nbops-baseline/v1 from the Python runtime', () => {
  const features = [
    { name: 'tenure', type: 'numeric' },
    { name: 'plan', type: 'categorical' },
  ];
  const tenure = numbers({ kind: 'integer-normal', seed: 3, n: 12_000, mean: 30, sd: 12 });
  const rows = tenure.map((t, i) => [
    i % 500 === 0 ? null : t,
    i % 7 === 0 ? 'basic' : i % 11 === 0 ? '' : 'pro',
  ]);
  const document = runtimeBaseline(rows, features);
  const baseline = parseBaseline(document, 'nbops-baseline.json');

  it('reads every field: counts, missing, stats, bins, the sorted sample, frequencies', () => {
    expect(baseline.source).toBe('nbops-baseline/v1');
    expect(baseline.count).toBe(12_000);
    const t = baseline.features[0] as NumericReference;
    expect(t).toMatchObject({ name: 'tenure', type: 'numeric', count: 11_976, missing: 24, complete: false });
    expect(t.sample.length).toBe(10_000);
    expect(Array.from(t.sample)).toEqual(Array.from(t.sample).sort((a, b) => a - b));
    const blank = rows.filter((r) => r[1] === '').length;
    expect(baseline.features[1]).toMatchObject({
      type: 'categorical',
      count: 12_000 - blank,
      missing: blank,
    });
  });

  it('its quantile bins equal the TypeScript bins on the same values (same rule, same floats)', () => {
    const values = Float64Array.from(rows.map((r) => r[0]).filter((v): v is number => v !== null)).sort();
    const t = baseline.features[0] as NumericReference;
    expect(quantileBins(values)).toEqual({ edges: t.edges, counts: t.counts });
  });

  it('drives an evaluation: the same population does not drift, a shifted one does', () => {
    const spec = [
      { name: 'tenure', type: 'numeric' as const },
      { name: 'plan', type: 'categorical' as const },
    ];
    const same = evaluateDrift({ baseline, current: rows.slice(0, 3000), features: spec });
    expect(same.datasetDrift.drifted).toBe(false);
    const shifted = evaluateDrift({
      baseline,
      current: rows.slice(0, 3000).map(([t, p]) => [typeof t === 'number' ? t + 6 : t, p]),
      features: spec,
    });
    expect(shifted.features[0]).toMatchObject({ method: 'wasserstein', drifted: true });
  });
});

describe('baseline documents nbops writes read back unchanged', () => {
  it('baselineDocument → parseBaseline keeps every value', () => {
    const features = [
      { name: 'x', type: 'numeric' as const },
      { name: 'c', type: 'categorical' as const },
      { name: 'empty', type: 'numeric' as const },
    ];
    const rows = numbers({ kind: 'normal', seed: 9, n: 500, mean: 2, sd: 3 }).map((v, i) => [
      v,
      `k${i % 4}`,
      null,
    ]);
    const original = baselineFromRows(rows, features);
    const reread = parseBaseline(JSON.parse(JSON.stringify(baselineDocument(original))));
    expect(reread.features).toEqual(original.features);
  });
});

describe('invalid baselines are refused with every problem named', () => {
  const problems = (doc: unknown) => {
    try {
      parseBaseline(doc, 'b.json');
    } catch (err) {
      expect(err).toBeInstanceOf(BaselineError);
      return (err as BaselineError).problems;
    }
    throw new Error('expected a BaselineError');
  };

  it('not a baseline at all, or an unknown format', () => {
    expect(problems([1, 2])[0]).toMatch(/not a baseline: expected \{"format": "nbops-baseline\/v1"/);
    expect(problems({ format: 'nbops-baseline/v9' })[0]).toMatch(
      /format "nbops-baseline\/v9" is not supported/,
    );
  });

  it('field by field, with the fix', () => {
    const found = problems({
      format: 'nbops-baseline/v1',
      features: [
        {
          name: 'a',
          type: 'numeric',
          count: 3,
          missing: 0,
          min: 1,
          max: 3,
          mean: 2,
          std: 1,
          quantiles: { edges: [1, 2, 3], counts: [1] },
          sample: [1, 2, 3],
        },
        { name: 'b', type: 'categorical', count: 2, missing: 0, frequencies: { x: -1 } },
        { name: 'c', type: 'vector', count: 1, missing: 0 },
        { type: 'numeric' },
      ],
    });
    expect(found).toEqual([
      'features[0] ("a").quantiles.counts: expected 2 counts (one per bin between the edges); regenerate the baseline with save_baseline(rows, features)',
      'features[1] ("b").frequencies["x"]: -1 is not a count; regenerate the baseline with save_baseline(rows, features)',
      'features[2] ("c").type: "vector" is not "numeric" or "categorical"; regenerate the baseline with save_baseline(rows, features)',
      'features[3]: expected an object with a non-empty "name"; regenerate the baseline with save_baseline(rows, features)',
    ]);
  });
});

describe('SageMaker Model Monitor statistics.json', () => {
  const statistics = {
    version: 0,
    dataset: { item_count: 1000 },
    features: [
      {
        name: 'age',
        inferred_type: 'Integral',
        numerical_statistics: {
          common: { num_present: 990, num_missing: 10 },
          mean: 40,
          sum: 39600,
          std_dev: 10,
          min: 10,
          max: 70,
          distribution: {
            kll: {
              buckets: [
                { lower_bound: 10, upper_bound: 30, count: 200 },
                { lower_bound: 30, upper_bound: 50, count: 590 },
                { lower_bound: 50, upper_bound: 70, count: 200 },
              ],
            },
          },
        },
      },
      {
        name: 'income',
        inferred_type: 'Fractional',
        numerical_statistics: {
          common: { num_present: 7, num_missing: 0 },
          mean: 4,
          sum: 28,
          std_dev: 2,
          min: 1,
          max: 7,
          distribution: {
            kll: {
              buckets: [{ lower_bound: 1, upper_bound: 7, count: 7 }],
              sketch: { parameters: { c: 0.64, k: 2048 }, data: [[1, 2, 3, 7], [4.5]] },
            },
          },
        },
      },
      {
        name: 'plan',
        inferred_type: 'String',
        string_statistics: {
          common: { num_present: 1000, num_missing: 0 },
          distinct_count: 3,
          distribution: {
            categorical: {
              buckets: [
                { value: 'basic', count: 600 },
                { value: 'pro', count: 380 },
              ],
            },
          },
        },
      },
    ],
  };
  const baseline = parseBaseline(statistics, 'statistics.json');

  it('numeric buckets become bins and an evenly spread sample; the approximation is stated', () => {
    const age = baseline.features[0] as NumericReference;
    expect(age).toMatchObject({
      count: 990,
      missing: 10,
      std: 10,
      edges: [10, 30, 50, 70],
      counts: [200, 590, 200],
    });
    expect(age.sample.length).toBe(990);
    expect(age.sample[0]).toBeGreaterThanOrEqual(10);
    expect(age.sample[989]).toBeLessThanOrEqual(70);
    expect(age.sample.filter((v) => v < 30).length).toBe(200);
    expect(age.approximation).toMatch(/reconstructed from the 3 Model Monitor KLL buckets/);
  });

  it('a KLL sketch is used when present: items weighted 2^level', () => {
    const income = baseline.features[1] as NumericReference;
    // Weights 1,1,1,1 and 2 (level 1) for 7 values: evenly spaced ranks of the weighted items.
    expect(Array.from(income.sample)).toEqual([1, 2, 3, 4.5, 4.5, 4.5, 7]);
    expect(income.approximation).toMatch(/KLL sketch/);
  });

  it('categorical buckets become frequencies; unlisted values are counted as __other__', () => {
    expect(baseline.features[2]).toMatchObject({
      type: 'categorical',
      count: 1000,
      frequencies: new Map([
        ['basic', 600],
        ['pro', 380],
        ['__other__', 20],
      ]),
    });
  });

  it('works as a reference for an evaluation', () => {
    const report = evaluateDrift({
      baseline,
      current: Array.from({ length: 400 }, (_, i) => [20 + (i % 40), 3, i % 2 ? 'basic' : 'pro']),
      features: [
        { name: 'age', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
      ],
    });
    expect(report.features.map((f) => f.method)).toEqual(['ks', 'chi2']);
    expect(report.features.every((f) => f.statistic !== null)).toBe(true);
    expect(report.features[0]!.note).toMatch(/reconstructed/);
  });
});
