/**
 * Talking to a local host from outside its process (`nbops submit`, `nbops dev`) or from the
 * demo: upload a notebook as a user would, follow its version through the registry, and report
 * what the registry and the endpoints say. Everything goes through the host's emulators with the
 * ordinary SDK clients, as it would against AWS.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { parse as parseYaml } from 'yaml';
import type { S3ObjectStore } from '#adapters/aws/s3-store';
import type { DynamoRegistry } from '#adapters/dynamodb/registry';
import { UPLOADER_METADATA } from '#core/layout';
import { unquoteEtag } from '#core/ports';
import type { Status } from '#core/registry/lifecycle';
import type { Registry } from '#core/registry/registry';
import type { AuditEvent, VersionRecord } from '#core/registry/types';
import { endpointConfigVersion } from '#core/service/context';
import { NOTEBOOK_PREFIX } from '#core/wiring';
import { NoHostError } from './errors';
import { type HostInfo, looksLikeHostDir, readHostInfo } from './state';

/** Metadata key naming the uploader (s3rver has no identities): x-amz-meta-nbops-uploader. */
export { looksLikeHostDir, UPLOADER_METADATA };

/** Statuses a version rests in; `ok` ones end `nbops submit --wait` with exit 0. */
export const RESTING: { ok: readonly Status[]; failed: readonly Status[] } = {
  ok: ['DEPLOYED', 'PENDING_APPROVAL'],
  failed: [
    'REJECTED',
    'TRAINING_FAILED',
    'GATES_FAILED',
    'DEPLOY_FAILED',
    'ROLLED_BACK',
    'DECLINED',
    'RETIRED',
  ],
};

export interface Connection {
  info: HostInfo;
  s3: S3Client;
  dynamodb: DynamoDBClient;
  store: S3ObjectStore;
  registry: DynamoRegistry;
  close(): Promise<void>;
}

/**
 * The SDK clients, the registry adapter and the emulators, loaded on use: this module is imported
 * by CLI commands that `nbops --help` and `nbops validate` load too.
 */
async function clientModules() {
  const [{ S3ObjectStore }, { DynamoRegistry }, emulators] = await Promise.all([
    import('#adapters/aws/s3-store'),
    import('#adapters/dynamodb/registry'),
    import('../emulators'),
  ]);
  return { S3ObjectStore, DynamoRegistry, ...emulators };
}

/** SDK clients to the host running for `dir`; NoHostError when none runs. */
export async function connect(dir: string): Promise<Connection> {
  const info = readHostInfo(dir);
  if (!info) throw new NoHostError(resolve(dir));
  const { S3ObjectStore, DynamoRegistry, localS3Client, localDynamoClient } = await clientModules();
  const s3 = localS3Client(info.s3Endpoint);
  const dynamodb = localDynamoClient(info.dynamodbEndpoint);
  return {
    info,
    s3,
    dynamodb,
    store: new S3ObjectStore(s3, { dialect: 's3rver' }),
    registry: new DynamoRegistry({ client: dynamodb, tableName: info.registryTable }),
    async close() {
      s3.destroy();
      dynamodb.destroy();
    },
  };
}

/**
 * The registry of `dir` read without a running host: the emulators are started on its data for
 * as long as the caller needs them (nobody else may use the folder meanwhile).
 */
// --- submissions ----------------------------------------------------------------------------------

export class SubmissionError extends Error {}

export interface Submission {
  model: string;
  /** `notebooks/<model>/<file>` */
  key: string;
  bytes: Uint8Array;
  /** A sidecar manifest uploaded first, when the notebook has one beside it. */
  sidecar?: { key: string; bytes: Uint8Array };
}

/** The model name a notebook's manifest (metadata `nbops`, else a sidecar) gives. */
function manifestModel(notebook: unknown, sidecarText: string | undefined, path: string): string {
  const meta = (notebook as { metadata?: { nbops?: { model?: { name?: unknown } } } })?.metadata?.nbops;
  let name = meta?.model?.name;
  if (name === undefined && sidecarText !== undefined) {
    try {
      name = (parseYaml(sidecarText) as { model?: { name?: unknown } } | null)?.model?.name;
    } catch (err) {
      throw new SubmissionError(
        `the sidecar manifest of ${path} is not valid YAML: ${(err as Error).message}`,
      );
    }
  }
  if (typeof name !== 'string' || name.trim() === '')
    throw new SubmissionError(
      `${path} has no manifest naming its model: add model.name under the notebook metadata key "nbops" (nbops manifest embed ${path} <manifest.yaml>), or put a sidecar ${basename(path).replace(/\.ipynb$/, '')}.nbops.yaml beside it.`,
    );
  return name;
}

/**
 * Reads a notebook for upload; `edit` may change the parsed notebook (the demo sets
 * `deployment.approval`), in which case it is re-serialised.
 */
export function prepareSubmission(
  path: string,
  edit?: (notebook: Record<string, unknown>) => void,
): Submission {
  if (!path.endsWith('.ipynb')) throw new SubmissionError(`${path} is not a notebook: pass a .ipynb file`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SubmissionError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  let notebook: Record<string, unknown> | undefined;
  try {
    notebook = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    // Not JSON: the service validates and rejects it with findings; the model comes from a sidecar.
  }
  const stem = basename(path).replace(/\.ipynb$/, '');
  let sidecar: { name: string; bytes: Uint8Array } | undefined;
  for (const ext of ['yaml', 'yml', 'json']) {
    const candidate = join(dirname(path), `${stem}.nbops.${ext}`);
    try {
      sidecar = { name: basename(candidate), bytes: readFileSync(candidate) };
      break;
    } catch {}
  }
  const model = manifestModel(notebook, sidecar && Buffer.from(sidecar.bytes).toString('utf8'), path);
  if (edit) {
    if (!notebook) throw new SubmissionError(`${path} is not valid JSON, so it cannot be edited`);
    edit(notebook);
    bytes = new TextEncoder().encode(`${JSON.stringify(notebook, null, 1)}\n`);
  }
  const folder = `${NOTEBOOK_PREFIX}${model}/`;
  return {
    model,
    key: `${folder}${basename(path)}`,
    bytes,
    ...(sidecar ? { sidecar: { key: `${folder}${sidecar.name}`, bytes: sidecar.bytes } } : {}),
  };
}

/** The model's latest version number (0 before its first upload). */
export async function latestVersion(registry: Registry, model: string): Promise<number> {
  return (await registry.getModel(model).catch(() => undefined))?.latestVersion ?? 0;
}

/** Uploads (sidecar first, then the notebook) naming the uploader; returns the notebook's ETag. */
export async function upload(
  store: S3ObjectStore,
  bucket: string,
  submission: Submission,
  uploader: string,
): Promise<{ etag: string }> {
  const metadata = { [UPLOADER_METADATA]: uploader };
  if (submission.sidecar)
    await store.put({ bucket, key: submission.sidecar.key }, submission.sidecar.bytes, { metadata });
  const put = await store.put({ bucket, key: submission.key }, submission.bytes, {
    contentType: 'application/x-ipynb+json',
    metadata,
  });
  return { etag: put.etag };
}

// --- following a version -----------------------------------------------------------------------

export interface FollowOptions {
  /** Each new audit event of the version, oldest first. */
  onAudit?: (event: AuditEvent, record: VersionRecord) => void;
  /** Called once the upload is registered. */
  onRegistered?: (record: VersionRecord) => void;
  timeoutMs?: number;
  pollMs?: number;
  /** The host's folder: lets the follower report an upload the service ignored (events.jsonl). */
  hostDir?: string;
  /** Resolves (stops following) when this returns true. */
  stop?: (record: VersionRecord) => boolean;
}

export class FollowError extends Error {}

/** Whether a version in this status is done moving (a PENDING_APPROVAL on its way to auto approval is not). */
export function isResting(record: VersionRecord): boolean {
  if (RESTING.failed.includes(record.status)) return true;
  if (record.status === 'DEPLOYED') return true;
  if (record.status === 'PENDING_APPROVAL')
    return !(record.lastChange?.reason ?? '').startsWith('approved automatically next');
  return false;
}

/**
 * Waits for the upload of `key` (ETag `etag`) to be registered, then follows its version until
 * it rests (or `stop` says so); resolves with the last record.
 */
export async function followUpload(
  registry: Registry,
  upload: {
    model: string;
    key: string;
    etag: string;
    since: Date;
    /** The model's latest version before the upload: the same bytes uploaded again are a new version. */
    afterVersion?: number;
  },
  options: FollowOptions = {},
): Promise<VersionRecord> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const pollMs = options.pollMs ?? 250;
  let record: VersionRecord | undefined;
  while (!record) {
    const versions = await registry.listVersions(upload.model, { newestFirst: true }).catch(() => []);
    record = versions.find(
      (v) =>
        v.version > (upload.afterVersion ?? 0) &&
        v.facts.notebook?.key === upload.key &&
        unquoteEtag(v.facts.notebook.etag ?? '') === unquoteEtag(upload.etag),
    );
    if (record) break;
    const ignored = options.hostDir ? ignoredUpload(options.hostDir, upload.key, upload.since) : undefined;
    if (ignored) throw new FollowError(`the upload was not submitted: ${ignored}`);
    if (Date.now() > deadline)
      throw new FollowError(
        `no version of ${upload.model} was registered for ${upload.key}; is the local host still running? Its deliveries are logged in events.jsonl in its folder.`,
      );
    await sleep(pollMs);
  }
  options.onRegistered?.(record);
  let seen = 0;
  for (;;) {
    record = (await registry.getVersion(record.model, record.version)) ?? record;
    const trail = await registry.auditTrail(record.model, { version: record.version });
    for (; seen < trail.length; seen++) options.onAudit?.(trail[seen]!, record);
    if (isResting(record) || options.stop?.(record)) return record;
    if (Date.now() > deadline)
      throw new FollowError(
        `version ${record.version} of ${record.model} is still ${record.status} after ${Math.round((options.timeoutMs ?? 1_800_000) / 1000)} s`,
      );
    await sleep(pollMs);
  }
}

/** The reason the submit handler ignored an upload of `key`, from the host's delivery log. */
export function ignoredUpload(hostDir: string, key: string, since: Date): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(hostDir, 'events.jsonl'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n').reverse()) {
    if (!line.includes('"handler":"submit"') || !line.includes(key)) continue;
    try {
      const record = JSON.parse(line) as { at: string; result?: { kind?: string; reason?: string } };
      if (Date.parse(record.at) < since.getTime() - 1000) return undefined;
      if (record.result?.kind === 'ignored' && record.result.reason?.includes(key))
        return record.result.reason;
    } catch {}
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- status ----------------------------------------------------------------------------------------

export interface EndpointStatus {
  name: string;
  status: string;
  endpointConfigName: string;
  /** The version whose config the endpoint serves. */
  version?: number;
  failureReason?: string;
}

/** The local endpoint as LocalSageMaker saved it (`<dir>/sagemaker/endpoints/<name>.json`). */
export function localEndpoint(hostDir: string, model: string): EndpointStatus | undefined {
  try {
    const record = JSON.parse(
      readFileSync(join(hostDir, 'sagemaker', 'endpoints', `${model.toLowerCase()}.json`), 'utf8'),
    ) as { name: string; status: string; configName: string; failureReason?: string };
    const version = endpointConfigVersion(model, record.configName);
    return {
      name: record.name,
      status: record.status,
      endpointConfigName: record.configName,
      ...(version !== undefined ? { version } : {}),
      ...(record.failureReason ? { failureReason: record.failureReason } : {}),
    };
  } catch {
    return undefined;
  }
}
