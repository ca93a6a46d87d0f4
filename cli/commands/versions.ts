/** `nbops versions <model>`: the model's versions, newest first, with status and why. */
import type { Command } from 'commander';
import type { VersionSummary } from '#core/ops/views';
import {
  firstLine,
  metricsText,
  modelPath,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
  shortTime,
  textTable,
  withTargetOptions,
} from '../ops-client';

interface VersionsOptions extends OpsOptions {
  status?: string;
}

export function registerVersionsCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('versions')
      .description("List a model's versions, newest first: status, who uploaded, metrics, why.")
      .argument('<model>', 'the model name')
      .option('--status <status>', 'only versions in this status, e.g. DEPLOYED or PENDING_APPROVAL'),
    { json: 'print {"model", "champion", "versions": [{version, status, reason, uploader, metrics, ...}]}' },
  ).action(async (model: string, options: VersionsOptions) => setExit(await runVersions(model, options)));
}

export async function runVersions(
  model: string,
  options: VersionsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runRequest<{ model: string; champion?: number; versions: VersionSummary[] }>(
    options,
    io,
    env,
    () => ({
      method: 'GET',
      path: `${modelPath(model, 'versions')}${options.status ? `?status=${encodeURIComponent(options.status)}` : ''}`,
    }),
    (result) =>
      result.versions.length === 0
        ? `no versions of ${model}${options.status ? ` are ${options.status.toUpperCase()}` : ''}\n`
        : formatVersions(result.versions),
  );
}

export function formatVersions(versions: readonly VersionSummary[]): string {
  const champion = versions.find((v) => v.champion);
  // A DEPLOYED version that is not the champion was replaced; its last reason still describes
  // when it served, which reads as if it still did.
  const why = (v: VersionSummary) =>
    v.status === 'DEPLOYED' && !v.champion && champion?.status === 'DEPLOYED'
      ? `replaced by v${champion.version}; \`nbops rollback\` can restore it`
      : firstLine(v.reason, 90);
  const table = textTable(
    ['VERSION', 'STATUS', 'UPLOADER', 'UPDATED', 'METRICS', 'WHY'],
    versions.map((v) => [
      `${v.champion ? '*' : ' '}v${v.version}`,
      v.status,
      v.uploader,
      shortTime(v.updatedAt),
      metricsText(v.metrics) || '-',
      why(v),
    ]),
  );
  if (!champion) return table;
  return champion.status === 'RETIRED'
    ? `${table}(* the last champion: the model is retired, nothing is in production)\n`
    : `${table}(* the champion: the version in production)\n`;
}
