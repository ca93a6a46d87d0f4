/**
 * Shared setup for the local SageMaker tests: a bucket on s3rver (the emulator every integration
 * test shares), the S3 object store the hosts use, the Python runtime published to the bucket the
 * way a deployment publishes it, and the churn example's requests from the real request builders.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import type { AwsEvent } from '#adapters/local/aws-event';
import { localS3Client } from '#adapters/local/emulators';
import { LocalSageMaker, type LocalSageMakerOptions } from '#adapters/local/sagemaker';
import { runtimePrefix, versionKeys } from '#core/layout';
import { applyManifestDefaults, validateManifestShape } from '#core/manifest/schema';
import { resolvePolicy } from '#core/policy/policy';
import type { BuildContext } from '#core/sagemaker/context';
import { isRuntimeFile, runtimeHash } from '#core/sagemaker/runtime-hash';
import { until } from '../../support/wait';

export const REPO = join(import.meta.dirname, '../../..');
export const RUNTIME_PACKAGE = join(REPO, 'layers/runtime/nbops_runtime');
export const CHURN_NOTEBOOK = join(REPO, 'examples/churn/churn.ipynb');

export async function newBucket(): Promise<{ bucket: string; store: S3ObjectStore }> {
  const client = localS3Client(inject('emulators').s3Endpoint);
  const bucket = `nbops-local-${randomUUID().slice(0, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, store: new S3ObjectStore(client, { dialect: 's3rver' }) };
}

/** Publishes layers/runtime/nbops_runtime to runtime/<hash>/nbops_runtime/ as a deployment does. */
export async function publishRuntime(store: S3ObjectStore, bucket: string): Promise<string> {
  const files = readdirSync(RUNTIME_PACKAGE)
    .filter((name) => name.endsWith('.py') && isRuntimeFile(name))
    .map((name) => ({ path: name, content: readFileSync(join(RUNTIME_PACKAGE, name)) }));
  const hash = runtimeHash(files);
  for (const file of files)
    await store.put({ bucket, key: `${runtimePrefix(hash)}nbops_runtime/${file.path}` }, file.content);
  return hash;
}

/** The churn example as a BuildContext targeting `bucket` (what the submit use case builds). */
export function churnContext(bucket: string, runtime: string, version: number, sha256: string): BuildContext {
  const raw = parse(readFileSync(join(REPO, 'examples/churn/manifest.yaml'), 'utf8'));
  const shape = validateManifestShape(raw);
  if (!shape.ok) throw new Error(`example manifest invalid: ${JSON.stringify(shape.errors)}`);
  const manifest = applyManifestDefaults(shape.value);
  return {
    model: manifest.model.name,
    version,
    manifest,
    policy: resolvePolicy({
      aws: {
        accountId: '000000000000',
        region: 'us-east-1',
        artifactBucket: bucket,
        executionRoleArn: 'arn:aws:iam::000000000000:role/nbops-sagemaker',
      },
    }),
    notebook: { file: 'churn.ipynb', sha256 },
    runtime: { hash: runtime },
    owner: manifest.model.owner,
  };
}

export async function uploadNotebook(
  store: S3ObjectStore,
  ctx: BuildContext,
  notebook: string | Uint8Array,
): Promise<void> {
  await store.put(
    {
      bucket: ctx.policy.aws!.artifactBucket!,
      key: versionKeys.notebook(ctx.model, ctx.version, ctx.notebook.file),
    },
    notebook,
  );
}

/** A notebook of code cells (sources given), nbformat 4.5. */
export function notebookOf(...sources: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: sources.map((source, i) => ({
      id: `c${i}`,
      cell_type: 'code',
      metadata: i === 0 ? { tags: ['parameters'] } : {},
      source,
      outputs: [],
      execution_count: null,
    })),
  });
}

export interface Harness {
  sagemaker: LocalSageMaker;
  events: AwsEvent[];
  workDir: string;
}

export async function localSageMaker(
  store: S3ObjectStore,
  options: Partial<LocalSageMakerOptions> = {},
): Promise<Harness> {
  const events: AwsEvent[] = [];
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'nbops-work-')));
  const sagemaker = await LocalSageMaker.create({
    store,
    workDir,
    timeScale: 0.01,
    alarmPollIntervalMs: 20,
    captureSyncIntervalMs: 0,
    seed: 7,
    log: () => {},
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { sagemaker, events, workDir };
}

/** Polls until `read()` satisfies `done` (or fails with the last value after `timeoutMs`). */
export function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  return until(read, done, timeoutMs);
}

export async function text(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of iterable) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
}

/** Everything but the SDK's $metadata: what the API model's output shape describes. */
export function withoutMetadata<T extends { $metadata?: unknown }>(output: T): Omit<T, '$metadata'> {
  const { $metadata: _m, ...rest } = output;
  return rest;
}
