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

/** Dataset drift share (0-1) per evaluation, oldest to newest, with the dataset threshold. */
export function driftShareChart(points: readonly SharePoint[], threshold?: number): string {
  const w = 720;
  const h = 240;
  const m = { left: 48, right: 16, top: 16, bottom: 40 };
  const plotW = w - m.left - m.right;
  const plotH = h - m.top - m.bottom;
  const times = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number) => round(m.left + (t1 === t0 ? plotW / 2 : ((t - t0) / (t1 - t0)) * plotW));
  const y = (share: number) => round(m.top + (1 - Math.max(0, Math.min(1, share))) * plotH);
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${m.left}" x2="${w - m.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="${COLORS.grid}"/>`,
      `<text x="${m.left - 6}" y="${y(tick) + 4}" font-size="11" text-anchor="end" fill="#6b7385">${tick * 100}%</text>`,
    );
  }
  if (threshold !== undefined)
    parts.push(
      `<line x1="${m.left}" x2="${w - m.right}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="${COLORS.fail}" stroke-dasharray="6 4"/>`,
      `<text x="${w - m.right}" y="${y(threshold) - 4}" font-size="11" text-anchor="end" fill="${COLORS.fail}">dataset drift at ${round(threshold * 100)}%</text>`,
    );
  const judged = points.map((p, i) => ({ p, t: times[i]! })).filter(({ p }) => p.share !== undefined);
  if (judged.length > 1)
    parts.push(
      `<polyline fill="none" stroke="${COLORS.line}" stroke-width="2" points="${judged.map(({ p, t }) => `${x(t)},${y(p.share!)}`).join(' ')}"/>`,
    );
  points.forEach((p, i) => {
    const cx = x(times[i]!);
    const label = `${shortTime(p.at)}: ${p.share === undefined ? 'insufficient data, no verdict' : `${round(p.share * 100)}% of features drifted${p.drifted ? ' (dataset drift)' : ''}`}`;
    if (p.share === undefined)
      parts.push(
        `<circle cx="${cx}" cy="${y(0)}" r="5" fill="white" stroke="${COLORS.none}" stroke-width="2"><title>${escapeHtml(label)}</title></circle>`,
      );
    else
      parts.push(
        `<circle cx="${cx}" cy="${y(p.share)}" r="5" fill="${p.drifted ? COLORS.fail : COLORS.pass}"><title>${escapeHtml(label)}</title></circle>`,
      );
  });
  parts.push(
    `<text x="${m.left}" y="${h - 12}" font-size="11" fill="#6b7385">${escapeHtml(shortTime(points[0]?.at ?? ''))}</text>`,
    `<text x="${w - m.right}" y="${h - 12}" font-size="11" text-anchor="end" fill="#6b7385">${escapeHtml(shortTime(points.at(-1)?.at ?? ''))}</text>`,
  );
  const summary = `Share of drifted features in ${points.length} drift evaluation${points.length === 1 ? '' : 's'}`;
  return `<svg id="drift-share-chart" role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${escapeHtml(summary)}</title>${parts.join('')}</svg>`;
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
  const w = label + columns.length * cellW + 16;
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
  parts.push(
    `<text x="${label}" y="${h - 6}" font-size="11" fill="#6b7385">oldest</text>`,
    `<text x="${label + columns.length * cellW}" y="${h - 6}" font-size="11" text-anchor="end" fill="#6b7385">newest</text>`,
  );
  const summary = `Drifted features per evaluation (${features.length} features, ${columns.length} evaluations; red drifted, green not, grey no verdict)`;
  return `<svg id="feature-drift-chart" role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${escapeHtml(summary)}</title>${parts.join('')}</svg>`;
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
  return `<svg id="timeline-chart" role="img" aria-label="${escapeHtml(summary)}" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${escapeHtml(summary)}</title>${parts.join('')}</svg>`;
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
