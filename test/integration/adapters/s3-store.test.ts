// The S3 adapter against s3rver (the real S3 REST protocol), through the same SDK client the
// Lambda handlers use, configured the way services.ts / localS3Client do.
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { copySource, S3ObjectStore, s3rverCopySource } from '#adapters/aws/s3-store';
import { localS3Client } from '#adapters/local/emulators';
import { classifyAwsError } from '#core/aws/errors';
import { ObjectTooLargeError } from '#core/ports';

const client = localS3Client(inject('emulators').s3Endpoint);
/** Commands sent since the last reset, in order. */
const sent: string[] = [];
client.middlewareStack.add(
  (next, context) => async (args) => {
    sent.push(String(context.commandName).replace(/Command$/, ''));
    return next(args);
  },
  { step: 'initialize', name: 'recordCommands' },
);
// s3rver's CopySource decoding and V2 pagination differ from S3 (see s3-store.ts); the `aws`
// dialect of both is covered with aws-sdk-client-mock in test/unit/adapters/aws/s3-store.test.ts.
const store = new S3ObjectStore(client, { dialect: 's3rver' });
const bucket = `nbops-${randomUUID().slice(0, 8)}`;
const TRICKY_KEYS = [
  'notebooks/churn/Churn model v2.ipynb',
  'notebooks/churn/a+b=c&d.ipynb',
  'notebooks/tête/modèle ü 数据.ipynb',
  'notebooks/churn/100% done?.ipynb',
];

const text = async (iterable: AsyncIterable<Uint8Array>) => {
  const parts: Buffer[] = [];
  for await (const chunk of iterable) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
};

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('S3ObjectStore on s3rver', () => {
  it('puts, heads and reads objects whose keys have spaces, `+`, `%`, `?` and non-ASCII letters', async () => {
    for (const key of TRICKY_KEYS) {
      const body = JSON.stringify({ key });
      const put = await store.put({ bucket, key }, body, {
        contentType: 'application/x-ipynb+json',
        metadata: { 'nbops-uploader': 'alice@example.com' },
      });
      const head = await store.head({ bucket, key });
      expect(head).toMatchObject({
        size: Buffer.byteLength(body),
        etag: put.etag,
        contentType: 'application/x-ipynb+json',
        metadata: { 'nbops-uploader': 'alice@example.com' },
      });
      expect(head?.etag).toMatch(/^[0-9a-f]{32}$/);
      expect(new TextDecoder().decode(await store.getBytes({ bucket, key }, { maxBytes: 1024 }))).toBe(body);
      expect(await text(await store.getStream({ bucket, key }))).toBe(body);
    }
  });

  it('answers undefined for a missing object, and a not-found error when asked to read it', async () => {
    expect(await store.head({ bucket, key: 'notebooks/nothing-here.ipynb' })).toBeUndefined();
    const read = store.getBytes({ bucket, key: 'notebooks/nothing-here.ipynb' }, { maxBytes: 10 });
    await expect(read).rejects.toThrow(`s3://${bucket}/notebooks/nothing-here.ipynb does not exist`);
    expect(classifyAwsError(await read.catch((e) => e)).kind).toBe('not-found');
  });

  it('refuses an object over maxBytes after the HEAD, without downloading it', async () => {
    const key = 'notebooks/churn/big.ipynb';
    await store.put({ bucket, key }, 'x'.repeat(5000));
    sent.length = 0;
    const read = store.getBytes({ bucket, key }, { maxBytes: 4999 });
    await expect(read).rejects.toThrow(ObjectTooLargeError);
    await expect(read).rejects.toThrow(`s3://${bucket}/${key} is 5000 bytes; the limit is 4999`);
    expect(sent).toEqual(['HeadObject']);
    expect((await store.getBytes({ bucket, key }, { maxBytes: 5000 })).byteLength).toBe(5000);
  });

  it('handles a 0-byte object', async () => {
    const key = 'notebooks/churn/empty.ipynb';
    await store.put({ bucket, key }, new Uint8Array(0));
    expect((await store.head({ bucket, key }))?.size).toBe(0);
    expect(await store.getBytes({ bucket, key }, { maxBytes: 0 })).toEqual(new Uint8Array(0));
    expect(await text(await store.getStream({ bucket, key }))).toBe('');
  });

  it('copies objects between keys that need URL encoding in CopySource', async () => {
    for (const [i, from] of TRICKY_KEYS.entries()) {
      const to = `versions/churn/v${i + 1}/notebook/${from.split('/').pop()}`;
      await store.copy({ bucket, key: from }, { bucket, key: to });
      expect(await text(await store.getStream({ bucket, key: to }))).toBe(JSON.stringify({ key: from }));
    }
  });

  it('lists more than 1000 keys under a prefix, in key order, across pages', async () => {
    // Unlike ListObjectsV2, whose second page s3rver cannot produce on Node 20 (DES tokens).
    const prefix = 'capture/churn-prod/AllTraffic/';
    const keys = Array.from(
      { length: 1005 },
      (_, i) => `${prefix}2026/03/02/10/part-${String(i).padStart(4, '0')}.jsonl`,
    );
    for (let i = 0; i < keys.length; i += 200)
      await Promise.all(
        keys
          .slice(i, i + 200)
          .map((key) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }))),
      );
    await store.put({ bucket, key: 'capture/other/AllTraffic/x.jsonl' }, 'x');
    sent.length = 0;
    const listed: string[] = [];
    for await (const item of store.list(bucket, prefix)) {
      listed.push(item.key);
      expect(item.size).toBe(1);
      expect(item.lastModified).toBeInstanceOf(Date);
    }
    expect(listed).toEqual(keys);
    expect(sent).toEqual(['ListObjects', 'ListObjects']);
  });
});

describe('copySource', () => {
  it('URL-encodes the key segment by segment for S3, keeps slashes, and adds the version', () => {
    expect(copySource({ bucket: 'b', key: 'notebooks/churn/a b+c ü.ipynb' })).toBe(
      'b/notebooks/churn/a%20b%2Bc%20%C3%BC.ipynb',
    );
    expect(copySource({ bucket: 'b', key: 'k?x=1', versionId: 'v1+/=' })).toBe(
      'b/k%3Fx%3D1?versionId=v1%2B%2F%3D',
    );
  });

  it('encodes for s3rver so that its decodeURI gives the key back', () => {
    for (const key of TRICKY_KEYS) expect(decodeURI(s3rverCopySource({ bucket: 'b', key }))).toBe(`b/${key}`);
  });
});
