/**
 * `nbops status [model]`: models, their versions with status, the champion and the endpoint, from
 * the ops API like every operator command: the running local host (the default), the saved state
 * of a stopped one, or an AWS deployment (`--endpoint URL` or NBOPS_API_URL).
 */
import type { Command } from 'commander';
import type { EndpointView, ModelSummary, VersionSummary } from '#core/ops/views';
import type { Status } from '#core/registry/lifecycle';
import { EXIT } from '../exit';
import {
  call,
  modelPath,
  type OpsClient,
  type OpsIo,
  type OpsOptions,
  processIo,
  runOps,
  shortTime,
  withTargetOptions,
} from '../ops-client';

/** One model as `nbops status --json` prints it. */
export interface ModelStatus {
  model: string;
  owner: string;
  latestVersion: number;
  champion?: number;
  challenger?: number;
  endpoint?: {
    name: string;
    status: string;
    endpointConfigName: string;
    version?: number;
    failureReason?: string;
  };
  versions: {
    version: number;
    status: Status;
    uploader: string;
    createdAt: string;
    updatedAt: string;
    reason?: string;
    metrics?: Record<string, number>;
  }[];
}

export function registerStatusCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('status')
      .description(
        'Models on the local host (or AWS): versions and their status, the champion, the endpoint.',
      )
      .argument('[model]', 'only this model'),
    { json: 'print {"models":[{model, owner, latestVersion, champion, endpoint, versions:[...]}]}' },
  ).action(async (model: string | undefined, options: OpsOptions) => {
    setExit(await runStatus(model, options, processIo));
  });
}

export async function runStatus(
  model: string | undefined,
  options: OpsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runOps(
    options,
    io,
    async (client) => {
      const models = await collectStatus(client, model);
      if (model && models.length === 0) {
        io.stderr(
          `nbops: no model named ${model} in ${client.description}; submit one with \`npx nbops submit <notebook>\`\n`,
        );
        return EXIT.findings;
      }
      if (options.json) io.stdout(`${JSON.stringify({ models })}\n`);
      else if (models.length === 0)
        io.stdout('no models yet; submit a notebook with `npx nbops submit <notebook> --wait`\n');
      else for (const m of models) io.stdout(formatModel(m));
      return EXIT.ok;
    },
    env,
  );
}

/** The models (or one), each with its versions newest first. */
async function collectStatus(client: OpsClient, model: string | undefined): Promise<ModelStatus[]> {
  const { models } = await call<{ models: ModelSummary[] }>(client, 'GET', '/models');
  const out: ModelStatus[] = [];
  for (const m of models) {
    if (model !== undefined && m.model !== model) continue;
    const { versions } = await call<{ versions: VersionSummary[] }>(
      client,
      'GET',
      modelPath(m.model, 'versions'),
    );
    out.push({
      model: m.model,
      owner: m.owner,
      latestVersion: m.latestVersion,
      ...(m.champion ? { champion: m.champion.version } : {}),
      ...(m.challenger !== undefined ? { challenger: m.challenger } : {}),
      ...(m.endpoint ? { endpoint: endpointStatus(m.endpoint) } : {}),
      versions: versions.map((v) => ({
        version: v.version,
        status: v.status,
        uploader: v.uploader,
        createdAt: v.createdAt,
        updatedAt: v.updatedAt,
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
        ...(v.metrics ? { metrics: v.metrics } : {}),
      })),
    });
  }
  return out;
}

function endpointStatus(e: EndpointView): NonNullable<ModelStatus['endpoint']> {
  return {
    name: e.name,
    status: e.status,
    endpointConfigName: e.endpointConfigName ?? '-',
    ...(e.version !== undefined ? { version: e.version } : {}),
    ...(e.failureReason ? { failureReason: e.failureReason } : {}),
  };
}

export function formatModel(m: ModelStatus): string {
  const lines = [
    `${m.model}  (owner ${m.owner}, ${m.versions.length} version${m.versions.length === 1 ? '' : 's'})`,
  ];
  const retired =
    m.champion !== undefined && m.versions.find((v) => v.version === m.champion)?.status === 'RETIRED';
  lines.push(
    `  champion  ${m.champion === undefined ? 'none (nothing in production)' : retired ? `none (the model is retired; v${m.champion} served last)` : `v${m.champion}`}`,
  );
  if (m.endpoint) {
    const e = m.endpoint;
    lines.push(
      `  endpoint  ${e.name} ${e.status} on ${e.endpointConfigName}${e.version !== undefined ? ` (v${e.version})` : ''}`,
    );
    if (e.failureReason) lines.push(`            last update: ${e.failureReason}`);
  } else lines.push('  endpoint  none');
  lines.push('  versions');
  for (const v of m.versions) {
    const metrics = v.metrics
      ? `  ${Object.entries(v.metrics)
          .map(([k, n]) => `${k}=${Number(n.toPrecision(4))}`)
          .join(' ')}`
      : '';
    const marker = v.version === m.champion ? '*' : ' ';
    lines.push(
      `   ${marker}v${String(v.version).padEnd(4)} ${v.status.padEnd(17)} ${shortTime(v.updatedAt)}  by ${v.uploader}${metrics}`,
    );
    if (v.reason && !['DEPLOYED'].includes(v.status)) lines.push(`           ${v.reason.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n\n`;
}
