/**
 * nbops's drift statistics against scipy/numpy: the committed fixture (always) and, when an
 * interpreter with scipy exists, scripts/drift_reference.py run live (whose output must also equal
 * the fixture, so the fixture cannot go stale).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { baselineFromRows } from '#core/drift/baseline';
import { type DriftMethod, evaluateDrift, type FeatureDrift } from '#core/drift/evaluate';
import { kolmogorovSf, smirnovSf } from '#core/drift/kolmogorov';
import { chiSquareSf, compensatedSum, normalTwoSided } from '#core/drift/special';
import { ksTest, wasserstein } from '#core/drift/stats';
import type { FeatureType } from '#core/drift/values';
import { type DatasetSpec, generate } from './datasets';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixturePath = `${root}test/fixtures/drift/reference.json`;
const script = `${root}scripts/drift_reference.py`;

interface Digest {
  first: (number | string)[];
  sum?: number;
  counts?: Record<string, number>;
}
interface NumericCase {
  name: string;
  reference: DatasetSpec;
  current: DatasetSpec;
  check: [Digest, Digest];
  ks: { statistic: number; pValue: number };
  wasserstein: { distance: number; std: number; normalised: number };
  psi: number;
  js: number;
}
interface CategoricalCase {
  name: string;
  reference: DatasetSpec;
  current: DatasetSpec;
  check: [Digest, Digest];
  chi2: { statistic: number; pValue: number; dof: number; groups: number };
  psi: number;
  js: number;
  linf: number;
  z: { statistic: number; pValue: number } | null;
}
interface ReferenceDocument {
  scipy: string;
  numeric: NumericCase[];
  categorical: CategoricalCase[];
  special: {
    kstwo: [number, number, number][];
    smirnov: [number, number, number][];
    chi2: [number, number, number][];
    normalTwoSided: [number, number][];
  };
}

/** 1e-9 relative, or 1e-12 absolute near zero. */
function expectClose(actual: number | null, expected: number, what: string): void {
  expect(actual, what).not.toBeNull();
  const ok = Math.abs(actual! - expected) <= Math.max(1e-12, 1e-9 * Math.abs(expected));
  if (!ok) expect.fail(`${what}: nbops ${actual}, scipy ${expected}`);
}

function findScipyPython(): string | undefined {
  for (const python of [process.env.NBOPS_PYTHON, '/usr/bin/python3', 'python3'].filter(
    Boolean,
  ) as string[]) {
    if (spawnSync(python, ['-c', 'import scipy.stats, numpy'], { stdio: 'ignore' }).status === 0)
      return python;
  }
  return undefined;
}

const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as ReferenceDocument;
const python = findScipyPython();
const live = (() => {
  if (!python) return undefined;
  const run = spawnSync(python, [script], { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`scripts/drift_reference.py failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as ReferenceDocument;
})();

function checkData(values: (number | string)[], digest: Digest, what: string): void {
  expect(values.slice(0, 3), `${what}: first values`).toEqual(digest.first);
  if (digest.sum !== undefined) expectClose(compensatedSum(values as number[]), digest.sum, `${what}: sum`);
  if (digest.counts) {
    const counts: Record<string, number> = {};
    for (const v of values as string[]) counts[v] = (counts[v] ?? 0) + 1;
    expect(counts, `${what}: counts`).toEqual(digest.counts);
  }
}

function evaluateOne(
  type: FeatureType,
  reference: (number | string)[],
  current: (number | string)[],
  method: DriftMethod,
): FeatureDrift {
  const features = [{ name: 'x', type }];
  const report = evaluateDrift({
    baseline: baselineFromRows(
      reference.map((v) => [v]),
      features,
    ),
    current: current.map((v) => [v]),
    features,
    method,
    minRecords: 1,
  });
  return report.features[0]!;
}

function checkDocument(doc: ReferenceDocument): void {
  describe('numeric features', () => {
    for (const c of doc.numeric) {
      it(c.name, () => {
        const reference = generate(c.reference) as number[];
        const current = generate(c.current) as number[];
        checkData(reference, c.check[0], 'reference');
        checkData(current, c.check[1], 'current');
        const a = Float64Array.from(reference).sort();
        const b = Float64Array.from(current).sort();
        const ks = ksTest(a, b);
        expectClose(ks.statistic, c.ks.statistic, 'ks statistic');
        expectClose(ks.pValue, c.ks.pValue, 'ks p-value');
        expectClose(wasserstein(a, b), c.wasserstein.distance, 'wasserstein distance');

        // The same numbers through the public API (grid accumulators, Evidently binning).
        const viaKs = evaluateOne('numeric', reference, current, 'ks');
        expectClose(viaKs.statistic, c.ks.statistic, 'evaluateDrift ks statistic');
        expectClose(viaKs.pValue, c.ks.pValue, 'evaluateDrift ks p-value');
        expect(viaKs.drifted).toBe(c.ks.pValue <= 0.05);
        const viaW = evaluateOne('numeric', reference, current, 'wasserstein');
        expectClose(viaW.statistic, c.wasserstein.normalised, 'evaluateDrift normalised wasserstein');
        expectClose(evaluateOne('numeric', reference, current, 'psi').statistic, c.psi, 'psi');
        expectClose(evaluateOne('numeric', reference, current, 'js').statistic, c.js, 'js distance');
        expectClose(
          evaluateOne('numeric', reference, current, 'linf').statistic,
          c.ks.statistic,
          'linf = ks',
        );
      });
    }
  });

  describe('categorical features', () => {
    for (const c of doc.categorical) {
      it(c.name, () => {
        const reference = generate(c.reference);
        const current = generate(c.current);
        checkData(reference, c.check[0], 'reference');
        checkData(current, c.check[1], 'current');
        const chi = evaluateOne('categorical', reference, current, 'chi2');
        expectClose(chi.statistic, c.chi2.statistic, 'chi2 statistic');
        expectClose(chi.pValue, c.chi2.pValue, 'chi2 p-value');
        expectClose(evaluateOne('categorical', reference, current, 'psi').statistic, c.psi, 'psi');
        expectClose(evaluateOne('categorical', reference, current, 'js').statistic, c.js, 'js distance');
        expectClose(evaluateOne('categorical', reference, current, 'linf').statistic, c.linf, 'linf');
        if (c.z) {
          const z = evaluateOne('categorical', reference, current, 'auto');
          expect(z.method).toBe('z');
          expectClose(z.statistic, c.z.statistic, 'z statistic');
          expectClose(z.pValue, c.z.pValue, 'z p-value');
          expectClose(c.chi2.pValue, c.z.pValue, 'chi2 with 2 categories = z test');
        }
      });
    }
  });

  it('special functions: kstwo.sf, smirnov, chi2.sf, two-sided normal tail', () => {
    for (const [n, x, p] of doc.special.kstwo) expectClose(kolmogorovSf(n, x), p, `kstwo.sf(${x}, ${n})`);
    for (const [n, x, p] of doc.special.smirnov) expectClose(smirnovSf(n, x), p, `smirnov(${n}, ${x})`);
    for (const [x, df, p] of doc.special.chi2) expectClose(chiSquareSf(x, df), p, `chi2.sf(${x}, ${df})`);
    for (const [z, p] of doc.special.normalTwoSided) expectClose(normalTwoSided(z), p, `2·norm.sf(${z})`);
  });
}

describe('against the committed fixture (scipy values)', () => {
  checkDocument(fixture);
});

describe.skipIf(!live)('against scipy, live (scripts/drift_reference.py)', () => {
  if (!live) return;
  it('the committed fixture is current (same cases, same values)', () => {
    const strip = (d: ReferenceDocument) => ({
      numeric: d.numeric,
      categorical: d.categorical,
      special: d.special,
    });
    if (live.scipy === fixture.scipy) expect(strip(live)).toEqual(strip(fixture));
    else {
      // Another scipy: same cases, values within tolerance.
      const flatten = (v: unknown, out: number[] = []): number[] => {
        if (typeof v === 'number') out.push(v);
        else if (v && typeof v === 'object') for (const x of Object.values(v)) flatten(x, out);
        return out;
      };
      const a = flatten(strip(live));
      const b = flatten(strip(fixture));
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expectClose(a[i]!, b[i]!, `value ${i}`);
    }
  });
  checkDocument(live);
});
