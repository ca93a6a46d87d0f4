/**
 * The ways to reach nbops (cli/ops-client.ts chooses one): the ops API on AWS (SigV4-signed
 * HTTPS), a running local host's ops API, or, with no host running, the ops-api handler run in this
 * process over the folder's saved state. Loaded only when a command talks to nbops: these modules
 * (SDK clients, emulators, the handler) would otherwise slow every `nbops` start, `validate` too.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import { DynamoRegistry } from '#adapters/dynamodb/registry';
import { LOCAL_LOCATION } from '#adapters/local/aws-event';
import { localDynamoClient, localS3Client, startEmulators } from '#adapters/local/emulators';
import { functionUrlEvent, LOCAL_IDENTITY_HEADER, localIdentity } from '#adapters/local/function-url';
import { LOCAL_BUCKET, localPolicy, REGISTRY_TABLE_NAME } from '#adapters/local/host';
import { localEndpoint } from '#adapters/local/host/client';
import { HostStartError } from '#adapters/local/host/errors';
import { lambdaContext } from '#adapters/local/host/lambda';
import { localObservability } from '#adapters/local/host/observability';
import { checkDynamoData, looksLikeHostDir, readHostInfo, takeReaderTurn } from '#adapters/local/host/state';
import type { Services } from '#core/ports';
import { makeHandler } from '../functions/ops-api/index';
import { UserError } from './exit';
import {
  HostNeededError,
  localIdentityName,
  type OpsClient,
  type OpsOptions,
  type OpsResponse,
  REQUEST_ID_HEADER,
  resolveTarget,
  sendWithRetries,
  type Target,
} from './ops-client';

// --- AWS -----------------------------------------------------------------------------------------

/** SHA-256 and HMAC-SHA-256 for the SigV4 signer, from node:crypto. */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** `abc123.lambda-url.eu-west-1.on.aws` -> eu-west-1. */
export function regionOfUrl(url: URL): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1];
}

export interface AwsClientOptions {
  region?: string;
  profile?: string;
  /** For tests: where requests go (default: fetch). */
  fetch?: typeof fetch;
}

export class AwsOpsClient implements OpsClient {
  readonly target: Target;
  readonly description: string;
  readonly canAct = true;
  private readonly s3: S3Client;
  private readonly fetchImpl: typeof fetch;

  constructor(
    readonly url: URL,
    options: AwsClientOptions = {},
  ) {
    this.target = { kind: 'aws', url };
    this.description = `the ops API at ${url.origin}`;
    const region = options.region ?? regionOfUrl(url);
    // Any SDK client resolves the standard credential chain and Region; it is only used for that.
    this.s3 = new S3Client({
      ...(region ? { region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    });
    this.fetchImpl = options.fetch ?? fetch;
  }

  async region(): Promise<string> {
    try {
      return await this.s3.config.region();
    } catch {
      throw new UserError(
        `cannot tell the AWS Region of ${this.url.origin}: pass --region (or set AWS_REGION) to the Region of the deployment`,
      );
    }
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    requestId = randomUUID(),
  ): Promise<OpsResponse> {
    let credentials: Awaited<ReturnType<S3Client['config']['credentials']>>;
    try {
      credentials = await this.s3.config.credentials();
    } catch (err) {
      throw new UserError(
        `no AWS credentials: ${(err as Error).message}. Sign in as usual for the AWS CLI (aws sso login, AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
      );
    }
    const signer = new SignatureV4({
      service: 'lambda',
      region: await this.region(),
      credentials,
      sha256: Sha256,
      uriEscapePath: true,
    });
    const target = new URL(path, this.url);
    const text = body === undefined ? undefined : JSON.stringify(body);
    // Repeated parameters are all signed (the signer sorts their values), as they are all sent.
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of target.searchParams) {
      const seen = query[k];
      query[k] = seen === undefined ? v : [...(Array.isArray(seen) ? seen : [seen]), v];
    }
    const headers: Record<string, string> = {
      host: target.host,
      accept: 'application/json, text/html',
      [REQUEST_ID_HEADER]: requestId,
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    const send = async () => {
      // Signed per attempt: the signature carries the time.
      const signed = await signer.sign({
        method,
        protocol: target.protocol,
        hostname: target.hostname,
        ...(target.port ? { port: Number(target.port) } : {}),
        path: target.pathname,
        query,
        headers: { ...headers },
        ...(text !== undefined ? { body: text } : {}),
      } as Parameters<SignatureV4['sign']>[0]);
      const sent = { ...(signed.headers as Record<string, string>) };
      delete sent.host; // fetch sets it from the URL
      return this.fetchImpl(target, { method, headers: sent, ...(text !== undefined ? { body: text } : {}) });
    };
    return sendWithRetries(send, requestId, this.url.origin);
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }
}

// --- the local host ------------------------------------------------------------------------------

/** Talks to the ops API a running local host serves. */
class LocalHttpClient implements OpsClient {
  readonly canAct = true;
  readonly description: string;
  constructor(
    readonly target: Target,
    private readonly url: string,
    private readonly identity: string,
  ) {
    this.description = `the local host in ${(target as { dir: string }).dir}`;
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    requestId = randomUUID(),
  ): Promise<OpsResponse> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return sendWithRetries(
      () =>
        fetch(new URL(path, this.url), {
          method,
          headers: {
            [LOCAL_IDENTITY_HEADER]: this.identity,
            [REQUEST_ID_HEADER]: requestId,
            ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(text !== undefined ? { body: text } : {}),
        }),
      requestId,
      this.description,
    );
  }

  async close(): Promise<void> {}
}

/**
 * Services over a local host's saved state, for answering reads without the host: the registry
 * and bucket through the emulators, endpoints and training jobs from the files LocalSageMaker
 * keeps. Anything that acts (events, alarms, schedules, SageMaker changes) needs the host.
 */
export function savedStateServices(
  dir: string,
  parts: { store: Services['store']; registry: Services['registry']; bucket: string },
): Services {
  const needs = (what: string) => async (): Promise<never> => {
    throw new HostNeededError(what);
  };
  return {
    config: {
      bucket: parts.bucket,
      policy: localPolicy(undefined, parts.bucket),
      runtimeHash: '', // only reads are served, and none of them compares runtimes
    },
    store: parts.store,
    registry: parts.registry,
    sagemaker: {
      describeEndpoint: async (name) => {
        const saved = localEndpoint(dir, name);
        return saved
          ? ({
              EndpointName: saved.name,
              EndpointStatus: saved.status,
              EndpointConfigName: saved.endpointConfigName,
              ...(saved.failureReason ? { FailureReason: saved.failureReason } : {}),
            } as Awaited<ReturnType<Services['sagemaker']['describeEndpoint']>>)
          : undefined;
      },
      describeTrainingJob: async (name) => {
        try {
          const job = JSON.parse(await readFile(join(dir, 'jobs', name, 'job.json'), 'utf8')) as {
            status?: string;
            secondaryStatus?: string;
            failureReason?: string;
            trainingStartTime?: number;
            trainingEndTime?: number;
          };
          return {
            TrainingJobName: name,
            TrainingJobStatus: job.status,
            SecondaryStatus: job.secondaryStatus,
            ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
            ...(job.trainingStartTime ? { TrainingStartTime: new Date(job.trainingStartTime) } : {}),
            ...(job.trainingEndTime ? { TrainingEndTime: new Date(job.trainingEndTime) } : {}),
          } as Awaited<ReturnType<Services['sagemaker']['describeTrainingJob']>>;
        } catch {
          return undefined;
        }
      },
      createTrainingJob: needs('starting a training job'),
      stopTrainingJob: needs('stopping a training job'),
      createModel: needs('creating a model'),
      describeModel: async () => undefined,
      deleteModel: needs('deleting a model'),
      createEndpointConfig: needs('creating an endpoint config'),
      describeEndpointConfig: async () => undefined,
      deleteEndpointConfig: needs('deleting an endpoint config'),
      createEndpoint: needs('creating an endpoint'),
      updateEndpoint: needs('updating an endpoint'),
      deleteEndpoint: needs('deleting an endpoint'),
    },
    alarms: {
      putMetricAlarm: needs('putting an alarm'),
      putCompositeAlarm: needs('putting an alarm'),
      deleteAlarms: needs('deleting alarms'),
      describeAlarms: async () => [],
    },
    events: { publish: needs('publishing an event') },
    notifier: { notify: needs('notifying') },
    schedules: { upsertSchedule: needs('scheduling drift'), deleteSchedule: needs('deleting a schedule') },
    clock: { now: () => new Date() },
  };
}

/** Runs the ops-api handler in this process over saved state (no host, or a host without an ops API). */
/** The saved state, opened for reading, and how to let it go. */
interface OpenedState {
  services: Services;
  close: () => Promise<void>;
}

/**
 * Reads a local host's saved state in this process. The state is opened on the first request, so a
 * refused action (no host to act) never touches it.
 */
class InProcessClient implements OpsClient {
  readonly canAct = false;
  readonly description: string;
  private readonly handler: ReturnType<typeof makeHandler>;
  private opening: Promise<OpenedState> | undefined;
  private state: OpenedState | undefined;
  constructor(
    readonly target: Target,
    private readonly identity: string,
    private readonly open: () => Promise<OpenedState>,
  ) {
    this.description = `the local host in ${(target as { dir: string }).dir}`;
    this.handler = makeHandler({
      services: () => this.state!.services, // set before the first request reaches the handler
      observability: localObservability('ops-api', () => {}),
      idempotency: { kind: 'disabled' },
    });
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    requestId = randomUUID(),
  ): Promise<OpsResponse> {
    const headers: Record<string, string> = {
      [REQUEST_ID_HEADER]: requestId,
      [LOCAL_IDENTITY_HEADER]: this.identity,
    };
    const text = body === undefined ? '' : JSON.stringify(body);
    if (text) headers['content-type'] = 'application/json';
    this.opening ??= this.open();
    this.state = await this.opening;
    const received = { method, url: path, headers, body: Buffer.from(text) };
    const event = functionUrlEvent(received, {
      iam: localIdentity(LOCAL_LOCATION.account)(received),
      accountId: LOCAL_LOCATION.account,
      region: LOCAL_LOCATION.region,
      port: 0,
    });
    const result = (await this.handler(event, lambdaContext('ops-api', LOCAL_LOCATION))) as {
      statusCode?: number;
      headers?: Record<string, string>;
      body?: string;
    };
    const contentType = result.headers?.['content-type'] ?? '';
    const textBody = result.body ?? '';
    return {
      status: result.statusCode ?? 500,
      contentType,
      text: textBody,
      ...(contentType.includes('json') && textBody ? { json: JSON.parse(textBody) } : {}),
      requestId,
    };
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    this.state = undefined;
    if (opening) await (await opening).close();
  }
}

export async function openOpsClient(
  options: OpsOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpsClient> {
  const target = resolveTarget(options, env);
  if (target.kind === 'aws') {
    if (options.as) throw new UserError('--as names a local user; on AWS you are who your credentials say');
    return new AwsOpsClient(target.url, {
      ...(options.region ? { region: options.region } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
    });
  }
  const identity = localIdentityName(options, env);
  const info = readHostInfo(target.dir);
  if (info?.opsUrl) return new LocalHttpClient(target, info.opsUrl, identity);
  if (info)
    throw new UserError(
      `the local host running in ${target.dir} (pid ${info.pid}) does not serve the ops API: it was started by an older nbops. Stop it (Ctrl-C in its terminal) and start it again with \`npx nbops dev\``,
    );
  if (!looksLikeHostDir(target.dir))
    throw new UserError(
      `there is no local host state in ${target.dir}: start a local host with \`npx nbops dev\`, or run the whole lifecycle once with \`npx nbops demo\``,
    );
  return new InProcessClient(target, identity, () => openSavedState(target.dir));
}

/**
 * Opens a stopped host's saved state with emulators of this process's own. Its LevelDB admits one
 * process at a time, so commands reading it at once (two terminals, a script) take turns.
 */
async function openSavedState(dir: string): Promise<OpenedState> {
  let release: (() => void) | undefined;
  try {
    release = await takeReaderTurn(dir);
    await checkDynamoData(dir);
    const emulators = await startEmulators({ dataDir: resolve(dir) });
    const s3 = localS3Client(emulators.s3.endpoint);
    const dynamodb = localDynamoClient(emulators.dynamodb.endpoint);
    const services = savedStateServices(dir, {
      store: new S3ObjectStore(s3, { dialect: 's3rver' }),
      registry: new DynamoRegistry({ client: dynamodb, tableName: REGISTRY_TABLE_NAME }),
      bucket: LOCAL_BUCKET,
    });
    return {
      services,
      close: async () => {
        s3.destroy();
        dynamodb.destroy();
        await emulators.stop();
        release?.();
      },
    };
  } catch (err) {
    release?.();
    if (err instanceof HostStartError) throw new UserError(err.message);
    throw err;
  }
}
