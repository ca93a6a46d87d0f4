/** `nbops models`: every model, what serves it, and whether something is wrong (open incidents). */
import type { Command } from 'commander';
import type { ModelSummary } from '#core/ops/views';
import {
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
  shortTime,
  textTable,
  withTargetOptions,
} from '../ops-client';

export function registerModelsCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('models')
      .description('List models: the production version, the endpoint, open incidents.'),
    { json: 'print {"models": [{model, owner, latestVersion, champion, endpoint, openIncidents, ...}]}' },
  ).action(async (options: OpsOptions) => setExit(await runModels(options)));
}

export async function runModels(
  options: OpsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  return runRequest<{ models: ModelSummary[] }>(
    options,
    io,
    env,
    () => ({ method: 'GET', path: '/models' }),
    ({ models }) =>
      models.length === 0
        ? 'no models yet; submit a notebook with `nbops submit <notebook> --wait`\n'
        : formatModels(models),
  );
}

export function formatModels(models: readonly ModelSummary[]): string {
  return textTable(
    ['MODEL', 'CHAMPION', 'ENDPOINT', 'LATEST', 'INCIDENTS', 'OWNER', 'UPDATED'],
    models.map((m) => [
      m.model,
      m.champion ? `v${m.champion.version} ${m.champion.status ?? ''}`.trim() : '-',
      m.endpoint
        ? `${m.endpoint.status}${m.endpoint.version !== undefined ? ` v${m.endpoint.version}` : ''}${m.endpoint.pendingVersion !== undefined ? ` -> v${m.endpoint.pendingVersion}` : ''}`
        : '-',
      `v${m.latestVersion}`,
      m.openIncidents > 0 ? `${m.openIncidents} open` : '0',
      m.owner,
      shortTime(m.updatedAt),
    ]),
  );
}
