import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccumulators, type NumericAccumulator } from '#core/drift/accumulate';
import { type Baseline, baselineFromRows, numericReference } from '#core/drift/baseline';
import {
  type DriftMethod,
  evaluateDrift,
  type FeatureDrift,
  ksFromGrid,
  wassersteinFromGrid,
} from '#core/drift/evaluate';
import { ksStatistic, wasserstein } from '#core/drift/stats';
import type { FeatureSpec } from '#core/drift/values';
import { numbers } from './datasets';

const normal = (seed: number, n: number, mean = 0, sd = 1) => numbers({ kind: 'normal', seed, n, mean, sd });
const categories = (seed: number, n: number, k: number, skew = 1) =>
  Array.from(
    { length: n },
    (_, i) => `c${Math.floor(((((i * 2654435761 + seed * 97) >>> 0) % 10007) / 10007) ** skew * k)}`,
  );

function one(
  type: FeatureSpec['type'],
  reference: unknown[],
  current: unknown[],
  options: { method?: DriftMethod; threshold?: number; minRecords?: number } = {},
): FeatureDrift {
  const features = [{ name: 'x', type }];
  return evaluateDrift({
    baseline: baselineFromRows(
      reference.map((v) => [v]),
      features,
    ),
    current: current.map((v) => [v]),
    minRecords: 1,
    ...options,
  }).features[0]!;
}

describe('auto picks the method per feature as Evidently does', () => {
  it('numeric with many values: KS up to 1000 reference values, Wasserstein above', () => {
    expect(one('numeric', normal(1, 1000), normal(2, 300)).method).toBe('ks');
    expect(one('numeric', normal(1, 1001), normal(2, 300)).method).toBe('wasserstein');
  });

  it('numeric with at most 5 values (reference ∪ current): chi-square, Z-test for 2, Jensen-Shannon when large', () => {
    const few = (n: number, k: number) => Array.from({ length: n }, (_, i) => i % k);
    expect(one('numeric', few(500, 4), few(300, 5)).method).toBe('chi2');
    expect(one('numeric', few(500, 2), few(300, 2)).method).toBe('z');
    expect(one('numeric', few(5000, 3), few(300, 3)).method).toBe('js');
    // 5 in the reference plus a new value in the current: 6 distinct, so KS
    expect(one('numeric', few(500, 5), [...few(300, 5), 7]).method).toBe('ks');
  });

  it('categorical: chi-square (Z-test for 2 categories) up to 1000 values, Jensen-Shannon above', () => {
    expect(one('categorical', categories(1, 800, 3), categories(2, 500, 3)).method).toBe('chi2');
    expect(one('categorical', categories(1, 800, 2), categories(2, 500, 2)).method).toBe('z');
    expect(one('categorical', categories(1, 1200, 3), categories(2, 500, 3)).method).toBe('js');
  });

  it('an explicit method applies to every feature it fits; KS on a categorical feature falls back to auto', () => {
    const result = one('categorical', categories(1, 800, 3), categories(2, 500, 3), { method: 'ks' });
    expect(result.method).toBe('chi2');
    expect(result.note).toMatch(/ks applies to numeric features only; used chi2/);
    expect(one('numeric', normal(1, 3000), normal(2, 300), { method: 'psi' }).method).toBe('psi');
  });
});

describe('thresholds and verdicts', () => {
  it('default thresholds: p <= 0.05 for KS, p < 0.05 for chi-square, distances >= 0.1', () => {
    const same = one('numeric', normal(1, 500), normal(2, 500));
    expect(same).toMatchObject({ method: 'ks', threshold: 0.05, drifted: false });
    const shifted = one('numeric', normal(1, 500), normal(2, 500, 0.5));
    expect(shifted.drifted).toBe(true);
    expect(shifted.pValue!).toBeLessThan(1e-6);
    const w = one('numeric', normal(1, 5000), normal(2, 2000, 0.15));
    expect(w).toMatchObject({ method: 'wasserstein', threshold: 0.1, drifted: true });
    expect(w.statistic!).toBeGreaterThan(0.1);
    expect(w.statistic!).toBeLessThan(0.2);
  });

  it('one --threshold for every feature: a p-value level for tests, a distance otherwise', () => {
    const shifted = one('numeric', normal(1, 500), normal(2, 500, 0.15), { threshold: 1e-9 });
    expect(shifted).toMatchObject({ threshold: 1e-9, drifted: false });
    const w = one('numeric', normal(1, 5000), normal(2, 2000, 0.15), { threshold: 0.5 });
    expect(w).toMatchObject({ threshold: 0.5, drifted: false });
  });
});

describe('edge cases give clear results', () => {
  it('identical samples: no drift with every method', () => {
    const data = normal(3, 400);
    for (const method of ['ks', 'wasserstein', 'psi', 'js', 'linf'] as const) {
      const r = one('numeric', data, data, { method });
      expect(r.statistic, method).toBe(0);
      expect(r.drifted, method).toBe(false);
    }
    expect(one('numeric', data, data, { method: 'ks' }).pValue).toBe(1);
    const cats = categories(4, 600, 5);
    const chi = one('categorical', cats, cats, { method: 'chi2' });
    expect([chi.statistic, chi.pValue, chi.drifted]).toEqual([0, 1, false]);
  });

  it('disjoint supports: maximal distances, tiny p-values, drift', () => {
    const a = normal(5, 300);
    const b = normal(6, 300, 100);
    expect(one('numeric', a, b, { method: 'ks' })).toMatchObject({ statistic: 1, drifted: true });
    expect(one('numeric', a, b, { method: 'js' })).toMatchObject({ statistic: 1, drifted: true });
    const chi = one(
      'categorical',
      ['a', 'a', 'b', 'b', 'a'].flatMap((v) => Array(40).fill(v)),
      Array(150).fill('z'),
      {
        method: 'chi2',
      },
    );
    expect(chi.drifted).toBe(true);
    expect(chi.pValue!).toBeLessThan(1e-50);
  });

  it('one category on both sides: nothing can differ (z = 0, p = 1)', () => {
    const r = one('categorical', Array(300).fill('only'), Array(200).fill('only'));
    expect(r).toMatchObject({ method: 'z', statistic: 0, pValue: 1, drifted: false });
    expect(
      one('categorical', Array(300).fill('only'), Array(200).fill('only'), { method: 'chi2' }),
    ).toMatchObject({
      statistic: 0,
      pValue: 1,
      drifted: false,
    });
  });

  it('empty current window: insufficient data, no statistics, no verdict', () => {
    const features = [{ name: 'x', type: 'numeric' as const }];
    const report = evaluateDrift({
      baseline: baselineFromRows([[1], [2], [3]], features),
      current: [],
      minRecords: 1,
    });
    expect(report).toMatchObject({
      records: 0,
      insufficientData: true,
      datasetDrift: { drifted: false, share: 0 },
    });
    expect(report.features[0]).toMatchObject({ statistic: null, pValue: null, drifted: false, nCurrent: 0 });
    expect(report.features[0]!.note).toMatch(/no current values/);
  });

  it('fewer rows than minRecords: statistics shown, but no verdict', () => {
    const features = [{ name: 'x', type: 'numeric' as const }];
    const report = evaluateDrift({
      baseline: baselineFromRows(
        normal(1, 200).map((v) => [v]),
        features,
      ),
      current: normal(2, 50, 5).map((v) => [v]),
    });
    expect(report.minRecords).toBe(100);
    expect(report.insufficientData).toBe(true);
    expect(report.features[0]!.statistic).toBe(1);
    expect(report.features[0]!.drifted).toBe(false);
    expect(report.datasetDrift.drifted).toBe(false);
  });

  it('NaN, ±inf, blanks and nulls are missing; non-numbers are invalid; both are counted and excluded', () => {
    const r = one('numeric', normal(1, 100), [1, 'NaN', null, '', Infinity, '-inf', 'oops', '2.5', 2]);
    expect(r).toMatchObject({ nCurrent: 3, missingCurrent: 5, invalidCurrent: 1 });
  });

  it('constant reference: Wasserstein divided by 0.001 instead of a zero std, and said so', () => {
    const r = one('numeric', Array(2000).fill(3), [3, 3, 3.001, 3], { method: 'wasserstein' });
    expect(r.statistic).toBeCloseTo(0.00025 / 0.001, 12);
    expect(r.note).toMatch(/constant reference/);
  });

  it('a feature missing from the baseline is reported, not evaluated, and not counted in the share', () => {
    const baseline = baselineFromRows(
      normal(1, 300).map((v) => [v]),
      [{ name: 'a', type: 'numeric' }],
    );
    const report = evaluateDrift({
      baseline,
      current: normal(2, 300, 3).map((v) => [v, 1]),
      features: [
        { name: 'a', type: 'numeric' },
        { name: 'b', type: 'numeric' },
      ],
    });
    expect(report.features[1]).toMatchObject({ name: 'b', statistic: null, drifted: false });
    expect(report.features[1]!.note).toMatch(/baseline has no feature "b"/);
    expect(report.datasetDrift).toMatchObject({
      evaluatedFeatures: 1,
      driftedFeatures: 1,
      share: 1,
      drifted: true,
    });
  });
});

describe('dataset drift', () => {
  const features: FeatureSpec[] = ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'numeric' }));
  const rows = (shifted: number, seed: number) => {
    const columns = features.map((_, j) => normal(seed + j, 400, j < shifted ? 1 : 0));
    return columns[0]!.map((_, i) => columns.map((c) => c[i]));
  };
  const baseline = baselineFromRows(rows(0, 10), features);

  it('drifts when drifted / evaluated features >= datasetShare', () => {
    const two = evaluateDrift({ baseline, current: rows(2, 20) });
    expect(two.datasetDrift).toMatchObject({ driftedFeatures: 2, share: 0.5, drifted: true, threshold: 0.5 });
    const one_ = evaluateDrift({ baseline, current: rows(1, 20) });
    expect(one_.datasetDrift).toMatchObject({ driftedFeatures: 1, share: 0.25, drifted: false });
    expect(evaluateDrift({ baseline, current: rows(1, 20), datasetShare: 0.25 }).datasetDrift.drifted).toBe(
      true,
    );
  });

  it('never drifts with no drifted feature, even at datasetShare 0', () => {
    expect(evaluateDrift({ baseline, current: rows(0, 30), datasetShare: 0 }).datasetDrift.drifted).toBe(
      false,
    );
  });
});

describe('streaming summaries', () => {
  const finite = fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true });
  const grid = fc.oneof(finite, fc.integer({ min: -5, max: 5 }));

  function accumulate(reference: number[], current: number[]) {
    const features = [{ name: 'x', type: 'numeric' as const }];
    const baseline = baselineFromRows(
      reference.map((v) => [v]),
      features,
    );
    const acc = createAccumulators(baseline, features, { exactLimit: 0 });
    for (const v of current) acc.addRow([v]);
    return { acc: acc.accumulators[0] as NumericAccumulator, baseline };
  }

  it('KS from the grid equals the KS of the full data, exactly', () => {
    fc.assert(
      fc.property(
        fc.array(grid, { minLength: 1, maxLength: 60 }),
        fc.array(grid, { minLength: 1, maxLength: 80 }),
        (r, c) => {
          const { acc } = accumulate(r, c);
          const exact = ksStatistic(Float64Array.from(r).sort(), Float64Array.from(c).sort());
          expect(ksFromGrid(acc.grid, acc)).toBe(exact);
        },
      ),
    );
  });

  it('Wasserstein from the grid is within its stated bound of the exact distance', () => {
    fc.assert(
      fc.property(
        fc.array(grid, { minLength: 1, maxLength: 60 }),
        fc.array(grid, { minLength: 1, maxLength: 80 }),
        (r, c) => {
          const { acc } = accumulate(r, c);
          const exact = wasserstein(Float64Array.from(r).sort(), Float64Array.from(c).sort());
          const estimate = wassersteinFromGrid(acc.grid, acc);
          expect(Math.abs(estimate.distance - exact)).toBeLessThanOrEqual(
            estimate.bound + 1e-9 * (1 + exact),
          );
        },
      ),
    );
  });

  it('a large window from a 10,000-value baseline: KS exact, Wasserstein within 1% of the exact value', () => {
    const reference = normal(40, 10_000);
    const current = normal(41, 200_000, 0.05, 1.1);
    const baseline: Baseline = {
      source: 'rows',
      count: reference.length,
      features: [numericReference('x', Float64Array.from(reference), 0, 10_000)],
    };
    const features = [{ name: 'x', type: 'numeric' as const }];
    const acc = createAccumulators(baseline, features);
    for (const v of current) acc.addRow([v]);
    const streamed = evaluateDrift({ baseline, current: acc, method: 'wasserstein' }).features[0]!;
    const exact = evaluateDrift({ baseline, current: current.map((v) => [v]), method: 'wasserstein' })
      .features[0]!;
    expect(streamed.note).toMatch(/estimated from the streaming summary/);
    expect(Math.abs(streamed.statistic! - exact.statistic!) / exact.statistic!).toBeLessThan(0.01);
    const ksStreamed = evaluateDrift({ baseline, current: acc, method: 'ks' }).features[0]!;
    const ksExact = evaluateDrift({ baseline, current: current.map((v) => [v]), method: 'ks' }).features[0]!;
    expect(ksStreamed.statistic).toBe(ksExact.statistic);
    expect(ksStreamed.pValue).toBe(ksExact.pValue);
    // PSI on a streamed window uses the baseline's quantile bins, and says so.
    const psi = evaluateDrift({ baseline, current: acc, method: 'psi' }).features[0]!;
    expect(psi.note).toMatch(/quantile bins/);
    expect(psi.statistic!).toBeGreaterThan(0);
    expect(psi.statistic!).toBeLessThan(0.1);
  });
});

describe('categorical details', () => {
  it('with a baseline that lumped rare categories into __other__, unseen current categories count there', () => {
    const features = [{ name: 'c', type: 'categorical' as const }];
    const baseline: Baseline = {
      source: 'nbops-baseline/v1',
      count: 1000,
      features: [
        {
          name: 'c',
          type: 'categorical',
          count: 1000,
          missing: 0,
          frequencies: new Map([
            ['a', 600],
            ['b', 300],
            ['__other__', 100],
          ]),
        },
      ],
    };
    const current = [
      ...Array(60).fill('a'),
      ...Array(30).fill('b'),
      ...Array(5).fill('x'),
      ...Array(5).fill('y'),
    ];
    const r = evaluateDrift({
      baseline,
      current: current.map((v) => [v]),
      features,
      method: 'linf',
      minRecords: 1,
    });
    expect(r.features[0]!.statistic).toBeCloseTo(0, 12);
    expect(r.features[0]!.note).toMatch(/__other__/);
  });

  it('linf_robust subtracts the sampling allowance c_α·sqrt((n+m)/(n·m))', () => {
    const features = [{ name: 'c', type: 'categorical' as const }];
    const baseline = baselineFromRows([...Array(500).fill(['a']), ...Array(500).fill(['b'])], features);
    const current = [...Array(70).fill(['a']), ...Array(30).fill(['b'])];
    const simple = evaluateDrift({ baseline, current, method: 'linf', minRecords: 1 }).features[0]!;
    const robust = evaluateDrift({ baseline, current, method: 'linf', linf: { robust: true }, minRecords: 1 })
      .features[0]!;
    expect(simple.statistic).toBeCloseTo(0.2, 12);
    expect(robust.statistic).toBeCloseTo(0.2 - 1.8 * Math.sqrt(1100 / 100000), 12);
  });

  it('sparse categories are merged before the chi-square test, and the note says which', () => {
    const reference = [...Array(300).fill('a'), ...Array(300).fill('b'), 'r1', 'r2', 'r3', 'r4'];
    const current = [...Array(100).fill('a'), ...Array(100).fill('b'), 'r1', 'r5'];
    const r = one('categorical', reference, current, { method: 'chi2' });
    expect(r.note).toMatch(/sparse categories merged: /);
    expect(r.drifted).toBe(false);
  });
});
