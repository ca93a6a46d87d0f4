// The emulators speak the real wire protocols through the ordinary SDK clients.
import { randomUUID } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createRegistryTable } from '#adapters/dynamodb/table';
import {
  localDynamoClient,
  localS3Client,
  type S3Notification,
  startEmulators,
} from '#adapters/local/emulators';

describe('local emulators', () => {
  it('store S3 objects byte for byte, announce them as S3 events, and serve an ACTIVE table at once', async () => {
    const emulators = await startEmulators();
    try {
      const s3 = localS3Client(emulators.s3.endpoint);
      const events: S3Notification[] = [];
      const unsubscribe = emulators.onS3Event((event) => events.push(event));
      const body = JSON.stringify({ cells: [], metadata: { nbops: { name: 'churn' } } });

      await s3.send(new CreateBucketCommand({ Bucket: 'nbops-uploads' }));
      await s3.send(
        new PutObjectCommand({ Bucket: 'nbops-uploads', Key: 'notebooks/churn/train.ipynb', Body: body }),
      );
      const read = await s3.send(
        new GetObjectCommand({ Bucket: 'nbops-uploads', Key: 'notebooks/churn/train.ipynb' }),
      );
      unsubscribe();
      await s3.send(new PutObjectCommand({ Bucket: 'nbops-uploads', Key: 'after-unsubscribe', Body: 'x' }));

      expect(await read.Body?.transformToString()).toBe(body);
      expect(events).toHaveLength(1);
      expect(events[0]?.Records[0]).toMatchObject({
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: 'nbops-uploads' },
          object: { key: 'notebooks/churn/train.ipynb', size: body.length },
        },
      });

      const dynamo = localDynamoClient(emulators.dynamodb.endpoint);
      const tableName = `registry-${randomUUID()}`;
      const started = Date.now();
      await createRegistryTable(dynamo, tableName);
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual(['GSI1', 'GSI2']);
    } finally {
      await emulators.stop();
    }
  });

  it('keep data across restarts when given a data directory', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = await mkdtemp(join(tmpdir(), 'nbops-emulators-'));
    try {
      const first = await startEmulators({ dataDir });
      await localS3Client(first.s3.endpoint).send(new CreateBucketCommand({ Bucket: 'kept-bucket' }));
      await localS3Client(first.s3.endpoint).send(
        new PutObjectCommand({ Bucket: 'kept-bucket', Key: 'k', Body: 'v' }),
      );
      await createRegistryTable(localDynamoClient(first.dynamodb.endpoint), 'kept-table');
      await first.stop();

      const second = await startEmulators({ dataDir });
      try {
        const read = await localS3Client(second.s3.endpoint).send(
          new GetObjectCommand({ Bucket: 'kept-bucket', Key: 'k' }),
        );
        const { Table } = await localDynamoClient(second.dynamodb.endpoint).send(
          new DescribeTableCommand({ TableName: 'kept-table' }),
        );
        expect(await read.Body?.transformToString()).toBe('v');
        expect(Table?.TableStatus).toBe('ACTIVE');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
