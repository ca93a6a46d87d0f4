/**
 * The local host: nbops's whole lifecycle on a laptop, with the same handlers and the same wiring
 * table as the AWS stack.
 *
 *   const host = await startLocalHost({ dir: '.nbops', timeScale: 0.01 });
 *   host.observe((activity) => ...);      // events, deliveries, notifications, alarm changes
 *   await upload(host.store, host.bucket, submission, 'me');   // host/client.ts, as a user would
 *   ...
 *   await host.stop();                    // no process left behind
 *
 * What runs where:
 * - S3 is s3rver and DynamoDB dynalite, in this process, with data under `<dir>/` (kept between
 *   runs; `fresh` wipes it). The artifact bucket, the registry table and the idempotency table are
 *   created, and the Python runtime is published to `runtime/<hash>/` as the stack's deployment does.
 * - Services = S3ObjectStore (s3rver dialect) + DynamoRegistry + LocalSageMaker + LocalAlarms +
 *   LocalEventBus (nbops's events) + LocalNotifier + HostSchedules (EventBridge Scheduler) + SystemClock.
 * - Every route's handler is built with its function's `makeHandler` (functions/*), so it runs
 *   the same middy stack as on Lambda (Tracer, Logger, Metrics, Powertools idempotency on dynalite)
 *   and is invoked with the event and a Lambda context.
 * - s3rver's notifications, LocalSageMaker's events and LocalAlarms' state changes go on the bus,
 *   which routes them with the wiring table; schedule routes fire on timers (x timeScale).
 * - The local alarms read the endpoints' invocation metrics and the handlers' EMF lines, evaluate
 *   every alarm on a tick, and answer LocalSageMaker's AutoRollbackConfiguration.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import { DynamoRegistry } from '#adapters/dynamodb/registry';
import { createRegistryTable } from '#adapters/dynamodb/table';
import { type Policy, resolvePolicy } from '#core/policy/policy';
import type { Notification, Services } from '#core/ports';
import { type EventRoute, type HandlerName, routes } from '#core/wiring';
import { IDEMPOTENCY_KEY_PATH, IDEMPOTENCY_TTL_SECONDS } from '../../../functions/commons/idempotency';
import { AlarmStateFileError, LocalAlarms } from './alarms';
import { type AwsEvent, LOCAL_ACCOUNT, LOCAL_LOCATION } from './aws-event';
import { SystemClock } from './clock';
import {
  type Emulators,
  LOCAL_REGION,
  localDynamoClient,
  localS3Client,
  type S3Notification,
  startEmulators,
} from './emulators';
import { type DeliveryRecord, LocalEventBus, type LocalEventBusOptions } from './event-bus';
import { type FunctionUrlServer, localIdentity, serveFunctionUrl } from './function-url';
import { captureStdoutEmf } from './host/emf';
import { HostStartError } from './host/errors';
import { HANDLER_FACTORIES, type LocalHandler } from './host/handlers';
import { functionName, lambdaContext } from './host/lambda';
import { SageMakerMetricsSource } from './host/metrics';
import { localObservability } from './host/observability';
import { publishRuntime } from './host/runtime';
import { HostSchedules, ScheduleFileError } from './host/schedules';
import {
  checkDynamoData,
  corruptState,
  DEFAULT_HOST_DIR,
  type HostInfo,
  readHostInfo,
  removeHostInfo,
  wipeHostDir,
  writeHostInfo,
} from './host/state';
import { LocalNotifier } from './notifier';
import { checkPython, defaultPython, PythonNotFoundError } from './processes';
import { LocalSageMaker } from './sagemaker';

export { UPLOADER_METADATA } from './host/client';
export { HostStartError, NoHostError } from './host/errors';
export { DEFAULT_HOST_DIR, type HostInfo, readHostInfo } from './host/state';

export const LOCAL_BUCKET = 'nbops-local';
export const REGISTRY_TABLE_NAME = 'nbops-registry';
export const IDEMPOTENCY_TABLE_NAME = 'nbops-idempotency';
/** The execution role local training jobs name (nothing checks it; SageMaker's pattern must match). */
export const LOCAL_EXECUTION_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/nbops-local-sagemaker-execution`;

export interface LocalHostOptions {
  /** Work folder (default `.nbops`), kept between runs. */
  dir?: string;
  /** Wipe the folder's host state first. */
  fresh?: boolean;
  /** Fixed emulator ports (default: free ports). */
  ports?: { s3?: number; dynamodb?: number; ops?: number };
  /**
   * Multiplies SageMaker's deployment waits, alarm periods and schedule periods (1 = real time;
   * 0.01 turns a 5-minute canary bake into 3 s and a 60 s alarm period into 0.6 s).
   */
  timeScale?: number;
  /** The host's own messages (default: stderr). */
  log?: (line: string) => void;
  /** Platform policy; missing `aws` values get the local account, Region, bucket and role. */
  policy?: Policy;
  /** Python 3.9+ for training and serving (default NBOPS_PYTHON, else python3). */
  python?: string;
  bucket?: string;
  /** Write `<dir>/host.json` so `nbops submit` / `nbops status` find this host. */
  announce?: boolean;
  /** Seeds traffic routing and capture sampling (repeatable runs). */
  seed?: number;
  /** Share of event deliveries repeated, to exercise idempotency (default 0). */
  duplicateRate?: number;
  /** Inference server processes per variant at most (default 2). */
  maxProcessesPerVariant?: number;
}

/** What happens on the host, for displays (`nbops dev`, the demo) and tests. */
export type HostActivity =
  | { kind: 'event'; event: AwsEvent }
  | { kind: 'delivery'; record: DeliveryRecord }
  | { kind: 'notification'; notification: Notification }
  | { kind: 'log'; line: string };

export type ActivityListener = (activity: HostActivity) => void;

/** The bus, with every event it takes shown to the host's observers. */
class ObservedEventBus extends LocalEventBus {
  constructor(
    options: LocalEventBusOptions,
    private readonly observe: (event: AwsEvent) => void,
  ) {
    super(options);
  }

  override put(event: AwsEvent): EventRoute[] {
    this.observe(event);
    return super.put(event);
  }
}

export class LocalHost {
  private readonly listeners = new Set<ActivityListener>();
  private readonly handlers = new Map<HandlerName, LocalHandler>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private unsubscribeS3: (() => void) | undefined;
  /** @internal */
  releaseStdout: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private deliveriesSeen = 0;
  /** Filled in by startLocalHost once everything runs. */
  services!: Services;
  sagemaker!: LocalSageMaker;
  alarms!: LocalAlarms;
  bus!: LocalEventBus;
  emulators!: Emulators;
  s3!: S3Client;
  dynamodb!: DynamoDBClient;
  store!: S3ObjectStore;
  registry!: DynamoRegistry;
  schedules!: HostSchedules;
  /** The ops API at a local Function URL (the CLI's operator commands). */
  opsApi: FunctionUrlServer | undefined;
  info!: HostInfo;
  private announce = false;

  constructor(
    readonly dir: string,
    readonly timeScale: number,
    private readonly logLine: (line: string) => void,
  ) {}

  /** Subscribes to the host's activity; returns the unsubscribe function. */
  observe(listener: ActivityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal */
  notify(activity: HostActivity): void {
    for (const listener of this.listeners) {
      try {
        listener(activity);
      } catch (err) {
        this.logLine(`[nbops] an activity listener failed: ${(err as Error).message}`);
      }
    }
  }

  log(line: string): void {
    this.logLine(line);
    this.notify({ kind: 'log', line });
  }

  get bucket(): string {
    return this.services.config.bucket;
  }

  /** The handlers built for this host (one per handler name of the wiring table). */
  handlerNames(): HandlerName[] {
    return [...this.handlers.keys()];
  }

  /** @internal */
  registerHandler(name: HandlerName, handler: LocalHandler): void {
    this.handlers.set(name, handler);
  }

  /** Runs a handler on an event as Lambda would (its middy stack, a Lambda context). */
  async invoke(handler: HandlerName, event: unknown): Promise<unknown> {
    const run = this.handlers.get(handler);
    if (!run) {
      this.log(
        `[nbops] no handler "${handler}" in this checkout (functions/${handler}); the event was not handled`,
      );
      return { kind: 'ignored', reason: `handler ${handler} is not available in this checkout` };
    }
    const call = run(event, lambdaContext(handler, LOCAL_LOCATION));
    this.inFlight.add(call);
    try {
      return await call;
    } finally {
      this.inFlight.delete(call);
      this.reportDeliveries();
    }
  }

  /** Shows delivery records the bus wrote since the last call. */
  private reportDeliveries(): void {
    // The bus records a delivery once the handler's promise settles: look after its callbacks ran.
    setImmediate(() => {
      const records = this.bus.deliveries;
      for (; this.deliveriesSeen < records.length; this.deliveriesSeen++)
        this.notify({ kind: 'delivery', record: records[this.deliveriesSeen]! });
    });
  }

  /**
   * @internal s3rver's notification onto the bus, in arrival order. Like S3's event, it does not
   * name the person: the submit step reads the uploader from the object's metadata, on both hosts.
   */
  onS3Notification(notification: S3Notification): void {
    try {
      this.bus.putS3Notification(notification, { keyEncoding: 'raw' });
    } catch (err) {
      this.log(`[nbops] S3 notification not delivered: ${(err as Error).message}`);
    }
  }

  /** @internal */
  async finishStart(options: { announce: boolean }): Promise<void> {
    this.unsubscribeS3 = this.emulators.onS3Event((n) => this.onS3Notification(n));
    this.bus.startSchedules();
    this.alarms.start(alarmTickMs(this.timeScale));
    this.announce = options.announce;
    if (options.announce) await writeHostInfo(this.info);
  }

  /**
   * Stops everything: no new events, training jobs and endpoint fleets stopped (endpoints are
   * served again on the next start), alarms saved, emulators closed, host.json removed.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    this.unsubscribeS3?.();
    await this.opsApi?.close();
    await this.schedules?.close();
    this.alarms?.stop();
    // Running jobs end Stopped, with their events: delivered (briefly waited for) so the registry
    // records how they ended instead of waiting for the stuck-version sweep after a restart.
    await this.sagemaker?.close();
    if (this.bus) await Promise.race([this.bus.idle(), delay(5_000)]);
    await this.bus?.close();
    // Handlers already running finish before their databases go away.
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(10_000)]);
    await this.alarms?.close();
    await this.emulators?.stop();
    this.releaseStdout?.();
    if (this.announce) await removeHostInfo(this.dir);
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** How often alarms are evaluated: a few times per (scaled) minute-long period. */
export function alarmTickMs(timeScale: number): number {
  return Math.round(Math.min(5_000, Math.max(50, (60_000 * timeScale) / 6)));
}

/**
 * Fails with a HostStartError when a fixed port is taken. Checked before the emulators start:
 * s3rver reports a taken port only as an unhandled 'error' event, which would end the process.
 */
async function checkPortsFree(ports: { s3?: number; dynamodb?: number }): Promise<void> {
  for (const port of [ports.s3, ports.dynamodb]) {
    if (port === undefined || port === 0) continue;
    const error = await new Promise<unknown>((resolve) => {
      const probe = createServer();
      probe.once('error', resolve);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
    });
    if (error) throw portInUse(error, ports) ?? error;
  }
}

function portInUse(err: unknown, ports: { s3?: number; dynamodb?: number }): HostStartError | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code !== 'EADDRINUSE') return undefined;
  const which =
    e.port !== undefined && e.port === ports.dynamodb
      ? { name: 'DynamoDB emulator (dynalite)', flag: '--dynamodb-port' }
      : { name: 'S3 emulator (s3rver)', flag: '--s3-port' };
  const port = e.port ?? (which.flag === '--s3-port' ? ports.s3 : ports.dynamodb);
  return new HostStartError(
    'port-in-use',
    `port ${port} for the ${which.name} is already in use by another program. Stop that program, choose another port with ${which.flag}, or leave ${which.flag} out so the host picks a free port.`,
  );
}

/** The policy the local host runs with: the given one, with the local AWS target filled in. */
export function localPolicy(policy: Policy | undefined, bucket: string): Policy {
  return resolvePolicy({
    ...(policy ?? {}),
    aws: {
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      executionRoleArn: LOCAL_EXECUTION_ROLE,
      ...(policy?.aws ?? {}),
      artifactBucket: bucket,
    },
  });
}

/**
 * Starts the local host. Problems a user can fix (a port in use, a damaged work folder, no
 * Python, another host on the same folder) are HostStartErrors saying what to do.
 */
export async function startLocalHost(options: LocalHostOptions = {}): Promise<LocalHost> {
  const dir = resolve(options.dir ?? DEFAULT_HOST_DIR);
  const timeScale = options.timeScale ?? 1;
  const logLine = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bucket = options.bucket ?? LOCAL_BUCKET;
  const ports = options.ports ?? {};

  const running = readHostInfo(dir);
  if (running && running.pid !== process.pid)
    throw new HostStartError(
      'already-running',
      `a local host already runs on ${dir} (pid ${running.pid}). Use it (nbops submit, nbops status), stop it with Ctrl-C in its terminal, or use another folder with --dir.`,
    );
  const python = options.python ?? defaultPython();
  try {
    checkPython(python);
  } catch (err) {
    if (err instanceof PythonNotFoundError) throw new HostStartError('python-missing', err.message);
    throw err;
  }
  if (options.fresh) await wipeHostDir(dir);
  mkdirSync(dir, { recursive: true });
  await checkDynamoData(dir);

  const host = new LocalHost(dir, timeScale, logLine);
  const location = LOCAL_LOCATION;
  let alarms: LocalAlarms;
  try {
    alarms = await LocalAlarms.open({
      location,
      timeScale,
      stateFile: resolve(dir, 'cloudwatch', 'alarms.json'),
      log: (line) => host.log(line),
      emit: (event) => host.bus.put(event),
    });
  } catch (err) {
    if (err instanceof AlarmStateFileError) throw corruptState(dir, `the local alarms file ${err.message}`);
    throw err;
  }
  host.alarms = alarms;

  await checkPortsFree(ports);
  try {
    host.emulators = await startEmulators({
      dataDir: dir,
      ...(ports.s3 !== undefined ? { s3Port: ports.s3 } : {}),
      ...(ports.dynamodb !== undefined ? { dynamoPort: ports.dynamodb } : {}),
    });
  } catch (err) {
    throw portInUse(err, ports) ?? err;
  }

  try {
    await assemble(host, { ...options, dir, timeScale, bucket, python, location });
  } catch (err) {
    await host.stop().catch(() => {});
    if (err instanceof HostStartError) throw err;
    throw new HostStartError(
      'corrupt-state',
      `the local host could not start on ${dir}: ${(err as Error).message}. If this keeps happening, start again with --fresh to wipe the local state.`,
    );
  }
  return host;
}

async function assemble(
  host: LocalHost,
  o: LocalHostOptions & {
    dir: string;
    timeScale: number;
    bucket: string;
    python: string;
    location: typeof LOCAL_LOCATION;
  },
): Promise<void> {
  const { dir, timeScale, bucket, location } = o;
  host.s3 = localS3Client(host.emulators.s3.endpoint);
  host.dynamodb = localDynamoClient(host.emulators.dynamodb.endpoint);
  host.store = new S3ObjectStore(host.s3, { dialect: 's3rver' });

  try {
    await host.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
  await createRegistryTable(host.dynamodb, REGISTRY_TABLE_NAME);
  await createIdempotencyTable(host.dynamodb);
  host.registry = new DynamoRegistry({ client: host.dynamodb, tableName: REGISTRY_TABLE_NAME });
  const runtimeHash = await publishRuntime(host.store, bucket);

  // Deliveries wait until the handlers exist: LocalSageMaker may emit while it restores endpoints.
  let ready: () => void = () => {};
  const handlersReady = new Promise<void>((r) => {
    ready = r;
  });
  const clock = new SystemClock();
  host.bus = new ObservedEventBus(
    {
      bucketName: bucket,
      dispatch: async (handler, event) => {
        await handlersReady;
        return host.invoke(handler, event);
      },
      logFile: resolve(dir, 'events.jsonl'),
      deadLetterFile: resolve(dir, 'dead-letters.jsonl'),
      clock,
      location,
      timeScale,
      retryBaseMs: Math.round(Math.min(1_000, Math.max(100, 60_000 * timeScale))),
      ...(o.duplicateRate !== undefined ? { duplicateRate: o.duplicateRate } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      log: (line) => host.log(line),
    },
    (event) => host.notify({ kind: 'event', event }),
  );

  host.sagemaker = await LocalSageMaker.create({
    store: host.store,
    workDir: dir,
    python: o.python,
    onEvent: (event) => host.bus.put(event),
    clock,
    location,
    timeScale,
    log: (line) => host.log(line),
    alarmPollIntervalMs: alarmTickMs(timeScale),
    alarmState: (name) => host.alarms.state(name) ?? 'INSUFFICIENT_DATA',
    captureSyncIntervalMs: Math.round(Math.min(10_000, Math.max(1_000, 600_000 * timeScale))),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.maxProcessesPerVariant !== undefined ? { maxProcessesPerVariant: o.maxProcessesPerVariant } : {}),
  });
  const metricsSource = new SageMakerMetricsSource(host.sagemaker, dir, host.alarms);
  host.alarms.addSource(async () => {
    await metricsSource.poll();
  });

  try {
    host.schedules = await HostSchedules.open({
      put: (event) => host.bus.put(event),
      location,
      timeScale,
      file: resolve(dir, 'scheduler', 'schedules.json'),
      log: (line) => host.log(line),
    });
  } catch (err) {
    if (err instanceof ScheduleFileError) throw corruptState(dir, `the local schedules file ${err.message}`);
    throw err;
  }

  const notificationFile = resolve(dir, 'notifications.log');
  const notifier = new LocalNotifier({ file: notificationFile, write: () => {}, clock });
  host.services = {
    config: { bucket, policy: localPolicy(o.policy, bucket), runtimeHash },
    store: host.store,
    registry: host.registry,
    sagemaker: host.sagemaker,
    alarms: host.alarms,
    events: host.bus,
    notifier: {
      notify: async (notification) => {
        host.notify({ kind: 'notification', notification });
        await notifier.notify(notification);
      },
    },
    schedules: host.schedules,
    clock,
  };

  const handlerLog = resolve(dir, 'logs', 'handlers.jsonl');
  mkdirSync(resolve(dir, 'logs'), { recursive: true });
  const metricsLog = resolve(dir, 'logs', 'metrics.jsonl');
  const keep = (file: string, line: string) => {
    try {
      appendFileSync(file, `${line}\n`);
    } catch {
      // the logs are for people; losing a line must not fail a handler
    }
  };
  const sink = (line: string) => {
    if (host.alarms.ingestEmf(line) > 0) keep(metricsLog, line);
    else keep(handlerLog, line);
  };
  host.releaseStdout = captureStdoutEmf((line) => {
    host.alarms.ingestEmf(line);
    keep(metricsLog, line);
  });
  const names = new Set(routes({ bucketName: bucket }).map((r) => r.handler));
  for (const name of names) {
    const factory = HANDLER_FACTORIES[name];
    if (!factory) {
      host.log(`[nbops] the wiring table routes to "${name}", which this checkout has no handler for`);
      continue;
    }
    const store = new DynamoDBPersistenceLayer({
      tableName: IDEMPOTENCY_TABLE_NAME,
      awsSdkV3Client: host.dynamodb,
    });
    // On Lambda the key prefix is the function's name (AWS_LAMBDA_FUNCTION_NAME); same here.
    store.idempotencyKeyPrefix = functionName(name);
    host.registerHandler(
      name,
      factory({
        services: () => host.services,
        observability: localObservability(name, sink),
        idempotency: {
          kind: 'enabled',
          persistenceStore: store,
          config: new IdempotencyConfig({
            eventKeyJmesPath: IDEMPOTENCY_KEY_PATH,
            expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
          }),
        },
      }),
    );
  }
  // The ops API is no event target: the host serves it at a local Function URL, trusting the user
  // the CLI names (no IAM locally). Its actions are retried by request id, not by idempotency records.
  const opsFactory = HANDLER_FACTORIES['ops-api'];
  if (opsFactory) {
    host.registerHandler(
      'ops-api',
      opsFactory({
        services: () => host.services,
        observability: localObservability('ops-api', sink),
        idempotency: { kind: 'disabled' },
      }),
    );
    host.opsApi = await serveFunctionUrl({
      invoke: (event) => host.invoke('ops-api', event),
      authenticate: localIdentity(location.account),
      accountId: location.account,
      region: location.region,
      ...(o.ports?.ops !== undefined ? { port: o.ports.ops } : {}),
    });
  }
  ready();

  host.info = {
    format: 'nbops-local-host/v1',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dir,
    region: location.region,
    account: location.account,
    bucket,
    registryTable: REGISTRY_TABLE_NAME,
    idempotencyTable: IDEMPOTENCY_TABLE_NAME,
    s3Endpoint: host.emulators.s3.endpoint,
    dynamodbEndpoint: host.emulators.dynamodb.endpoint,
    timeScale,
    runtimeHash,
    ...(host.opsApi ? { opsUrl: host.opsApi.url } : {}),
  };
  await host.finishStart({ announce: o.announce ?? false });
}

/** Powertools' idempotency table: partition key `id` (the stack's table has the same key). */
async function createIdempotencyTable(client: DynamoDBClient): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: IDEMPOTENCY_TABLE_NAME,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
}
