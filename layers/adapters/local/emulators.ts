// Real-protocol stand-ins for S3 and DynamoDB, started in-process: s3rver (S3 REST over HTTP) and
// dynalite (DynamoDB JSON over HTTP). Tests and the local host talk to them with the ordinary AWS SDK
// clients, so nothing above the client knows it is not talking to AWS.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

/** s3rver accepts only these credentials (it checks signatures). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
/** dynalite accepts any credentials; fixed ones keep the SDK from searching the environment. */
export const LOCAL_DYNAMODB_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

/** One record of a classic S3 event notification, as s3rver emits it (a subset of what AWS sends). */
export interface S3NotificationRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity?: { principalId: string };
  s3: {
    s3SchemaVersion: string;
    configurationId?: string;
    bucket: { name: string; arn?: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
}

export interface S3Notification {
  Records: S3NotificationRecord[];
}

export type S3EventListener = (event: S3Notification) => void;

export interface StartEmulatorsOptions {
  /** Directory for persistent data (`<dir>/s3`, `<dir>/dynamodb`); undefined = a temp dir + in-memory tables. */
  dataDir?: string;
  /** 0 (the default) picks a free port. */
  s3Port?: number;
  /** 0 (the default) picks a free port. */
  dynamoPort?: number;
}

export interface Emulators {
  s3: { endpoint: string };
  dynamodb: { endpoint: string };
  /** Subscribe to S3 object events (ObjectCreated:Put/Post/Copy, ObjectRemoved:Delete); returns an unsubscribe function. */
  onS3Event(listener: S3EventListener): () => void;
  stop(): Promise<void>;
}

// Neither package ships types; these are the parts we use.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: S3EventListener): void;
  off(event: 'event', listener: S3EventListener): void;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
type DynaliteFactory = (options: Record<string, unknown>) => Server;

const require = createRequire(import.meta.url);

const HOST = '127.0.0.1';

export async function startEmulators(options: StartEmulatorsOptions = {}): Promise<Emulators> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const dynalite = require('dynalite') as DynaliteFactory;

  const tempDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'nbops-s3-')) : undefined;
  const s3Dir = tempDir ?? join(options.dataDir!, 's3');
  const dynamoDir = options.dataDir === undefined ? undefined : join(options.dataDir, 'dynamodb');
  await mkdir(s3Dir, { recursive: true });
  if (dynamoDir) await mkdir(dynamoDir, { recursive: true });

  const s3 = new S3rver({
    address: HOST,
    port: options.s3Port ?? 0,
    silent: true,
    directory: s3Dir,
    // Path-style only: virtual-host buckets would need DNS for <bucket>.127.0.0.1.
    vhostBuckets: false,
  });
  let s3Address: AddressInfo;
  try {
    s3Address = await s3.run();
  } catch (error) {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw error;
  }

  // Zero delays: tables are ACTIVE as soon as CreateTable returns, so callers never need
  // waitUntilTableExists (whose minimum delay is 20 s).
  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dynamoDir ? { path: dynamoDir } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(options.dynamoPort ?? 0, HOST, () => {
        dynamo.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await s3.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw error;
  }
  const dynamoAddress = dynamo.address() as AddressInfo;

  let stopped = false;
  return {
    s3: { endpoint: `http://${HOST}:${s3Address.port}` },
    dynamodb: { endpoint: `http://${HOST}:${dynamoAddress.port}` },
    onS3Event(listener) {
      s3.on('event', listener);
      return () => s3.off('event', listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = Promise.all([
        s3.close(),
        new Promise<void>((resolve, reject) => dynamo.close((error) => (error ? reject(error) : resolve()))),
      ]);
      // SDK clients keep connections alive; drop them so close() does not wait for their idle timeout.
      s3.httpServer?.closeAllConnections();
      dynamo.closeAllConnections();
      await closed;
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** An S3 client for s3rver: path-style addressing, and checksums only where the API requires them
 * (the SDK's default aws-chunked checksum framing would be stored verbatim by s3rver). */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_S3_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A DynamoDB client for dynalite. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_DYNAMODB_CREDENTIALS });
}
