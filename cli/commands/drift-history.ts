/**
 * `nbops drift show <model>` (alias `nbops drift history`): the model's drift evaluations, newest
 * first: window end, version, verdict, drifted features, records, report. A subcommand of `drift`,
 * next to `nbops drift evaluate` (which compares files on your machine).
 */
import type { Command } from 'commander';
import type { DriftRecord } from '#core/registry/types';
import { EXIT } from '../exit';
import {
  call,
  modelPath,
  type OpsIo,
  type OpsOptions,
  printJson,
  processIo,
  runOps,
  shortTime,
  textTable,
  withTargetOptions,
} from '../ops-client';

export interface DriftHistoryOptions extends OpsOptions {
  since?: string;
  limit?: string;
}

export function registerDriftHistoryCommand(program: Command, setExit: (code: number) => void): void {
  const drift =
    program.commands.find((c) => c.name() === 'drift') ??
    program
      .command('drift')
      .description('Drift evaluation: compare current data with the training reference.');
  withTargetOptions(
    drift
      .command('show', { isDefault: true })
      .alias('history')
      .description("A model's drift evaluations, newest first: verdict, drifted features, records, report.")
      .argument('<model>', 'the model name')
      .option('--since <time>', 'only evaluations of windows ending at or after this ISO time')
      .option('--limit <n>', 'at most this many evaluations', '50'),
    {
      json: 'print {"model", "evaluations": [{at, version, method, drifted, features, records, reportUri, ...}]}',
    },
  ).action(async (model: string, options: DriftHistoryOptions) =>
    setExit(await runDriftHistory(model, options)),
  );
}

export async function runDriftHistory(
  model: string,
  options: DriftHistoryOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  // Checked here so the message names the option typed, not the API's query parameter.
  if (options.limit !== undefined && !/^[1-9]\d*$/.test(options.limit.trim())) {
    io.stderr(`nbops: --limit ${options.limit} is not a positive whole number; pass e.g. --limit 20\n`);
    return EXIT.usage;
  }
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
    io.stderr(
      `nbops: --since ${JSON.stringify(options.since)} is not an ISO-8601 time; pass e.g. --since 2025-03-01T00:00:00Z\n`,
    );
    return EXIT.usage;
  }
  const params = new URLSearchParams();
  if (options.since) params.set('since', options.since);
  if (options.limit) params.set('limit', options.limit);
  const query = params.size > 0 ? `?${params}` : '';
  return runOps(
    options,
    io,
    async (client) => {
      const result = await call<{ model: string; evaluations: DriftRecord[] }>(
        client,
        'GET',
        `${modelPath(model, 'drift')}${query}`,
      );
      if (options.json) printJson(io, result);
      else if (result.evaluations.length === 0)
        io.stdout(`no drift evaluations of ${model} yet (they run on its drift schedule once it serves)\n`);
      else io.stdout(formatDrift(result.evaluations));
      return EXIT.ok;
    },
    env,
  );
}

export function formatDrift(evaluations: readonly DriftRecord[]): string {
  return textTable(
    ['WINDOW END', 'VERSION', 'VERDICT', 'DRIFTED', 'RECORDS', 'REPORT'],
    evaluations.map((e) => {
      const drifted = Object.entries(e.features ?? {})
        .filter(([, f]) => f.drifted)
        .map(([name]) => name);
      const evaluated = Object.keys(e.features ?? {}).length;
      return [
        shortTime(e.at),
        `v${e.version}`,
        e.insufficientData ? 'insufficient data' : e.drifted ? 'DRIFT' : 'no drift',
        e.insufficientData
          ? '-'
          : `${drifted.length}/${evaluated}${drifted.length ? ` (${drifted.join(', ')})` : ''}`,
        e.records !== undefined ? String(e.records) : '-',
        e.reportUri ?? '-',
      ];
    }),
  );
}
