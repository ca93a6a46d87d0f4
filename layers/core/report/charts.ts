/**
 * Inline SVG charts for the version report: drift share over time, which features drifted in each
 * evaluation, and the version's timeline. Plain SVG with a <title> and an aria-label each, so they
 * render without scripts or fonts from the network and say what they show to screen readers.
 */
import { escapeHtml } from './html';

const COLORS = { pass: '#1a7f37', fail: '#c62828', none: '#9aa1ad', line: '#3b6fd4', grid: '#d9dde6' };

export interface SharePoint {
  at: string;
  /** Share of features that drifted; undefined without a verdict (insufficient data). */
  share?: number;
  drifted: boolean;
}

const round = (n: number) => Math.round(n * 10) / 10;
const shortTime = (iso: string) => iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z');
/** Axis numbers: at most 3 significant digits, no float noise. */
const tickText = (n: number) => String(Number(n.toPrecision(3)));
const AXIS_TEXT = '#6b7385';

/** Maps times to x across a plot; a single time (or none) sits in the middle. Bad times are dropped by callers. */
function timeScale(times: readonly number[], left: number, width: number): (t: number) => number {
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  return (t) => round(left + (times.length === 0 || t1 === t0 ? width / 2 : ((t - t0) / (t1 - t0)) * width));
}

/** Keeps points whose time parses, so one bad record cannot put NaN into the SVG. */
function withTimes<T extends { at: string }>(points: readonly T[]): { p: T; t: number }[] {
  return points.map((p) => ({ p, t: Date.parse(p.at) })).filter(({ t }) => Number.isFinite(t));
}

/** The x axis of a time chart: first and last time, and what the axis is. */
function timeAxis(first: string, last: string, left: number, right: number, y: number): string {
  return [
    `<text x="${left}" y="${y}" font-size="11" fill="${AXIS_TEXT}">${escapeHtml(shortTime(first))}</text>`,
    `<text x="${right}" y="${y}" font-size="11" text-anchor="end" fill="${AXIS_TEXT}">${escapeHtml(shortTime(last))}</text>`,
    `<text x="${round((left + right) / 2)}" y="${y + 14}" font-size="11" text-anchor="middle" fill="${AXIS_TEXT}">window end (UTC)</text>`,
  ].join('');
}

/** A y-axis title, written bottom to top along the left edge. */
function yAxisTitle(text: string, top: number, bottom: number): string {
  const y = round((top + bottom) / 2);
  return `<text x="12" y="${y}" font-size="11" text-anchor="middle" fill="${AXIS_TEXT}" transform="rotate(-90 12 ${y})">${escapeHtml(text)}</text>`;
}

/** Dataset drift share (0-1) per evaluation, oldest to newest, with the dataset threshold. */
export function driftShareChart(points: readonly SharePoint[], threshold?: number): string {
  const w = 720;
  const h = 250;
  const m = { left: 60, right: 16, top: 16, bottom: 48 };
  const plotW = w - m.left - m.right;
  const plotH = h - m.top - m.bottom;
  const timed = withTimes(points);
  const x = timeScale(
    timed.map(({ t }) => t),
    m.left,
    plotW,
  );
  const y = (share: number) => round(m.top + (1 - Math.max(0, Math.min(1, share))) * plotH);
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${m.left}" x2="${w - m.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end" fill="${AXIS_TEXT}">${tick * 100}%</text>`,
    );
  }
  parts.push(yAxisTitle('features drifted', m.top, m.top + plotH));
  if (threshold !== undefined && Number.isFinite(threshold))
    parts.push(
      `<line class="threshold" x1="${m.left}" x2="${w - m.right}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="${COLORS.fail}" stroke-dasharray="6 4"/>`,
      `<text x="${w - m.right}" y="${y(threshold) - 4}" font-size="11" text-anchor="end" fill="${COLORS.fail}">dataset drift at ${round(threshold * 100)}%</text>`,
    );
  const judged = timed.filter(({ p }) => p.share !== undefined);
  if (judged.length > 1)
    parts.push(
      `<polyline fill="none" stroke="${COLORS.line}" stroke-width="2" points="${judged.map(({ p, t }) => `${x(t)},${y(p.share!)}`).join(' ')}"/>`,
    );
  for (const { p, t } of timed) {
    const cx = x(t);
    const label = `${shortTime(p.at)}: ${p.share === undefined ? 'insufficient data, no verdict' : `${round(p.share * 100)}% of features drifted${p.drifted ? ' (dataset drift)' : ''}`}`;
    if (p.share === undefined)
      parts.push(
        `<circle cx="${cx}" cy="${y(0)}" r="5" fill="white" stroke="${COLORS.none}" stroke-width="2"><title>${escapeHtml(label)}</title></circle>`,
      );
    else
      parts.push(
        `<circle cx="${cx}" cy="${y(p.share)}" r="5" fill="${p.drifted ? COLORS.fail : COLORS.pass}"><title>${escapeHtml(label)}</title></circle>`,
      );
  }
  parts.push(timeAxis(timed[0]?.p.at ?? '', timed.at(-1)?.p.at ?? '', m.left, w - m.right, h - 22));
  const summary = `Share of drifted features in ${points.length} drift evaluation${points.length === 1 ? '' : 's'}${threshold !== undefined ? `; dataset drift at ${round(threshold * 100)}% or more` : ''}`;
  return svg('drift-share-chart', summary, w, h, parts);
}

export interface StatisticPoint {
  at: string;
  statistic: number;
  threshold: number;
  drifted: boolean;
}

/**
 * One feature's drift statistic per evaluation, oldest to newest. `thresholdLine` is false when the
 * threshold is not on the statistic's scale (the tests compare a p-value with it), so no line is drawn.
 */
export function featureStatisticChart(
  feature: string,
  points: readonly StatisticPoint[],
  options: { thresholdLine: boolean; axisTitle?: string },
): string {
  const w = 340;
  const h = 190;
  const m = { left: 56, right: 12, top: 24, bottom: 46 };
  const plotW = w - m.left - m.right;
  const plotH = h - m.top - m.bottom;
  const timed = withTimes(points).filter(({ p }) => Number.isFinite(p.statistic));
  const x = timeScale(
    timed.map(({ t }) => t),
    m.left,
    plotW,
  );
  const thresholds = timed.map(({ p }) => p.threshold).filter((n) => Number.isFinite(n));
  const highest = Math.max(
    0,
    ...timed.map(({ p }) => p.statistic),
    ...(options.thresholdLine ? thresholds : []),
  );
  const top = highest > 0 ? highest * 1.15 : 1;
  const y = (v: number) => round(m.top + (1 - Math.max(0, Math.min(top, v)) / top) * plotH);
  const parts: string[] = [
    `<text x="${m.left}" y="14" font-size="12" font-weight="600" fill="#1d2330">${escapeHtml(feature)}</text>`,
  ];
  for (const tick of [0, top / 2, top])
    parts.push(
      `<line x1="${m.left}" x2="${w - m.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end" fill="${AXIS_TEXT}">${tickText(tick)}</text>`,
    );
  parts.push(yAxisTitle(options.axisTitle ?? 'statistic', m.top, m.top + plotH));
  if (options.thresholdLine && thresholds.length > 0) {
    const constant = thresholds.every((t) => t === thresholds[0]);
    if (constant)
      parts.push(
        `<line class="threshold" x1="${m.left}" x2="${w - m.right}" y1="${y(thresholds[0]!)}" y2="${y(thresholds[0]!)}" stroke="${COLORS.fail}" stroke-dasharray="6 4"/>`,
      );
    else
      parts.push(
        `<polyline class="threshold" fill="none" stroke="${COLORS.fail}" stroke-dasharray="6 4" points="${timed.map(({ p, t }) => `${x(t)},${y(p.threshold)}`).join(' ')}"/>`,
      );
    parts.push(
      `<text x="${w - m.right}" y="${y(thresholds.at(-1)!) - 4}" font-size="11" text-anchor="end" fill="${COLORS.fail}">threshold ${tickText(thresholds.at(-1)!)}</text>`,
    );
  }
  if (timed.length > 1)
    parts.push(
      `<polyline fill="none" stroke="${COLORS.line}" stroke-width="2" points="${timed.map(({ p, t }) => `${x(t)},${y(p.statistic)}`).join(' ')}"/>`,
    );
  for (const { p, t } of timed)
    parts.push(
      `<circle cx="${x(t)}" cy="${y(p.statistic)}" r="4" fill="${p.drifted ? COLORS.fail : COLORS.pass}"><title>${escapeHtml(`${feature} at ${shortTime(p.at)}: ${options.axisTitle ?? 'statistic'} ${tickText(p.statistic)}, threshold ${tickText(p.threshold)}, ${p.drifted ? 'drifted' : 'no drift'}`)}</title></circle>`,
    );
  parts.push(timeAxis(timed[0]?.p.at ?? '', timed.at(-1)?.p.at ?? '', m.left, w - m.right, h - 20));
  const drifted = timed.filter(({ p }) => p.drifted).length;
  const summary = `${feature}: drift statistic in ${timed.length} evaluation${timed.length === 1 ? '' : 's'}, ${drifted} drifted${options.thresholdLine && thresholds.length > 0 ? `; threshold ${tickText(thresholds.at(-1)!)}` : ''}`;
  return svg(undefined, summary, w, h, parts, { class: 'feature-chart', 'data-feature': feature });
}

function svg(
  id: string | undefined,
  summary: string,
  w: number,
  h: number,
  parts: readonly string[],
  attributes: Record<string, string> = {},
): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('');
  return `<svg${id ? ` id="${id}"` : ''}${extra} role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${escapeHtml(summary)}</title>${parts.join('')}</svg>`;
}

export interface GridColumn {
  at: string;
  /** Per feature: drifted or not; absent features had no verdict in that evaluation. */
  features: Record<string, boolean>;
}

/** Which feature drifted in which evaluation: one row per feature, one column per evaluation. */
export function featureDriftGrid(columns: readonly GridColumn[], features: readonly string[]): string {
  const label = 140;
  const cellW = Math.max(8, Math.min(28, Math.floor(560 / Math.max(1, columns.length))));
  const cellH = 18;
  const w = Math.max(label + 110, label + columns.length * cellW + 16);
  const h = 16 + features.length * cellH + 24;
  const parts: string[] = [];
  features.forEach((feature, row) => {
    const y = 16 + row * cellH;
    parts.push(
      `<text x="${label - 8}" y="${y + 13}" font-size="11" text-anchor="end" fill="#1d2330">${escapeHtml(feature)}</text>`,
    );
    columns.forEach((column, col) => {
      const drifted = column.features[feature];
      const fill = drifted === undefined ? COLORS.none : drifted ? COLORS.fail : COLORS.pass;
      const word = drifted === undefined ? 'no verdict' : drifted ? 'drifted' : 'no drift';
      parts.push(
        `<rect x="${label + col * cellW}" y="${y}" width="${cellW - 2}" height="${cellH - 2}" fill="${fill}"><title>${escapeHtml(`${feature} at ${shortTime(column.at)}: ${word}`)}</title></rect>`,
      );
    });
  });
  // "oldest … newest" needs room: with a few columns one label says it all.
  if (columns.length * cellW >= 90)
    parts.push(
      `<text x="${label}" y="${h - 6}" font-size="11" fill="#6b7385">oldest</text>`,
      `<text x="${label + columns.length * cellW}" y="${h - 6}" font-size="11" text-anchor="end" fill="#6b7385">newest</text>`,
    );
  else
    parts.push(
      `<text x="${label}" y="${h - 6}" font-size="11" fill="#6b7385">${columns.length === 1 ? 'one evaluation' : 'oldest to newest'}</text>`,
    );
  const summary = `Drifted features per evaluation (${features.length} features, ${columns.length} evaluations; red drifted, green not, grey no verdict)`;
  return svg('feature-drift-chart', summary, w, h, parts);
}

export interface TimelineStep {
  at: string;
  label: string;
  tone: 'good' | 'bad' | 'neutral';
}

/** The version's states in order, evenly spaced, with the time since the first under each. */
export function timelineChart(steps: readonly TimelineStep[]): string {
  const stepW = 112;
  const w = Math.max(720, 40 + steps.length * stepW);
  const h = 96;
  const y = 44;
  const start = Date.parse(steps[0]?.at ?? '');
  const parts: string[] = [];
  if (steps.length > 1)
    parts.push(
      `<line x1="${40}" x2="${40 + (steps.length - 1) * stepW}" y1="${y}" y2="${y}" stroke="${COLORS.grid}" stroke-width="3"/>`,
    );
  steps.forEach((step, i) => {
    const x = 40 + i * stepW;
    const fill = step.tone === 'good' ? COLORS.pass : step.tone === 'bad' ? COLORS.fail : COLORS.line;
    parts.push(
      `<circle cx="${x}" cy="${y}" r="7" fill="${fill}"><title>${escapeHtml(`${step.label} at ${step.at}`)}</title></circle>`,
      `<text x="${x}" y="${y - 14}" font-size="11" text-anchor="middle" fill="#1d2330">${escapeHtml(step.label)}</text>`,
      `<text x="${x}" y="${y + 24}" font-size="11" text-anchor="middle" fill="#6b7385">${escapeHtml(elapsed(Date.parse(step.at) - start))}</text>`,
    );
  });
  const summary = `Timeline of ${steps.length} state changes`;
  return svg('timeline-chart', summary, w, h, parts);
}

/** `+0s`, `+42s`, `+3m 5s`, `+2h 10m`, `+3d 4h`. */
export function elapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `+${s}s`;
  if (s < 3600) return `+${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `+${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `+${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
