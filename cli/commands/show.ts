/**
 * `nbops show <model> <version>`: everything about one version: status and why, lineage (notebook,
 * manifest, data, images, job, artifact), metrics against gates, validation, approval,
 * deployments, drift, incidents and the audit trail.
 */
import type { Command } from 'commander';
import type { VersionDetail } from '#core/ops/views';
import {
  firstLine,
  metricsText,
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
  shortTime,
  versionArg,
  withTargetOptions,
} from '../ops-client';

export function registerShowCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('show')
      .description(
        'Show a version: status, lineage, metrics against gates, approval, deployments, drift, incidents, audit trail.',
      )
      .argument('<model>', 'the model name')
      .argument('<version>', 'the version number (3 or v3)'),
    { json: 'print the version as the ops API returns it (GET /models/<model>/versions/<version>)' },
  ).action(async (model: string, version: string, options: OpsOptions) =>
    setExit(await runShow(model, version, options)),
  );
}

export async function runShow(
  model: string,
  version: string,
  options: OpsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runRequest<VersionDetail>(
    options,
    io,
    env,
    () => ({ method: 'GET', path: modelPath(model, 'versions', versionArg(version)) }),
    formatVersion,
  );
}

const sha = (text: string | undefined) => (text ? text.slice(0, 12) : '-');

export function formatVersion(d: VersionDetail): string {
  const lines: string[] = [];
  // A section heading (no value) ends at its label: no trailing blanks for people to copy.
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(12)} ${value}`.trimEnd());
  const more = (value: string) => lines.push(`  ${' '.repeat(12)} ${value}`);
  const championNote = !d.champion
    ? ''
    : d.status === 'RETIRED'
      ? '  (last champion; the model is retired)'
      : '  (champion)';
  lines.push(`${d.model} v${d.version}  ${d.status}${championNote}`);
  if (d.reason) row('why', `${firstLine(d.reason, 200)}${d.changedBy ? `  [${d.changedBy}]` : ''}`);
  row('uploaded', `by ${d.uploader} at ${shortTime(d.createdAt)}; owner ${d.owner}`);
  const l = d.lineage;
  if (l.notebook)
    row(
      'notebook',
      `${l.notebook.uri}  sha256 ${sha(l.notebook.sha256)}${l.notebook.versionId ? `  version ${l.notebook.versionId}` : ''}`,
    );
  if (l.retrainOf !== undefined) row('retrain of', `v${l.retrainOf}`);
  if (l.manifestHash) row('manifest', `sha256 ${sha(l.manifestHash)}`);
  for (const [i, r] of l.dataRefs.entries()) {
    const text = `${r.uri}${r.versionId ? `  version ${r.versionId}` : ''}${r.sha256 ? `  sha256 ${sha(r.sha256)}` : r.etag ? `  etag ${r.etag}` : ''}`;
    if (i === 0) row('data', text);
    else more(text);
  }
  if (l.trainingImage) row('training', l.trainingImage);
  if (l.trainingJob) row('job', l.trainingJob.arn ?? l.trainingJob.name);
  if (l.artifact)
    row('artifact', `${l.artifact.uri}${l.artifact.sha256 ? `  sha256 ${sha(l.artifact.sha256)}` : ''}`);
  if (l.servingImage) row('serving', l.servingImage);
  row('metrics', metricsText(d.metrics) || 'none recorded yet');
  if (d.gates) {
    row('gates', d.gates.passed ? 'passed' : 'FAILED');
    for (const g of d.gates.results)
      more(
        `${g.passed ? 'pass' : 'FAIL'}  ${g.gate}${g.value !== undefined ? `  (value ${Number(g.value.toPrecision(6))})` : ''}${g.detail ? `  ${firstLine(g.detail, 120)}` : ''}`,
      );
  } else if (d.declaredGates.length > 0) row('gates', `not evaluated yet: ${d.declaredGates.join('; ')}`);
  if (d.validation)
    row(
      'validation',
      `${d.validation.errors} error${d.validation.errors === 1 ? '' : 's'}, ${d.validation.warnings} warning${d.validation.warnings === 1 ? '' : 's'}  ${d.validation.reportUri}`,
    );
  if (d.deploymentPolicy)
    row('deployment', `approval ${d.deploymentPolicy.approval}, strategy ${d.deploymentPolicy.strategy}`);
  if (d.approval)
    row(
      d.approval.decision === 'approve' ? 'approved' : 'declined',
      `by ${d.approval.approver} at ${shortTime(d.approval.at)}: ${firstLine(d.approval.reason, 150)}`,
    );
  if (d.deployments.length > 0) {
    row('deployments', '');
    for (const e of d.deployments)
      more(
        `${shortTime(e.at)}  ${e.event === 'champion' ? 'champion' : e.event === 'replaced' ? `replaced by v${e.by}` : e.event}  ${e.actor}: ${firstLine(e.reason, 120)}`,
      );
  }
  if (d.deployment)
    row('endpoint', `${d.deployment.endpointName} (config ${d.deployment.endpointConfigName})`);
  if (d.drift.length > 0) {
    const latest = d.drift[0]!;
    row(
      'drift',
      `${d.drift.length} evaluation${d.drift.length === 1 ? '' : 's'}, ${d.drift.filter((e) => e.drifted).length} drifted; latest ${shortTime(latest.at)}: ${latest.insufficientData ? 'insufficient data' : latest.drifted ? 'DRIFT' : 'no drift'}${latest.records !== undefined ? ` over ${latest.records} records` : ''}`,
    );
  } else row('drift', 'no evaluations');
  if (d.incidents.length > 0) {
    row('incidents', '');
    for (const i of d.incidents)
      more(`${shortTime(i.at)}  ${i.alarmName}  ${i.state}  ${firstLine(i.reason, 100)}`);
  } else row('incidents', 'none');
  const reports = Object.entries(d.reports);
  if (reports.length > 0) {
    row('reports', '');
    for (const [kind, uri] of reports) more(`${kind.padEnd(8)} ${uri}`);
  }
  row('audit', '');
  for (const e of d.audit)
    more(
      `${shortTime(e.at)}  ${(e.kind === 'transition' ? e.to : e.kind === 'registered' ? 'RECEIVED' : e.kind).padEnd(16)} ${e.actor}: ${firstLine(e.reason, 110)}`,
    );
  return `${lines.join('\n')}\n`;
}
