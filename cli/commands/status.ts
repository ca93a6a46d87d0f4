/**
 * `nbops status [model]`: the local host's models, their versions with status, the champion and the
 * endpoint. Reads the running host's registry; with no host running it opens the work folder's
 * data itself (so the state a demo left behind can be inspected).
 */
import type { Command } from 'commander';
import {
  collectStatus,
  connect,
  looksLikeHostDir,
  type ModelStatus,
  openRegistryOffline,
} from '#adapters/local/host/client';
import { HostStartError } from '#adapters/local/host/errors';
import { readHostInfo } from '#adapters/local/host/state';
import { EXIT } from '../exit';

export interface StatusOptions {
  json?: boolean;
  dir: string;
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
    .addHelpText('after', '\nExit status: 0 shown, 1 the model does not exist, 2 no local state to read.')
    .action(async (model: string | undefined, options: StatusOptions) => {
      setExit(await runStatus(model, options, processIo));
    });
}

export async function runStatus(
  model: string | undefined,
  options: StatusOptions,
  io: StatusIo = processIo,
): Promise<number> {
  let models: ModelStatus[];
  if (readHostInfo(options.dir)) {
    const connection = connect(options.dir);
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
      `nbops: no model named ${model} on the local host; submit one with \`npx nbops submit <notebook>\`\n`,
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

export function formatModel(m: ModelStatus): string {
  const lines = [
    `${m.model}  (owner ${m.owner}, ${m.versions.length} version${m.versions.length === 1 ? '' : 's'})`,
  ];
  lines.push(`  champion  ${m.champion !== undefined ? `v${m.champion}` : 'none (nothing in production)'}`);
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
      `   ${marker}v${String(v.version).padEnd(4)} ${v.status.padEnd(17)} ${v.updatedAt}  by ${v.uploader}${metrics}`,
    );
    if (v.reason && !['DEPLOYED'].includes(v.status)) lines.push(`           ${v.reason.split('\n')[0]}`);
  }
  return `${lines.join('\n')}\n\n`;
}
