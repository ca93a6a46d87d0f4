/**
 * The HTML report of one version: where it stands, its metrics against its quality gates, the
 * validation findings, drift charts, its deployment timeline, its lineage, incidents and the audit
 * trail. One self-contained page (inline CSS and SVG, no script, nothing fetched), written beside
 * the version's other reports at versions/<model>/v<n>/reports/version.html.
 *
 * Rendered on demand (`nbops report`, the ops API) from the registry's current state, so the page
 * is never older than the request that made it; each rendering overwrites the file.
 */
import { parseS3Uri, s3Uri } from '#core/layout';
import { showVersion, versionReportKey } from '#core/ops/queries';
import type { VersionDetail } from '#core/ops/views';
import type { Services } from '#core/ports';
import type { Status } from '#core/registry/lifecycle';
import type { AuditEvent, VersionRecord } from '#core/registry/types';
import { manifestOf } from '#core/service/context';
import type { Finding } from '#core/validation/finding';
import {
  driftShareChart,
  featureDriftGrid,
  featureStatisticChart,
  type TimelineStep,
  timelineChart,
} from './charts';
import { code, escapeHtml, mark, page, raw, table } from './html';

/** Findings are read from the stored validation report; larger files are not inlined. */
const MAX_REPORT_BYTES = 8 * 1024 * 1024;
/** Findings shown in the table; the JSON report has all of them. */
const MAX_FINDINGS = 500;

export interface VersionReportData {
  detail: VersionDetail;
  /** The validation findings; undefined when the report could not be read (see findingsNote). */
  findings?: Finding[];
  findingsNote?: string;
  /** The manifest's dataset drift threshold (drift.datasetShare). */
  driftThreshold?: number;
  generatedAt: string;
}

export async function collectVersionReport(
  services: Services,
  model: string,
  version: number,
): Promise<VersionReportData> {
  const detail = await showVersion(services, model, version);
  const record = (await services.registry.getVersion(model, version)) as VersionRecord;
  const manifest = manifestOf(record);
  const data: VersionReportData = { detail, generatedAt: services.clock.now().toISOString() };
  if (manifest?.drift) data.driftThreshold = manifest.drift.datasetShare;
  const uri = detail.validation?.reportUri;
  const where = uri ? parseS3Uri(uri) : undefined;
  if (!where) {
    data.findingsNote = 'No validation report is recorded for this version.';
    return data;
  }
  try {
    const bytes = await services.store.getBytes(where, { maxBytes: MAX_REPORT_BYTES });
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { files?: { findings?: Finding[] }[] };
    data.findings = (json.files ?? []).flatMap((f) => f.findings ?? []);
  } catch (err) {
    data.findingsNote = `The validation report ${uri} could not be read (${(err as Error).message}); its counts are above.`;
  }
  return data;
}

/** Renders and stores the report beside the version's artifacts; returns where and the page. */
export async function writeVersionReport(
  services: Services,
  model: string,
  version: number,
): Promise<{ uri: string; html: string }> {
  const html = renderVersionReport(await collectVersionReport(services, model, version));
  const key = versionReportKey(model, version);
  await services.store.put({ bucket: services.config.bucket, key }, html, {
    contentType: 'text/html; charset=utf-8',
  });
  return { uri: s3Uri(services.config.bucket, key), html };
}

// --- rendering ---------------------------------------------------------------------------------

const GOOD: readonly Status[] = ['VALIDATED', 'TRAINED', 'GATES_PASSED', 'APPROVED', 'DEPLOYED'];
const BAD: readonly Status[] = [
  'REJECTED',
  'TRAINING_FAILED',
  'GATES_FAILED',
  'DECLINED',
  'DEPLOY_FAILED',
  'ROLLED_BACK',
];

function tone(status: string): 'good' | 'bad' | 'neutral' {
  if ((GOOD as readonly string[]).includes(status)) return 'good';
  if ((BAD as readonly string[]).includes(status)) return 'bad';
  return 'neutral';
}

const fmt = (n: number | undefined) => (n === undefined ? undefined : String(Number(n.toPrecision(6))));
const pct = (n: number | undefined) => (n === undefined ? undefined : `${Number((n * 100).toPrecision(4))}%`);

function card(label: string, value: string): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(value)}</div></div>`;
}

/** True once the version reached DEPLOYED (it served traffic, so drift and incidents can exist). */
function everDeployed(d: VersionDetail): boolean {
  return d.audit.some((e) => e.kind === 'transition' && e.to === 'DEPLOYED');
}

function header(d: VersionDetail, generatedAt: string): string {
  const status = `<span class="status ${tone(d.status)}" id="version-status">${escapeHtml(d.status)}</span>`;
  const lines = [
    `<h1>${escapeHtml(d.model)} v${d.version} ${status}${d.champion ? ' <span class="status good" id="champion-badge">champion</span>' : ''}</h1>`,
    d.reason
      ? `<p id="status-reason"><strong>Why ${escapeHtml(d.status)}:</strong> ${escapeHtml(d.reason)}${d.changedBy ? ` <span class="muted">(by ${escapeHtml(d.changedBy)})</span>` : ''}</p>`
      : '',
    `<p class="muted" id="version-facts">Uploaded by ${escapeHtml(d.uploader)} on ${escapeHtml(d.createdAt)}; owner ${escapeHtml(d.owner)}; last changed ${escapeHtml(d.updatedAt)}. Report generated ${escapeHtml(generatedAt)}.</p>`,
  ];
  const gates = d.gates ? (d.gates.passed ? 'passed' : 'failed') : 'not evaluated';
  const approval = d.approval
    ? `${d.approval.decision === 'approve' ? 'approved' : 'declined'} by ${d.approval.approver}`
    : d.deploymentPolicy?.approval === 'auto'
      ? 'automatic'
      : 'none yet';
  const validation = d.validation
    ? `${plural(d.validation.errors, 'error')}, ${plural(d.validation.warnings, 'warning')}`
    : 'not recorded';
  const production = d.champion
    ? d.status === 'DEPLOYED'
      ? 'champion, in production'
      : 'champion'
    : everDeployed(d)
      ? 'no longer in production'
      : 'never deployed';
  const cards = [
    card('Status', d.status),
    card('Production', production),
    card('Validation', validation),
    card('Quality gates', gates),
    card('Approval', approval),
    card('Drift evaluations', String(d.drift.length)),
    card('Incidents', String(d.incidents.length)),
  ];
  const toc = ['gates', 'findings', 'drift', 'timeline', 'lineage', 'incidents']
    .map((id) => `<a href="#${id}">${SECTION_TITLES[id]}</a>`)
    .join(' · ');
  return `${lines.join('\n')}\n<div class="cards">${cards.join('')}</div>\n<nav class="muted">${toc}</nav>`;
}

const SECTION_TITLES: Record<string, string> = {
  gates: 'Metrics against quality gates',
  findings: 'Validation findings',
  drift: 'Drift',
  timeline: 'Timeline',
  lineage: 'Lineage',
  incidents: 'Incidents',
};

const heading = (id: string) => `<h2 id="${id}">${SECTION_TITLES[id]}</h2>`;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Statuses before the training job finished: gates come later. */
const BEFORE_GATES: readonly string[] = ['RECEIVED', 'VALIDATED', 'TRAINING', 'TRAINED'];

function gatesSection(d: VersionDetail): string {
  const out = [heading('gates')];
  if (d.gates) {
    const failed = d.gates.results.filter((r) => !r.passed).length;
    out.push(
      `<p id="gates-verdict">${d.gates.passed ? 'Every gate passed.' : `${failed} of ${plural(d.gates.results.length, 'gate')} failed.`}</p>`,
      table(
        'gates-table',
        ['Gate', 'Value', 'Threshold', 'Result', 'Detail'],
        d.gates.results.map((r) => [r.gate, fmt(r.value), fmt(r.threshold), mark(r.passed), r.detail]),
        { rowClass: (i) => (d.gates!.results[i]!.passed ? 'gate-pass' : 'gate-fail') },
      ),
    );
  } else {
    const declared = d.declaredGates.map((g) => `<code>${escapeHtml(g)}</code>`).join(', ');
    const list = d.declaredGates.length > 0 ? ` Declared gates: ${declared}.` : '';
    out.push(
      !BEFORE_GATES.includes(d.status)
        ? `<p id="gates-verdict">The gates were not evaluated: this version stopped at ${escapeHtml(d.status)} before its training finished.${list}</p>`
        : d.declaredGates.length > 0
          ? `<p id="gates-verdict">The gates are evaluated once training finishes; this version is ${escapeHtml(d.status)}.${list}</p>`
          : '<p id="gates-verdict">The manifest declares no quality gates.</p>',
    );
  }
  const metrics = Object.entries(d.metrics ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (metrics.length > 0)
    out.push(
      table(
        'metrics-table',
        ['Metric', 'Final value'],
        metrics.map(([name, value]) => [name, fmt(value)]),
      ),
    );
  else out.push('<p class="muted" id="no-metrics">No metrics recorded: training has not produced any.</p>');
  return out.join('\n');
}

function location(f: Finding): string {
  const parts: string[] = [];
  if (f.location.file) parts.push(f.location.file);
  if (f.location.cell !== undefined) parts.push(`cell ${f.location.cell}`);
  if (f.location.line !== undefined) parts.push(`line ${f.location.line}`);
  if (parts.length === 0) parts.push(f.location.pointer || 'notebook');
  return parts.join(', ');
}

function findingsSection(data: VersionReportData): string {
  const d = data.detail;
  const out = [heading('findings')];
  if (d.validation)
    out.push(
      `<p>${plural(d.validation.errors, 'error')}, ${plural(d.validation.warnings, 'warning')}${d.validation.notices !== undefined ? `, ${plural(d.validation.notices, 'notice')}` : ''}. Full report: <code>${escapeHtml(d.validation.reportUri)}</code></p>`,
    );
  if (!data.findings) {
    out.push(`<p class="muted">${escapeHtml(data.findingsNote ?? 'No findings recorded.')}</p>`);
    return out.join('\n');
  }
  if (data.findings.length === 0) {
    out.push('<p id="no-findings">No findings: the notebook passed validation without a single finding.</p>');
    return out.join('\n');
  }
  const shown = data.findings.slice(0, MAX_FINDINGS);
  out.push(
    table(
      'findings-table',
      ['Severity', 'Rule', 'Where', 'Finding', 'Fix'],
      shown.map((f) => [
        raw(`<span class="sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity)}</span>`),
        f.rule,
        location(f),
        f.message,
        f.fix,
      ]),
    ),
  );
  if (data.findings.length > shown.length)
    out.push(
      `<p class="muted">${data.findings.length - shown.length} more findings are in the JSON report.</p>`,
    );
  return out.join('\n');
}

/** Methods whose threshold is a p-value level: the recorded statistic is not compared with it. */
const P_VALUE_METHODS = ['ks', 'chi2', 'z'];

function driftSection(data: VersionReportData): string {
  const d = data.detail;
  const out = [heading('drift')];
  if (d.drift.length === 0) {
    out.push(
      `<p id="no-drift">${
        everDeployed(d)
          ? `No drift evaluations of v${d.version} yet: they run on the model’s drift schedule once traffic is captured.`
          : `No drift evaluations: v${d.version} has never been deployed, so no traffic was captured to compare with its training data.`
      }</p>`,
    );
    return out.join('\n');
  }
  const oldestFirst = [...d.drift].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const latest = oldestFirst.at(-1)!;
  const drifted = d.drift.filter((e) => e.drifted).length;
  out.push(
    `<p id="drift-summary">${plural(d.drift.length, 'evaluation')}, ${drifted} with dataset drift. Latest (${escapeHtml(latest.at)}): ${latest.insufficientData ? 'insufficient data, no verdict' : latest.drifted ? 'dataset drift' : 'no dataset drift'}${latest.records !== undefined ? ` over ${latest.records} records` : ''}.</p>`,
    `<div class="chart">${driftShareChart(
      oldestFirst.map((e) => ({
        at: e.at,
        drifted: e.drifted,
        ...(e.insufficientData ? {} : { share: shareOf(e) }),
      })),
      data.driftThreshold,
    )}</div>`,
  );
  const features = [...new Set(oldestFirst.flatMap((e) => Object.keys(e.features ?? {})))].sort();
  if (features.length === 0) {
    out.push('<p class="muted">No feature statistics were recorded (every window had too few records).</p>');
  } else {
    // Tests (ks, chi2, z) compare a p-value with the threshold: their charts plot the p-value, with
    // the line at the level (drifted below it). Distances plot the statistic (drifted above it).
    // Evaluations recorded before p-values were kept have the statistic only: no line for those.
    out.push(
      `<h3>Drift per feature</h3>`,
      `<p class="muted">Each chart shows a feature's drift per evaluation (method ${escapeHtml(latest.method)}): the p-value for tests, where drift is below the dashed line, the statistic for distances, where drift is above it. Red points drifted.</p>`,
      `<div class="chart-grid">${features
        .map((feature) => {
          const recorded = oldestFirst.flatMap((e) => {
            const f = e.insufficientData ? undefined : e.features?.[feature];
            return f ? [{ at: e.at, f }] : [];
          });
          const byPValue = recorded.length > 0 && recorded.every(({ f }) => f.pValue !== undefined);
          const points = recorded.map(({ at, f }) => ({
            at,
            statistic: byPValue ? f.pValue! : f.statistic,
            threshold: f.threshold,
            drifted: f.drifted,
          }));
          // Trust the line only if every verdict agrees with it (older records may lack p-values).
          const onScale = points.every(
            (p) => p.drifted === (byPValue ? p.statistic < p.threshold : p.statistic >= p.threshold),
          );
          return featureStatisticChart(feature, points, {
            thresholdLine:
              onScale &&
              (byPValue || !recorded.some(({ f }) => P_VALUE_METHODS.includes(f.method ?? latest.method))),
            axisTitle: byPValue ? 'p-value' : 'statistic',
          });
        })
        .join('')}</div>`,
      `<div class="chart">${featureDriftGrid(
        oldestFirst.map((e) => ({
          at: e.at,
          features: e.insufficientData
            ? {}
            : Object.fromEntries(Object.entries(e.features ?? {}).map(([name, f]) => [name, f.drifted])),
        })),
        features,
      )}</div>`,
      '<p>The same statistics as a table (newest first; statistic / threshold):</p>',
      table(
        'drift-statistics-table',
        ['Window end', ...features],
        [...oldestFirst].reverse().map((e) => [
          e.at,
          ...features.map((name) => {
            const f = e.insufficientData ? undefined : e.features?.[name];
            return f
              ? raw(
                  `${escapeHtml(fmt(f.statistic))} / ${escapeHtml(fmt(f.threshold))} ${f.drifted ? '<span class="mark fail">&#10007; drifted</span>' : '<span class="mark pass">&#10003;</span>'}`,
                )
              : undefined;
          }),
        ]),
      ),
    );
  }
  out.push(
    '<p>Evaluations (newest first):</p>',
    table(
      'drift-table',
      ['Window end', 'Verdict', 'Drifted share', 'Records', 'Report'],
      [...oldestFirst]
        .reverse()
        .map((e) => [
          e.at,
          e.insufficientData ? 'insufficient data' : e.drifted ? 'dataset drift' : 'no drift',
          e.insufficientData ? undefined : pct(shareOf(e)),
          e.records,
          code(e.reportUri),
        ]),
      { rowClass: (_, row) => (row[1] === 'dataset drift' ? 'drifted' : undefined) },
    ),
  );
  return out.join('\n');
}

function shareOf(e: VersionDetail['drift'][number]): number {
  if (e.datasetShare !== undefined) return e.datasetShare;
  const features = Object.values(e.features ?? {});
  return features.length === 0 ? 0 : features.filter((f) => f.drifted).length / features.length;
}

interface TimelineEntry {
  at: string;
  event: string;
  by?: string;
  why?: string;
  tone: 'good' | 'bad' | 'neutral';
}

/** Everything that happened to the version, in time order: state changes, alias moves, incidents, drift. */
export function timelineEntries(d: VersionDetail): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const e of d.audit) {
    if (e.kind === 'registered')
      entries.push({ at: e.at, event: 'registered (RECEIVED)', by: e.actor, why: e.reason, tone: 'neutral' });
    else if (e.kind === 'transition')
      entries.push({ at: e.at, event: `${e.from} → ${e.to}`, by: e.actor, why: e.reason, tone: tone(e.to) });
  }
  for (const e of d.deployments) {
    if (e.event === 'champion')
      entries.push({
        at: e.at,
        event: 'became champion (production)',
        by: e.actor,
        why: e.reason,
        tone: 'good',
      });
    else if (e.event === 'replaced')
      entries.push({ at: e.at, event: `replaced by v${e.by}`, by: e.actor, why: e.reason, tone: 'neutral' });
  }
  for (const i of d.incidents) {
    entries.push({ at: i.at, event: `incident opened: ${i.alarmName}`, why: i.reason, tone: 'bad' });
    if (i.resolvedAt)
      entries.push({
        at: i.resolvedAt,
        event: `incident resolved: ${i.alarmName}`,
        ...(i.resolvedBy ? { by: i.resolvedBy } : {}),
        ...(i.resolution ? { why: i.resolution } : {}),
        tone: 'good',
      });
  }
  for (const e of d.drift)
    if (e.drifted)
      entries.push({
        at: e.at,
        event: 'dataset drift detected',
        why: `${pct(shareOf(e))} of features drifted (${e.method})`,
        tone: 'bad',
      });
  // Stable sort: same-time entries keep the order above (state change before alias move).
  const time = (at: string) => {
    const t = Date.parse(at);
    return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
  };
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => time(a.entry.at) - time(b.entry.at) || a.index - b.index)
    .map(({ entry }) => entry);
}

function timelineSection(d: VersionDetail): string {
  const out = [heading('timeline')];
  const steps: TimelineStep[] = d.audit
    .filter((e): e is Extract<AuditEvent, { kind: 'registered' | 'transition' }> => e.kind !== 'alias')
    .map((e) => ({ at: e.at, label: e.to, tone: tone(e.to) }));
  if (steps.length > 0) out.push(`<div class="chart">${timelineChart(steps)}</div>`);
  const entries = timelineEntries(d);
  if (entries.length === 0) out.push('<p class="muted">Nothing is recorded for this version yet.</p>');
  else
    out.push(
      table(
        'timeline-table',
        ['When', 'Event', 'By', 'Why'],
        entries.map((e) => [
          e.at,
          raw(`<span class="tone-${e.tone}">${escapeHtml(e.event)}</span>`),
          e.by,
          e.why,
        ]),
      ),
    );
  if (!everDeployed(d))
    out.push('<p class="muted" id="not-deployed">This version has not been deployed.</p>');
  if (d.deployment)
    out.push(
      `<p>SageMaker resources: endpoint <code>${escapeHtml(d.deployment.endpointName)}</code>, endpoint config <code>${escapeHtml(d.deployment.endpointConfigName)}</code>, model <code>${escapeHtml(d.deployment.modelName)}</code>.</p>`,
    );
  return out.join('\n');
}

function lineageSection(d: VersionDetail): string {
  const l = d.lineage;
  const rows: [string, ReturnType<typeof code> | string | undefined][] = [
    ['Notebook', code(l.notebook?.uri)],
    ['Notebook SHA-256', code(l.notebook?.sha256)],
    ['Notebook S3 version', code(l.notebook?.versionId)],
    ['Manifest hash', code(l.manifestHash)],
    ['Retrain of', l.retrainOf !== undefined ? `v${l.retrainOf}` : undefined],
    ['Training image', code(l.trainingImage)],
    ['Training job', code(l.trainingJob ? (l.trainingJob.arn ?? l.trainingJob.name) : undefined)],
    ['Model artifact', code(l.artifact?.uri)],
    ['Artifact SHA-256', code(l.artifact?.sha256)],
    ['Training baseline', code(l.baseline?.uri)],
    ['Serving image', code(l.servingImage)],
  ];
  const out = [heading('lineage'), table('lineage-table', ['Fact', 'Value'], rows)];
  if (l.dataRefs.length === 0)
    out.push(
      '<p class="muted" id="no-data-refs">No training data references are recorded: the manifest names none (the notebook makes or fetches its own data).</p>',
    );
  else
    out.push(
      '<p>Training data:</p>',
      table(
        'data-table',
        ['Data', 'Version', 'ETag', 'SHA-256'],
        l.dataRefs.map((r) => [code(r.uri), code(r.versionId), code(r.etag), code(r.sha256)]),
      ),
    );
  if (d.approval)
    out.push(
      `<p>${d.approval.decision === 'approve' ? 'Approved' : 'Declined'} by <strong>${escapeHtml(d.approval.approver)}</strong> on ${escapeHtml(d.approval.at)}: ${escapeHtml(d.approval.reason)}</p>`,
    );
  return out.join('\n');
}

function incidentsSection(d: VersionDetail): string {
  const out = [heading('incidents')];
  if (d.incidents.length === 0)
    out.push(
      `<p id="no-incidents">${everDeployed(d) ? `No incidents while v${d.version} served.` : `No incidents: v${d.version} has never served traffic.`}</p>`,
    );
  else
    out.push(
      table(
        'incidents-table',
        ['Opened', 'Alarm', 'State', 'Reason', 'Resolution'],
        d.incidents.map((i) => [
          i.at,
          i.alarmName,
          i.state,
          i.reason,
          i.resolution ? `${i.resolution} (${i.resolvedAt ?? ''})` : undefined,
        ]),
      ),
    );
  return out.join('\n');
}

export function renderVersionReport(data: VersionReportData): string {
  const d = data.detail;
  const body = [
    header(d, data.generatedAt),
    gatesSection(d),
    findingsSection(data),
    driftSection(data),
    timelineSection(d),
    lineageSection(d),
    incidentsSection(d),
    `<footer>nbops version report for ${escapeHtml(d.model)} v${d.version}; the registry is the source of truth, this page a snapshot of ${escapeHtml(data.generatedAt)}.</footer>`,
  ].join('\n');
  return page(`${d.model} v${d.version}: ${d.status}`, body);
}
