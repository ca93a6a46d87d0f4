/**
 * The drift report a scheduled evaluation writes next to its registry item:
 *   drift/<model>/<window end>/report.json   the DriftReport, its context and the distributions
 *   drift/<model>/<window end>/report.html   a page for people: the verdict, a table of every
 *                                            feature, and a chart per drifted feature (baseline
 *                                            vs current), inline SVG, no external assets
 * Distributions come from the same summaries the statistics used: the baseline's quantile bins
 * and the window's counts over them for numeric features, category shares for categorical ones.
 */
import type { CategoricalAccumulator, DriftAccumulators, NumericAccumulator } from './accumulate';
import { type Baseline, OTHER_CATEGORY } from './baseline';
import type { CaptureStats } from './capture';
import type { DriftReport, FeatureDrift } from './evaluate';

export const REPORT_FORMAT = 'nbops-drift-report/v1';
/** Categories charted per feature: the largest shares on either side, the rest summed. */
const MAX_CATEGORIES = 20;

export interface DriftReportContext {
  model: string;
  version: number;
  endpoint: string;
  /** The evaluated window [from, to), ISO. */
  window: { from: string; to: string };
  generatedAt: string;
  /** Where the baseline came from (an S3 URI). */
  baselineUri: string;
  capture: CaptureStats;
}

export interface DistributionBar {
  label: string;
  baseline: number;
  current: number;
}

export interface FeatureDistribution {
  feature: string;
  type: 'numeric' | 'categorical';
  /** Shares (0-1) per bin or category, baseline and current. */
  bars: DistributionBar[];
}

const shareOf = (counts: ArrayLike<number>) => {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  return (i: number) => (total > 0 ? counts[i]! / total : 0);
};

function short(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  return abs >= 1e5 || abs < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}

/** Baseline vs current distribution of a feature, or undefined when one side has no summary. */
export function featureDistribution(
  name: string,
  baseline: Baseline,
  current: DriftAccumulators,
): FeatureDistribution | undefined {
  const reference = baseline.features.find((f) => f.name === name);
  const position = current.positionOf(name);
  const accumulator = position === undefined ? undefined : current.accumulators[position];
  if (!reference || !accumulator) return undefined;
  if (reference.type === 'numeric') {
    const acc = accumulator as NumericAccumulator;
    const edges = reference.edges;
    if (edges.length < 2 || acc.binCounts.length !== reference.counts.length) return undefined;
    const base = shareOf(reference.counts);
    const cur = shareOf(acc.binCounts);
    return {
      feature: name,
      type: 'numeric',
      bars: reference.counts.map((_, i) => ({
        label: `${short(edges[i]!)}–${short(edges[i + 1]!)}`,
        baseline: base(i),
        current: cur(i),
      })),
    };
  }
  const acc = accumulator as CategoricalAccumulator;
  const baseTotal = [...reference.frequencies.values()].reduce((a, b) => a + b, 0);
  const curTotal = acc.count;
  const categories = new Set([...reference.frequencies.keys(), ...acc.counts.keys()]);
  const bars = [...categories].map((label) => ({
    label,
    baseline: baseTotal > 0 ? (reference.frequencies.get(label) ?? 0) / baseTotal : 0,
    current: curTotal > 0 ? (acc.counts.get(label) ?? 0) / curTotal : 0,
  }));
  bars.sort(
    (a, b) =>
      Math.max(b.baseline, b.current) - Math.max(a.baseline, a.current) || (a.label < b.label ? -1 : 1),
  );
  if (bars.length <= MAX_CATEGORIES) return { feature: name, type: 'categorical', bars };
  const kept = bars.slice(0, MAX_CATEGORIES - 1);
  const rest = bars.slice(MAX_CATEGORIES - 1);
  kept.push({
    label: `${OTHER_CATEGORY} (${rest.length} more)`,
    baseline: rest.reduce((a, b) => a + b.baseline, 0),
    current: rest.reduce((a, b) => a + b.current, 0),
  });
  return { feature: name, type: 'categorical', bars: kept };
}

/** The distributions of the features that drifted (the ones a person will want to look at). */
export function driftedDistributions(
  report: DriftReport,
  baseline: Baseline,
  current: DriftAccumulators,
): FeatureDistribution[] {
  return report.features
    .filter((f) => f.drifted)
    .flatMap((f) => featureDistribution(f.name, baseline, current) ?? []);
}

export function driftReportJson(
  report: DriftReport,
  context: DriftReportContext,
  distributions: FeatureDistribution[],
): Record<string, unknown> {
  return { format: REPORT_FORMAT, ...context, report, distributions };
}

// ------------------------------------------------------------------------------------------- HTML

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 && x > 0 ? 2 : 1)}%`;
}

function statistic(f: FeatureDrift): string {
  if (f.statistic === null) return '—';
  return `${short(f.statistic)}${f.pValue !== null ? ` (p ${short(f.pValue)})` : ''}`;
}

const CHART = { width: 720, height: 260, left: 48, right: 12, top: 16, bottom: 76 };

/** A grouped bar chart: baseline and current share per bin or category. */
export function distributionSvg(d: FeatureDistribution): string {
  const { width, height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(0.01, ...d.bars.flatMap((b) => [b.baseline, b.current]));
  const slot = plotW / Math.max(1, d.bars.length);
  const barW = Math.max(1, slot * 0.38);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (const tick of [0, 0.5, 1]) {
    const v = max * tick;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${pct(v)}</text>`,
    );
  }
  d.bars.forEach((b, i) => {
    const x = left + i * slot + slot * 0.1;
    const bar = (value: number, dx: number, color: string, who: string) =>
      `<rect x="${(x + dx).toFixed(1)}" y="${y(value).toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - y(value)).toFixed(1)}" fill="${color}"><title>${escapeHtml(b.label)}: ${who} ${pct(value)}</title></rect>`;
    parts.push(bar(b.baseline, 0, '#6b8cba', 'baseline'), bar(b.current, barW, '#e8833a', 'current'));
    const lx = x + barW;
    const ly = top + plotH + 10;
    const label = b.label.length > 18 ? `${b.label.slice(0, 17)}…` : b.label;
    parts.push(
      `<text x="${lx.toFixed(1)}" y="${ly}" font-size="10" text-anchor="end" transform="rotate(-40 ${lx.toFixed(1)} ${ly})">${escapeHtml(label)}</text>`,
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(d.feature)}: baseline vs current">`,
    ...parts,
    `<rect x="${width - 180}" y="2" width="10" height="10" fill="#6b8cba"/><text x="${width - 166}" y="11" font-size="11">baseline</text>`,
    `<rect x="${width - 100}" y="2" width="10" height="10" fill="#e8833a"/><text x="${width - 86}" y="11" font-size="11">current</text>`,
    '</svg>',
  ].join('\n');
}

export function renderDriftReportHtml(
  report: DriftReport,
  context: DriftReportContext,
  distributions: FeatureDistribution[],
): string {
  const e = escapeHtml;
  const d = report.datasetDrift;
  const verdict = report.insufficientData
    ? `Insufficient data: ${report.records} record(s) in the window, at least ${report.minRecords} are needed for a verdict. No drift decision was made.`
    : d.drifted
      ? `Dataset drift: ${d.driftedFeatures} of ${d.evaluatedFeatures} feature(s) drifted (share ${pct(d.share)}, threshold ${pct(d.threshold)}).`
      : `No dataset drift: ${d.driftedFeatures} of ${d.evaluatedFeatures} feature(s) drifted (share ${pct(d.share)}, threshold ${pct(d.threshold)}).`;
  const rows = report.features
    .map(
      (f) =>
        `<tr${f.drifted ? ' class="drift"' : ''}><td>${e(f.name)}</td><td>${f.type}</td><td>${f.method}</td><td>${statistic(f)}</td><td>${short(f.threshold)}</td><td>${f.drifted ? 'DRIFT' : f.statistic === null ? '—' : 'ok'}</td><td>${f.nReference}</td><td>${f.nCurrent}</td><td>${f.missingCurrent + f.invalidCurrent}</td><td>${f.note ? e(f.note) : ''}</td></tr>`,
    )
    .join('\n');
  const charts =
    distributions.length > 0
      ? distributions
          .map(
            (dist) =>
              `<section><h3>${e(dist.feature)} (${dist.type})</h3>\n${distributionSvg(dist)}</section>`,
          )
          .join('\n')
      : '<p>No feature drifted: nothing to chart.</p>';
  const skipped = Object.entries(context.capture.skipped);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Drift: ${e(context.model)} v${context.version}, window ending ${e(context.window.to)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
tr.drift td{background:#fdecea}.verdict{font-size:1.1rem;font-weight:600}
</style>
</head>
<body>
<h1>Drift report: ${e(context.model)} v${context.version}</h1>
<p class="verdict">${e(verdict)}</p>
<p>Endpoint ${e(context.endpoint)}, window ${e(context.window.from)} to ${e(context.window.to)}, method ${e(report.method)}.
Baseline ${e(context.baselineUri)}. Generated ${e(context.generatedAt)}.</p>
<p>Capture: ${context.capture.files} file(s), ${context.capture.records} record(s) in the window, ${report.records} row(s) evaluated${skipped.length ? `; skipped: ${e(skipped.map(([why, n]) => `${n} ${why}`).join(', '))}` : ''}.</p>
<h2>Features</h2>
<table>
<tr><th>feature</th><th>type</th><th>method</th><th>statistic</th><th>threshold</th><th>drift</th><th>n ref</th><th>n cur</th><th>missing</th><th>note</th></tr>
${rows}
</table>
<h2>Drifted features: baseline vs current</h2>
${charts}
</body>
</html>
`;
}
