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
import { driftShareChart, featureDriftGrid, type TimelineStep, timelineChart } from './charts';
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

function header(d: VersionDetail, generatedAt: string): string {
  const status = `<span class="status ${tone(d.status)}" id="version-status">${escapeHtml(d.status)}</span>`;
  const lines = [
    `<h1>${escapeHtml(d.model)} v${d.version} ${status}${d.champion ? ' <span class="status good">champion</span>' : ''}</h1>`,
    d.reason ? `<p id="status-reason">${escapeHtml(d.reason)}</p>` : '',
    `<p class="muted">Uploaded by ${escapeHtml(d.uploader)} on ${escapeHtml(d.createdAt)}; owner ${escapeHtml(d.owner)}. Report generated ${escapeHtml(generatedAt)}.</p>`,
  ];
  const gates = d.gates ? (d.gates.passed ? 'passed' : 'failed') : 'not evaluated';
  const approval = d.approval
    ? `${d.approval.decision === 'approve' ? 'approved' : 'declined'} by ${d.approval.approver}`
    : d.deploymentPolicy?.approval === 'auto'
      ? 'automatic'
      : 'none yet';
  const validation = d.validation
    ? `${d.validation.errors} error${d.validation.errors === 1 ? '' : 's'}, ${d.validation.warnings} warning${d.validation.warnings === 1 ? '' : 's'}`
    : 'not recorded';
  const cards = [
    card('Status', d.status),
    card('Validation', validation),
    card('Quality gates', gates),
    card('Approval', approval),
    card('Drift evaluations', String(d.drift.length)),
    card('Incidents', String(d.incidents.length)),
  ];
  return `${lines.join('\n')}\n<div class="cards">${cards.join('')}</div>`;
}

function gatesSection(d: VersionDetail): string {
  const out = ['<h2 id="gates">Metrics against quality gates</h2>'];
  if (d.gates) {
    const failed = d.gates.results.filter((r) => !r.passed).length;
    out.push(
      `<p>${d.gates.passed ? 'Every gate passed.' : `${failed} of ${d.gates.results.length} gate${d.gates.results.length === 1 ? '' : 's'} failed.`}</p>`,
      table(
        'gates-table',
        ['Gate', 'Value', 'Threshold', 'Result', 'Detail'],
        d.gates.results.map((r) => [r.gate, fmt(r.value), fmt(r.threshold), mark(r.passed), r.detail]),
        { rowClass: (i) => (d.gates!.results[i]!.passed ? 'gate-pass' : 'gate-fail') },
      ),
    );
  } else if (d.declaredGates.length > 0) {
    out.push(
      `<p>The gates are evaluated once training finishes; this version is ${escapeHtml(d.status)}. Declared gates: ${d.declaredGates.map((g) => `<code>${escapeHtml(g)}</code>`).join(', ')}.</p>`,
    );
  } else out.push('<p>The manifest declares no quality gates.</p>');
  const metrics = Object.entries(d.metrics ?? {});
  if (metrics.length > 0)
    out.push(
      table(
        'metrics-table',
        ['Metric', 'Final value'],
        metrics.map(([name, value]) => [name, fmt(value)]),
      ),
    );
  else out.push('<p class="muted">No metrics recorded (yet).</p>');
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
  const out = ['<h2 id="findings">Validation findings</h2>'];
  if (d.validation)
    out.push(
      `<p>${d.validation.errors} error${d.validation.errors === 1 ? '' : 's'}, ${d.validation.warnings} warning${d.validation.warnings === 1 ? '' : 's'}${d.validation.notices !== undefined ? `, ${d.validation.notices} notice${d.validation.notices === 1 ? '' : 's'}` : ''}. Full report: <code>${escapeHtml(d.validation.reportUri)}</code></p>`,
    );
  if (!data.findings) {
    out.push(`<p class="muted">${escapeHtml(data.findingsNote ?? 'No findings recorded.')}</p>`);
    return out.join('\n');
  }
  if (data.findings.length === 0) {
    out.push(
      '<p id="no-findings">No findings: the notebook passed validation without errors or warnings.</p>',
    );
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

function driftSection(data: VersionReportData): string {
  const d = data.detail;
  const out = ['<h2 id="drift">Drift</h2>'];
  if (d.drift.length === 0) {
    out.push(
      `<p id="no-drift">No drift evaluations of v${d.version} yet${d.status === 'DEPLOYED' ? ': they run on the model’s drift schedule once traffic is captured' : ''}.</p>`,
    );
    return out.join('\n');
  }
  const oldestFirst = [...d.drift].reverse();
  const latest = d.drift[0]!;
  const drifted = d.drift.filter((e) => e.drifted).length;
  out.push(
    `<p>${d.drift.length} evaluation${d.drift.length === 1 ? '' : 's'}, ${drifted} with dataset drift. Latest (${escapeHtml(latest.at)}): ${latest.insufficientData ? 'insufficient data, no verdict' : latest.drifted ? 'dataset drift' : 'no dataset drift'}${latest.records !== undefined ? ` over ${latest.records} records` : ''}.</p>`,
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
  if (features.length > 0)
    out.push(
      `<div class="chart">${featureDriftGrid(
        oldestFirst.map((e) => ({
          at: e.at,
          features: e.insufficientData
            ? {}
            : Object.fromEntries(Object.entries(e.features ?? {}).map(([name, f]) => [name, f.drifted])),
        })),
        features,
      )}</div>`,
    );
  const latestFeatures = Object.entries(latest.features ?? {});
  if (latestFeatures.length > 0)
    out.push(
      `<p>Latest evaluation per feature (${escapeHtml(latest.method)}):</p>`,
      table(
        'drift-features-table',
        ['Feature', 'Statistic', 'Threshold', 'Drifted'],
        latestFeatures.map(([name, f]) => [
          name,
          fmt(f.statistic),
          fmt(f.threshold),
          raw(
            f.drifted
              ? '<span class="mark fail">&#10007; drifted</span>'
              : '<span class="mark pass">&#10003; no drift</span>',
          ),
        ]),
      ),
    );
  out.push(
    table(
      'drift-table',
      ['Window end', 'Verdict', 'Drifted share', 'Records', 'Report'],
      d.drift.map((e) => [
        e.at,
        e.insufficientData ? 'insufficient data' : e.drifted ? 'dataset drift' : 'no drift',
        e.insufficientData ? undefined : pct(shareOf(e)),
        e.records,
        code(e.reportUri),
      ]),
    ),
  );
  return out.join('\n');
}

function shareOf(e: VersionDetail['drift'][number]): number {
  if (e.datasetShare !== undefined) return e.datasetShare;
  const features = Object.values(e.features ?? {});
  return features.length === 0 ? 0 : features.filter((f) => f.drifted).length / features.length;
}

function timelineSection(d: VersionDetail): string {
  const out = ['<h2 id="timeline">Timeline</h2>'];
  const steps: TimelineStep[] = d.audit
    .filter((e): e is Extract<AuditEvent, { kind: 'registered' | 'transition' }> => e.kind !== 'alias')
    .map((e) => ({ at: e.at, label: e.to, tone: tone(e.to) }));
  if (steps.length > 0) out.push(`<div class="chart">${timelineChart(steps)}</div>`);
  if (d.deployments.length > 0)
    out.push(
      '<p>Deployments:</p>',
      table(
        'deployments-table',
        ['When', 'What', 'By', 'Why'],
        d.deployments.map((e) => [
          e.at,
          e.event === 'champion'
            ? 'became the production version'
            : e.event === 'replaced'
              ? `replaced by v${e.by}`
              : e.event,
          e.actor,
          e.reason,
        ]),
      ),
    );
  else out.push('<p class="muted">This version has not been deployed.</p>');
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
  const out = ['<h2 id="lineage">Lineage</h2>', table('lineage-table', ['Fact', 'Value'], rows)];
  if (l.dataRefs.length > 0)
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
  const out = ['<h2 id="incidents">Incidents</h2>'];
  if (d.incidents.length === 0) out.push(`<p>No incidents while v${d.version} served.</p>`);
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
  if (!d.incidentsComplete)
    out.push('<p class="muted">Only open incidents are listed: this registry cannot list resolved ones.</p>');
  return out.join('\n');
}

function auditSection(d: VersionDetail): string {
  return [
    '<h2 id="audit">Audit trail</h2>',
    table(
      'audit-table',
      ['When', 'Change', 'By', 'Why'],
      d.audit.map((e) => [
        e.at,
        e.kind === 'transition' ? `${e.from} → ${e.to}` : e.kind === 'registered' ? 'registered' : e.kind,
        e.actor,
        e.reason,
      ]),
    ),
  ].join('\n');
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
    auditSection(d),
    `<footer>nbops version report for ${escapeHtml(d.model)} v${d.version}; the registry is the source of truth, this page a snapshot of ${escapeHtml(data.generatedAt)}.</footer>`,
  ].join('\n');
  return page(`${d.model} v${d.version}: ${d.status}`, body);
}
