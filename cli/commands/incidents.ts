/** `nbops incidents [--model m] [--open]`: incidents the alarms raised, newest first. */
import type { Command } from 'commander';
import type { IncidentList } from '#core/ops/views';
import { EXIT } from '../exit';
import {
  call,
  firstLine,
  type OpsIo,
  type OpsOptions,
  printJson,
  processIo,
  runOps,
  shortTime,
  textTable,
  withTargetOptions,
} from '../ops-client';

export interface IncidentsOptions extends OpsOptions {
  model?: string;
  open?: boolean;
}

export function registerIncidentsCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('incidents')
      .description(
        'Incidents raised by the alarms, newest first: which alarm, which version, open or resolved.',
      )
      .option('--model <model>', 'only this model')
      .option('--open', 'only open incidents'),
    {
      json: 'print {"incidents": [{model, id, at, alarmName, version, state, reason, ...}], "includesResolved"}',
    },
  ).action(async (options: IncidentsOptions) => setExit(await runIncidents(options)));
}

export async function runIncidents(
  options: IncidentsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const params = new URLSearchParams();
  if (options.model) params.set('model', options.model);
  if (options.open) params.set('open', 'true');
  const query = params.size > 0 ? `?${params}` : '';
  return runOps(
    options,
    io,
    async (client) => {
      const result = await call<IncidentList>(client, 'GET', `/incidents${query}`);
      if (options.json) printJson(io, result);
      else if (result.incidents.length === 0)
        io.stdout(
          `no ${options.open ? 'open ' : ''}incidents${options.model ? ` for ${options.model}` : ''}\n`,
        );
      else {
        io.stdout(
          textTable(
            ['OPENED', 'MODEL', 'VERSION', 'ALARM', 'STATE', 'REASON'],
            result.incidents.map((i) => [
              shortTime(i.at),
              i.model,
              i.version !== undefined ? `v${i.version}` : '-',
              i.alarmName,
              i.state === 'RESOLVED' && i.resolvedAt ? `RESOLVED ${shortTime(i.resolvedAt)}` : i.state,
              firstLine(i.reason, 90),
            ]),
          ),
        );
        if (!result.includesResolved && !options.open)
          io.stdout('(only open incidents: this registry cannot list resolved ones)\n');
      }
      return EXIT.ok;
    },
    env,
  );
}
