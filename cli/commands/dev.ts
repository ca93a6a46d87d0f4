/**
 * `nbops dev`: runs the local host until Ctrl-C. Uploads to its bucket (`nbops submit`, or any S3
 * client) go through the same handlers and wiring table as on AWS; this prints what happens: uploads,
 * training and endpoint state changes, alarm changes, each handler's outcome and notifications.
 * `<dir>/host.json` tells other commands (submit, status) where the host is.
 */
import type { Command } from 'commander';
import type { HostActivity, LocalHost } from '#adapters/local/host';
import { HostStartError } from '#adapters/local/host/errors';
import { notificationLine } from '#adapters/local/notifier';
import type { Policy } from '#core/policy/policy';
import { NOTEBOOK_PREFIX } from '#core/wiring';
import { EXIT, UserError } from '../exit';
import { readPolicy } from '../files';

export interface DevOptions {
  fresh?: boolean;
  policy?: string;
  dir: string;
  s3Port?: string;
  dynamodbPort?: string;
  timeScale: string;
}

export interface DevIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: DevIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function registerDevCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('dev')
    .description(
      'Run the local host until Ctrl-C: S3 (s3rver) and DynamoDB (dynalite) in-process, training and endpoints as local Python processes, local alarms, and the same handlers and wiring table as on AWS. Submit notebooks with `nbops submit`.',
    )
    .option('--fresh', 'wipe the local state (versions, endpoints, captured data) before starting')
    .option('--policy <file>', 'platform policy (YAML or JSON); missing aws values get local ones')
    .option('--dir <dir>', 'work folder for the local state', '.nbops')
    .option('--s3-port <port>', 'port for the S3 emulator (default: a free port)')
    .option('--dynamodb-port <port>', 'port for the DynamoDB emulator (default: a free port)')
    .option(
      '--time-scale <factor>',
      'multiply deployment bake times, alarm periods and schedules (0.01: a 5-minute canary bake takes 3 s)',
      '1',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 stopped with Ctrl-C, 2 the host could not start (the message says why).',
    )
    .action(async (options: DevOptions) => {
      setExit(await runDev(options, processIo));
    });
}

/** Parses a port option; undefined when absent. */
export function portOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserError(
      `${flag} ${JSON.stringify(value)} is not a port number; pass 1-65535, or leave it out for a free port`,
    );
  return port;
}

export function timeScaleOption(value: string): number {
  const scale = Number(value);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1)
    throw new UserError(`--time-scale ${JSON.stringify(value)} must be a number in (0, 1], e.g. 0.01`);
  return scale;
}

/** Starts the host (HostStartError and UserError become messages); `io` gets the banner. */
export async function startForCli(
  options: {
    dir: string;
    fresh?: boolean;
    policy?: Policy;
    s3Port?: number;
    dynamodbPort?: number;
    timeScale: number;
  },
  io: DevIo,
): Promise<LocalHost | undefined> {
  try {
    // Loaded on use: the host (emulators, SDK clients, handlers) would slow every `nbops` start.
    const { startLocalHost } = await import('#adapters/local/host');
    return await startLocalHost({
      dir: options.dir,
      fresh: options.fresh ?? false,
      timeScale: options.timeScale,
      announce: true,
      ...(options.policy ? { policy: options.policy } : {}),
      ports: {
        ...(options.s3Port !== undefined ? { s3: options.s3Port } : {}),
        ...(options.dynamodbPort !== undefined ? { dynamodb: options.dynamodbPort } : {}),
      },
      log: (line) => io.stderr(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof HostStartError) {
      io.stderr(`nbops: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

/**
 * Runs until `until` resolves (default: SIGINT or SIGTERM), then stops the host: every training
 * and inference process is stopped before this resolves.
 */
export async function runDev(
  options: DevOptions,
  io: DevIo = processIo,
  until?: Promise<void>,
): Promise<number> {
  let host: LocalHost | undefined;
  try {
    const policy = readPolicy(options.policy);
    host = await startForCli(
      {
        dir: options.dir,
        fresh: options.fresh ?? false,
        ...(policy ? { policy } : {}),
        ...optionalPort(portOption(options.s3Port, '--s3-port'), 's3Port'),
        ...optionalPort(portOption(options.dynamodbPort, '--dynamodb-port'), 'dynamodbPort'),
        timeScale: timeScaleOption(options.timeScale),
      },
      io,
    );
  } catch (err) {
    if (err instanceof UserError) {
      io.stderr(`nbops: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if (!host) return EXIT.usage;
  const started = Date.now();
  const info = host.info;
  io.stdout(
    [
      `nbops local host running (pid ${info.pid}), state in ${info.dir}`,
      `  S3 (s3rver)        ${info.s3Endpoint}   bucket ${info.bucket}`,
      `  DynamoDB (dynalite) ${info.dynamodbEndpoint}   tables ${info.registryTable}, ${info.idempotencyTable}`,
      `  handlers           ${host.handlerNames().join(', ')}`,
      ...(info.opsUrl
        ? [`  ops API            ${info.opsUrl}   (nbops status, versions, approve, rollback...)`]
        : []),
      info.timeScale === 1
        ? '  time               real time'
        : `  time               x${info.timeScale} (waits and alarm periods)`,
      '',
      'Submit a notebook from another terminal:  npx nbops submit examples/churn/churn.ipynb --wait',
      'Then follow it:  npx nbops status, npx nbops show churn 1, npx nbops report churn 1',
      'Ctrl-C stops the host (endpoints are served again on the next start).',
      '',
    ].join('\n'),
  );
  const unsubscribe = host.observe((activity) => {
    const line = describeActivity(activity);
    if (line) io.stdout(`${clock(started)} ${line}\n`);
  });

  // A terminal's Ctrl-C may arrive twice (npx or tsx forward the signal to the process that also
  // got it), so signals keep being handled while the host stops; a third one forces the exit.
  let signals = 0;
  let release: () => void = () => {};
  const onSignal = () => {
    signals++;
    if (signals === 1) release();
    else if (signals >= 4) process.exit(130);
  };
  const stop =
    until ??
    new Promise<void>((resolve) => {
      release = resolve;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  await stop;
  io.stdout('stopping: training jobs and endpoint processes are stopped, state is kept...\n');
  unsubscribe();
  try {
    await host.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  io.stdout('stopped\n');
  return EXIT.ok;
}

function sweptSomething(result: unknown): boolean {
  const r = result as { marked?: unknown[]; resolved?: unknown[]; errors?: unknown[] } | undefined;
  return Boolean(r?.marked?.length || r?.resolved?.length || r?.errors?.length);
}

function optionalPort<K extends string>(port: number | undefined, key: K): Partial<Record<K, number>> {
  return port === undefined ? {} : ({ [key]: port } as Record<K, number>);
}

function clock(started: number): string {
  const s = (Date.now() - started) / 1000;
  return `${s.toFixed(1).padStart(7)}s`;
}

/** One line for what happened on the host; undefined for what is not worth a line. */
export function describeActivity(activity: HostActivity): string | undefined {
  switch (activity.kind) {
    case 'notification':
      return notificationLine(activity.notification);
    case 'log':
      return activity.line;
    case 'delivery': {
      const r = activity.record;
      const outcome = r.result as
        | { kind?: string; model?: string; version?: number; reason?: string }
        | undefined;
      const about =
        outcome?.model !== undefined
          ? ` ${outcome.model}${outcome.version !== undefined ? ` v${outcome.version}` : ''}`
          : '';
      if (r.outcome === 'ok') {
        if (r.handler === 'sweeper' && !sweptSomething(r.result)) return undefined;
        const why = outcome?.kind === 'ignored' && outcome.reason ? ` (${outcome.reason})` : '';
        return `[${r.route} -> ${r.handler}] ${outcome?.kind ?? 'ok'}${about}${why} ${r.durationMs} ms`;
      }
      if (r.outcome === 'error')
        return `[${r.route} -> ${r.handler}] attempt ${r.attempt} failed, retrying: ${r.error}`;
      if (r.outcome === 'dead-letter')
        return `[${r.route} -> ${r.handler}] failed ${r.attempt} times, dead-lettered: ${r.error}`;
      return undefined;
    }
    case 'event': {
      const e = activity.event;
      const d = e.detail as Record<string, unknown>;
      switch (e['detail-type']) {
        case 'Object Created': {
          const key = String((d.object as { key?: unknown })?.key ?? '');
          return key.startsWith(NOTEBOOK_PREFIX)
            ? `upload s3://${(d.bucket as { name: string }).name}/${key}`
            : undefined;
        }
        case 'SageMaker Training Job State Change':
          return `training job ${d.TrainingJobName}: ${d.TrainingJobStatus} / ${d.SecondaryStatus}${d.FailureReason ? ` - ${String(d.FailureReason).split('\n')[0]}` : ''}`;
        case 'SageMaker Endpoint State Change':
          return `endpoint ${d.EndpointName}: ${d.EndpointStatus} on ${d.EndpointConfigName}${d.FailureReason ? ` - ${d.FailureReason}` : ''}`;
        case 'SageMaker Endpoint Deployment State Change': {
          const pending = d.PendingDeploymentSummary as
            | {
                EndpointConfigName?: string;
                ProductionVariants?: { VariantStatus?: { StatusMessage?: string }[] }[];
              }
            | undefined;
          const message = pending?.ProductionVariants?.[0]?.VariantStatus?.[0]?.StatusMessage;
          return message
            ? `endpoint ${d.EndpointName} -> ${pending?.EndpointConfigName}: ${message}`
            : undefined;
        }
        case 'CloudWatch Alarm State Change': {
          const state = d.state as { value: string; reason: string };
          const previous = d.previousState as { value: string };
          return `alarm ${d.alarmName}: ${previous.value} -> ${state.value} (${state.reason})`;
        }
        default:
          return e.source === 'nbops' ? `event ${e['detail-type']} ${JSON.stringify(d)}` : undefined;
      }
    }
  }
}
