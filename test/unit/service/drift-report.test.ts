// The drift report people read: the verdict, a row per feature, and for each drifted feature a
// baseline-vs-current chart drawn from the same summaries the statistics used.
import { describe, expect, it } from 'vitest';
import { createAccumulators } from '#core/drift/accumulate';
import { baselineFromRows, seededRandom } from '#core/drift/baseline';
import { emptyCaptureStats } from '#core/drift/capture';
import { evaluateDrift } from '#core/drift/evaluate';
import {
  type DriftReportContext,
  distributionSvg,
  driftedDistributions,
  driftReportJson,
  featureDistribution,
  renderDriftReportHtml,
} from '#core/drift/report';
import type { FeatureSpec } from '#core/drift/values';

const FEATURES: FeatureSpec[] = [
  { name: 'charges', type: 'numeric' },
  { name: 'plan', type: 'categorical' },
  { name: 'age', type: 'numeric' },
];

function rows(n: number, seed: number, shift = 0, planBias = 0): unknown[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => [
    50 + random() * 50 + shift,
    random() < planBias ? 'basic' : ['basic', 'pro', 'team'][Math.floor(random() * 3)],
    18 + Math.floor(random() * 60),
  ]);
}

function evaluate(current: unknown[][]) {
  const baseline = baselineFromRows(rows(3000, 1), FEATURES);
  const accumulators = createAccumulators(baseline, FEATURES);
  for (const row of current) accumulators.addRow(row);
  const report = evaluateDrift({ baseline, current: accumulators, features: FEATURES });
  return { baseline, accumulators, report };
}

const context: DriftReportContext = {
  model: 'churn',
  version: 4,
  endpoint: 'churn',
  window: { from: '2025-03-01T11:00:00.000Z', to: '2025-03-01T12:00:00.000Z' },
  generatedAt: '2025-03-01T12:00:05.000Z',
  baselineUri: 's3://b/versions/churn/v4/baseline/nbops-baseline.json',
  capture: { ...emptyCaptureStats(), files: 2, records: 800, skipped: { 'invalid JSON': 3 } },
};

describe('drift report', () => {
  const { baseline, accumulators, report } = evaluate(rows(800, 2, 30, 0.7));

  it('charts the drifted features from the baseline’s bins and the window’s counts over them', () => {
    expect(report.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(['charges', 'plan']);
    const distributions = driftedDistributions(report, baseline, accumulators);
    expect(distributions.map((d) => d.feature)).toEqual(['charges', 'plan']);
    const charges = distributions[0]!;
    expect(charges.type).toBe('numeric');
    expect(charges.bars).toHaveLength(20);
    const sum = (k: 'baseline' | 'current') => charges.bars.reduce((a, b) => a + b[k], 0);
    expect(sum('baseline')).toBeCloseTo(1, 12);
    expect(sum('current')).toBeCloseTo(1, 12);
    // Shifted up by 30: the current mass sits in the upper bins (values above the top edge fold into the last).
    expect(charges.bars.at(-1)!.current).toBeGreaterThan(0.3);
    const plan = distributions[1]!;
    expect(plan.bars.map((b) => b.label)).toEqual(['basic', 'pro', 'team']);
    expect(plan.bars[0]!.current).toBeGreaterThan(0.7);
  });

  it('caps categories at 20, summing the rest', () => {
    const cats: FeatureSpec[] = [{ name: 'city', type: 'categorical' }];
    const b = baselineFromRows(
      Array.from({ length: 300 }, (_, i) => [`c${i % 30}`]),
      cats,
    );
    const acc = createAccumulators(b, cats);
    for (let i = 0; i < 100; i++) acc.addRow([`n${i % 40}`]);
    const d = featureDistribution('city', b, acc)!;
    expect(d.bars).toHaveLength(20);
    expect(d.bars.at(-1)!.label).toBe('__other__ (51 more)');
    expect(d.bars.reduce((a, x) => a + x.baseline, 0)).toBeCloseTo(1, 12);
    expect(d.bars.reduce((a, x) => a + x.current, 0)).toBeCloseTo(1, 12);
  });

  it('renders a self-contained page: verdict, every feature, one SVG per drifted feature, text escaped', () => {
    const distributions = driftedDistributions(report, baseline, accumulators);
    const html = renderDriftReportHtml(report, { ...context, endpoint: 'churn<script>' }, distributions);
    expect(html).toContain('Dataset drift: 2 of 3 feature(s) drifted (share 66.7%, threshold 50.0%).');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html.match(/<tr class="drift">/g)).toHaveLength(2);
    expect(html).toContain('churn&lt;script&gt;');
    expect(html).not.toContain('<script');
    expect(html).toContain('skipped: 3 invalid JSON');
    // No external assets: the only URL is the SVG namespace.
    expect(html.match(/https?:\/\/[^\s"<]+/g)).toEqual(Array(2).fill('http://www.w3.org/2000/svg'));
    const svg = distributionSvg(distributions[1]!);
    expect(svg).toContain('<title>basic: current');
    expect(svg.match(/<rect /g)!.length).toBe(3 * 2 + 2); // two bars per category, two legend keys
  });

  it('says there is no verdict when the window is too small, and draws nothing', () => {
    const small = evaluate(rows(20, 3, 30));
    const html = renderDriftReportHtml(
      small.report,
      context,
      driftedDistributions(small.report, small.baseline, small.accumulators),
    );
    expect(html).toContain(
      'Insufficient data: 20 record(s) in the window, at least 100 are needed for a verdict. No drift decision was made.',
    );
    expect(html).not.toContain('<svg');
    expect(html).toContain('No feature drifted: nothing to chart.');
  });

  it('keeps the whole report, its context and the distributions in the JSON', () => {
    const json = driftReportJson(report, context, driftedDistributions(report, baseline, accumulators));
    expect(json).toMatchObject({
      format: 'nbops-drift-report/v1',
      model: 'churn',
      version: 4,
      window: context.window,
      report: { records: 800, datasetDrift: { drifted: true } },
      distributions: [{ feature: 'charges' }, { feature: 'plan' }],
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
