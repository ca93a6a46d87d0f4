import { describe, expect, it } from 'vitest';
import { describeGateResults, evaluateGates } from '#core/service/gates';
import { rawExample, resolve } from '../sagemaker/helpers';

/** The churn example with its gates replaced. */
function manifest(gates: object[], metrics?: object[]) {
  const raw = rawExample();
  raw.gates = gates;
  if (metrics) raw.metrics = metrics;
  return resolve(raw);
}

describe('evaluateGates', () => {
  it('checks absolute bounds inclusively and reports value and threshold', () => {
    const m = manifest([{ metric: 'validation:auc', min: 0.75, max: 0.99 }]);
    expect(evaluateGates(m, { 'validation:auc': 0.75 })).toEqual({
      passed: true,
      results: [
        { gate: 'validation:auc >= 0.75', passed: true, value: 0.75, threshold: 0.75 },
        { gate: 'validation:auc <= 0.99', passed: true, value: 0.75, threshold: 0.99 },
      ],
    });
    const low = evaluateGates(m, { 'validation:auc': 0.7499 });
    expect(low.passed).toBe(false);
    expect(low.results.filter((r) => !r.passed).map((r) => r.gate)).toEqual(['validation:auc >= 0.75']);
  });

  it('fails a gate whose metric the job did not report, saying how to log it', () => {
    const result = evaluateGates(manifest([{ metric: 'validation:auc', min: 0.5 }]), { 'train:loss': 0.3 });
    expect(result.passed).toBe(false);
    expect(result.results[0]).toMatchObject({ gate: 'validation:auc reported', passed: false });
    expect(result.results[0]!.detail).toContain('log_metric("validation:auc", value)');
  });

  it('skips the champion comparison while nothing is in production', () => {
    const result = evaluateGates(manifest([{ metric: 'validation:auc', noWorseThanChampionBy: 0.02 }]), {
      'validation:auc': 0.5,
    });
    expect(result.passed).toBe(true);
    expect(result.results[0]!.detail).toMatch(/no version is in production/);
  });

  it('compares with the champion in the direction of the goal (maximize)', () => {
    const m = manifest([{ metric: 'validation:auc', noWorseThanChampionBy: 0.02 }]);
    const champion = { version: 3, metrics: { 'validation:auc': 0.9 } };
    // 0.9 - 0.02 must be exactly 0.88, not 0.8800000000000001.
    expect(evaluateGates(m, { 'validation:auc': 0.88 }, champion).passed).toBe(true);
    const worse = evaluateGates(m, { 'validation:auc': 0.879 }, champion);
    expect(worse.passed).toBe(false);
    expect(worse.results[0]).toMatchObject({ threshold: 0.88, value: 0.879 });
    expect(worse.results[0]!.detail).toContain('champion v3 has 0.9');
  });

  it('compares with the champion in the direction of the goal (minimize)', () => {
    const m = manifest([{ metric: 'train:loss', noWorseThanChampionBy: 0.05 }]);
    const champion = { version: 1, metrics: { 'train:loss': 0.3 } };
    expect(evaluateGates(m, { 'train:loss': 0.35 }, champion).passed).toBe(true);
    expect(evaluateGates(m, { 'train:loss': 0.2 }, champion).passed).toBe(true);
    const worse = evaluateGates(m, { 'train:loss': 0.36 }, champion);
    expect(worse.passed).toBe(false);
    expect(worse.results[0]!.detail).toContain('at most 0.35');
  });

  it('skips the comparison when the champion lacks the metric', () => {
    const m = manifest([{ metric: 'validation:auc', noWorseThanChampionBy: 0.01 }]);
    const result = evaluateGates(m, { 'validation:auc': 0.1 }, { version: 2, metrics: {} });
    expect(result.passed).toBe(true);
    expect(result.results[0]!.detail).toMatch(/champion v2 has no validation:auc/);
  });

  it('passes with no gates declared', () => {
    expect(evaluateGates(manifest([]), {})).toEqual({ passed: true, results: [] });
    expect(describeGateResults([])).toBe('no quality gates declared');
  });
});
