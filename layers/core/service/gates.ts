/**
 * Quality gates: after training, a version's final metrics are checked against the manifest's
 * gates. Absolute bounds (min, max) always apply; "no worse than the champion by" compares with the
 * version in production, in the direction of the metric's goal, and is skipped while there is none.
 */
import type { ResolvedManifest } from '#core/manifest/schema';
import type { GateResult } from '#core/registry/types';

export interface ChampionMetrics {
  version: number;
  metrics: Record<string, number>;
}

export interface GateEvaluation {
  passed: boolean;
  results: GateResult[];
}

/** Thresholds are rounded so 0.9 - 0.02 is 0.88, not 0.8800000000000001. */
const round = (n: number) => Number(n.toPrecision(12));

export function evaluateGates(
  manifest: ResolvedManifest,
  metrics: Record<string, number>,
  champion?: ChampionMetrics,
): GateEvaluation {
  const results: GateResult[] = [];
  for (const gate of manifest.gates) {
    const name = gate.metric;
    const value = metrics[name];
    if (value === undefined || !Number.isFinite(value)) {
      results.push({
        gate: `${name} reported`,
        passed: false,
        detail: `the training job reported no final value for ${name}; log it in the notebook with log_metric("${name}", value) so SageMaker captures it.`,
      });
      continue;
    }
    if (gate.min !== undefined)
      results.push({ gate: `${name} >= ${gate.min}`, passed: value >= gate.min, value, threshold: gate.min });
    if (gate.max !== undefined)
      results.push({ gate: `${name} <= ${gate.max}`, passed: value <= gate.max, value, threshold: gate.max });
    if (gate.noWorseThanChampionBy !== undefined) {
      const by = gate.noWorseThanChampionBy;
      const label = `${name} no worse than the champion by ${by}`;
      const championValue = champion?.metrics[name];
      if (!champion || championValue === undefined) {
        results.push({
          gate: label,
          passed: true,
          value,
          detail: champion
            ? `skipped: champion v${champion.version} has no ${name} to compare with.`
            : 'skipped: no version is in production yet.',
        });
        continue;
      }
      const goal = manifest.metrics.find((m) => m.name === name)?.goal ?? 'maximize';
      const threshold = round(goal === 'maximize' ? championValue - by : championValue + by);
      results.push({
        gate: label,
        passed: goal === 'maximize' ? value >= threshold : value <= threshold,
        value,
        threshold,
        detail: `champion v${champion.version} has ${championValue}; ${goal === 'maximize' ? 'higher' : 'lower'} is better, so ${name} must be ${goal === 'maximize' ? 'at least' : 'at most'} ${threshold}.`,
      });
    }
  }
  return { passed: results.every((r) => r.passed), results };
}

/** One line per gate, for notifications and reasons: `✔ validation:auc >= 0.75 (0.91)`. */
export function describeGateResults(results: readonly GateResult[]): string {
  if (results.length === 0) return 'no quality gates declared';
  return results
    .map((r) => {
      const value = r.value === undefined ? '' : ` (got ${r.value})`;
      const detail = r.detail ? ` - ${r.detail}` : '';
      return `${r.passed ? 'passed' : 'FAILED'}: ${r.gate}${value}${detail}`;
    })
    .join('\n');
}

/** The metrics as `name=value` pairs, sorted by name. */
export function describeMetrics(metrics: Record<string, number> | undefined): string {
  const entries = Object.entries(metrics ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? 'none reported' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}
