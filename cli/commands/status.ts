/**
 * `nbops status [model]`: models, their versions with status, the champion and the endpoint.
 * Local host (the default): reads the running host's registry; with no host running it opens the
 * work folder's data itself (so the state a demo left behind can be inspected). AWS (`--endpoint
 * URL` or NBOPS_API_URL): the same view from the ops API.
 */
import type { Command } from 'commander';
import { collectStatus, connect, type ModelStatus, openRegistryOffline } from '#adapters/local/host/client';
import { HostStartError } from '#adapters/local/host/errors';
import { looksLikeHostDir, readHostInfo } from '#adapters/local/host/state';
import type { ModelSummary, VersionSummary } from '#core/ops/views';
import { EXIT, UserError } from '../exit';
import { call, modelPath, OpsCallError, resolveTarget, shortTime } from '../ops-client';

export interface StatusOptions {
  json?: boolean;
  dir: string;
  local?: boolean;
  /** The ops API URL of an AWS deployment (default NBOPS_API_URL). */
  endpoint?: string;
  profile?: string;
  region?: string;
}

export interface StatusIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: StatusIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function registerStatusCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('status')
    .description('Models on the local host: versions and their status, the champion, the endpoint.')
    .argument('[model]', 'only this model')
    .option('--json', 'print {"models":[{model, owner, latestVersion, champion, endpoint, versions:[...]}]}')
    .option('--dir <dir>', "the local host's work folder", '.nbops')
    .option('--local', 'the local host (the default)')
    .option('--endpoint <url>', 'the AWS deployment whose ops API is at this URL (default: NBOPS_API_URL)')
    .option('--profile <name>', 'AWS only: the credentials profile (default: the standard chain)')
    .option('--region <region>', 'AWS only: the Region of the deployment (default: from the URL)')
    .addHelpText(
      'after',
      '\nExit status: 0 shown, 1 the model does not exist, 2 no local state to read, or usage, access or connection errors.',
    )
    .action(async (model: string | undefined, options: StatusOptions) => {
      setExit(await runStatus(model, options, processIo));
    });
}

export async function runStatus(
  model: string | undefined,
  options: StatusOptions,
  io: StatusIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let models: ModelStatus[];
  const aws = options.endpoint !== undefined || (!options.local && Boolean(env.NBOPS_API_URL?.trim()));
  if (aws) {
    try {
      const target = resolveTarget(options, env);
      if (target.kind !== 'aws') throw new UserError('no AWS target');
      models = await awsStatus(target.url, options, model);
    } catch (err) {
      if (err instanceof OpsCallError && err.code === 'UNKNOWN_MODEL') models = [];
      else if (err instanceof OpsCallError || err instanceof UserError) {
        io.stderr(`nbops: ${err.message}\n`);
        return EXIT.usage;
      } else throw err;
    }
  } else if (readHostInfo(options.dir)) {
    const connection = await connect(options.dir);
    try {
      models = await collectStatus(connection.registry, options.dir, model);
    } finally {
      await connection.close();
    }
  } else if (looksLikeHostDir(options.dir)) {
    let offline: Awaited<ReturnType<typeof openRegistryOffline>>;
    try {
      offline = await openRegistryOffline(options.dir);
    } catch (err) {
      if (err instanceof HostStartError) {
        io.stderr(`nbops: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    }
    try {
      models = await collectStatus(offline.registry, options.dir, model).catch((err) => {
        if ((err as Error).name === 'ResourceNotFoundException') return [];
        throw err;
      });
    } finally {
      await offline.close();
    }
  } else {
    io.stderr(
      `nbops: there is no local host state in ${options.dir}. Start a local host with \`npx nbops dev\`, or run the whole lifecycle once with \`npx nbops demo\`.\n`,
    );
    return EXIT.usage;
  }
  if (model && models.length === 0) {
    io.stderr(
      `nbops: no model named ${model} ${aws ? 'in this deployment' : 'on the local host'}; submit one with \`npx nbops submit <notebook>\`\n`,
    );
    return EXIT.findings;
  }
  if (options.json) {
    io.stdout(`${JSON.stringify({ models })}\n`);
    return EXIT.ok;
  }
  if (models.length === 0) {
    io.stdout('no models yet; submit a notebook with `npx nbops submit <notebook> --wait`\n');
    return EXIT.ok;
  }
  for (const m of models) io.stdout(formatModel(m));
  return EXIT.ok;
}

/** The status view from the ops API: the models (or one), each with its versions. */
async function awsStatus(
  url: URL,
  options: StatusOptions,
  model: string | undefined,
): Promise<ModelStatus[]> {
  const { AwsOpsClient } = await import('../ops-targets');
  const client = new AwsOpsClient(url, {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  });
  try {
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
        ...(m.endpoint
          ? {
              endpoint: {
                name: m.endpoint.name,
                status: m.endpoint.status,
                endpointConfigName: m.endpoint.endpointConfigName ?? '-',
                ...(m.endpoint.version !== undefined ? { version: m.endpoint.version } : {}),
                ...(m.endpoint.failureReason ? { failureReason: m.endpoint.failureReason } : {}),
              },
            }
          : {}),
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
  } finally {
    await client.close();
  }
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
