/** `nbops incidents [model] [--open]`: incidents the alarms raised, newest first. */
import type { Command } from 'commander';
import type { IncidentList } from '#core/ops/views';
import {
  firstLine,
  type OpsIo,
  type OpsOptions,
  processIo,
  runRequest,
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
      .argument('[model]', 'only this model (as the other per-model commands take it)')
      .option('--model <model>', 'only this model (same as the argument)')
      .option('--open', 'only open incidents'),
    {
      json: 'print {"incidents": [{model, id, at, alarmName, version, state, reason, ...}]}',
    },
  ).action(async (model: string | undefined, options: IncidentsOptions) => {
    if (model && options.model && model !== options.model) {
      process.stderr.write(`nbops: two models given (${model} and --model ${options.model}); name one\n`);
      setExit(2);
      return;
    }
    setExit(await runIncidents({ ...options, ...(model ? { model } : {}) }));
  });
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
  return runRequest<IncidentList>(
    options,
    io,
    env,
    () => ({ method: 'GET', path: `/incidents${query}` }),
    ({ incidents }) =>
      incidents.length === 0
        ? `no ${options.open ? 'open ' : ''}incidents${options.model ? ` for ${options.model}` : ''}\n`
        : textTable(
            ['OPENED', 'MODEL', 'VERSION', 'ALARM', 'STATE', 'REASON'],
            incidents.map((i) => [
              shortTime(i.at),
              i.model,
              i.version !== undefined ? `v${i.version}` : '-',
              i.alarmName,
              i.state === 'RESOLVED' && i.resolvedAt ? `RESOLVED ${shortTime(i.resolvedAt)}` : i.state,
              firstLine(i.reason, 90),
            ]),
          ),
  );
}
