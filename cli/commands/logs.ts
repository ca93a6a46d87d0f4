/**
 * `nbops logs <model> <version>`: where a version's training output and logs are. On AWS: the
 * training job, its S3 output (model.tar.gz, output.tar.gz with the executed notebook) and its
 * CloudWatch log streams (with a console link). On the local host the job's log is a file: its
 * last lines are printed.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { TrainingLogs } from '#core/ops/views';
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
  versionArg,
  withTargetOptions,
} from '../ops-client';

export interface LogsOptions extends OpsOptions {
  lines: string;
}

export function registerLogsCommand(program: Command, setExit: (code: number) => void): void {
  withTargetOptions(
    program
      .command('logs')
      .description(
        "Where a version's training output and logs are; on the local host, the training log itself.",
      )
      .argument('<model>', 'the model name')
      .argument('<version>', 'the version number (3 or v3)')
      .option('--lines <n>', 'local host: how many of the last log lines to print (0: all)', '200'),
    {
      json: 'print {"model", "version", "trainingJob", "output", "cloudWatch"} (local host: plus "localLog": {path, text})',
    },
  ).action(async (model: string, version: string, options: LogsOptions) =>
    setExit(await runLogs(model, version, options)),
  );
}

export async function runLogs(
  model: string,
  version: string,
  options: LogsOptions,
  io: OpsIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const lines = Number(options.lines ?? '200');
  if (!Number.isInteger(lines) || lines < 0) {
    io.stderr(`nbops: --lines ${options.lines} is not a whole number of lines; pass e.g. --lines 100\n`);
    return EXIT.usage;
  }
  return runOps(
    options,
    io,
    async (client) => {
      const logs = await call<TrainingLogs>(
        client,
        'GET',
        modelPath(model, 'versions', versionArg(version), 'logs'),
      );
      const local =
        client.target.kind === 'local' && logs.trainingJob
          ? await localLog(client.target.dir, logs.trainingJob.name)
          : undefined;
      if (options.json) {
        printJson(io, local ? { ...logs, localLog: local } : logs);
        return EXIT.ok;
      }
      // A local job's output never reaches CloudWatch: its log is the file printed below.
      io.stdout(formatLogs(client.target.kind === 'local' ? withoutCloudWatch(logs) : logs));
      if (client.target.kind === 'local') {
        if (!local)
          io.stdout('log      no local training log for this version (it was never trained here)\n');
        else {
          const all = local.text.replace(/\n$/, '').split('\n');
          const shown = lines === 0 ? all : all.slice(-lines);
          io.stdout(
            `log      ${shownPath(local.path)}${shown.length < all.length ? ` (last ${shown.length} of ${all.length} lines)` : ''}\n`,
          );
          io.stdout(`${shown.join('\n')}\n`);
        }
      }
      return EXIT.ok;
    },
    env,
  );
}

function withoutCloudWatch(logs: TrainingLogs): TrainingLogs {
  const { cloudWatch: _unused, ...rest } = logs;
  return rest;
}

/** A path relative to the working folder when it is inside it, else absolute. */
function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : resolve(path);
}

async function localLog(dir: string, job: string): Promise<{ path: string; text: string } | undefined> {
  const path = join(dir, 'jobs', job, 'algo-1.log');
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch {
    return undefined;
  }
}

export function formatLogs(logs: TrainingLogs): string {
  const out: string[] = [];
  const job = logs.trainingJob;
  if (!job) out.push(`${logs.model} v${logs.version} has no training job (it was not trained)`);
  else
    out.push(
      `${logs.model} v${logs.version}  training job ${job.name}${job.status ? `  ${job.status}${job.secondaryStatus && job.secondaryStatus !== job.status ? ` (${job.secondaryStatus})` : ''}` : ''}`,
      ...(job.startedAt
        ? [`started  ${shortTime(job.startedAt)}${job.endedAt ? `, ended ${shortTime(job.endedAt)}` : ''}`]
        : []),
      ...(job.failureReason ? [`failure  ${job.failureReason}`] : []),
    );
  out.push(`output   ${logs.output.prefix}`);
  for (const o of logs.output.objects) out.push(`         ${o.uri}  (${o.size} bytes)`);
  if (logs.output.objects.length === 0) out.push('         (nothing there yet)');
  if (logs.cloudWatch)
    out.push(
      `logs     CloudWatch Logs group ${logs.cloudWatch.logGroup}, streams ${logs.cloudWatch.logStreamPrefix}* (${logs.cloudWatch.region})`,
      `         ${logs.cloudWatch.consoleUrl}`,
    );
  return `${out.join('\n')}\n`;
}
