// The S3 dialect of the adapter (what s3rver cannot show: V2 continuation tokens, CopySource with
// versions, S3's 403-for-missing-key); the shared behaviour runs against s3rver in
// test/integration/adapters/s3-store.test.ts.
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import { ObjectTooLargeError } from '#core/ports';

const s3 = mockClient(S3Client);
const store = () => new S3ObjectStore(new S3Client({ region: 'eu-west-1' }));
// In Node the SDK's Body is a Readable; the adapter only iterates it.
const body = (text: string) => Readable.from([Buffer.from(text)]) as never;
const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });

beforeEach(() => s3.reset());

describe('S3ObjectStore (aws dialect)', () => {
  it('pages ListObjectsV2 with continuation tokens until the listing is complete', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'a', Size: 1 }], IsTruncated: true, NextContinuationToken: 't1' })
      .resolvesOnce({ Contents: [], IsTruncated: true, NextContinuationToken: 't2' })
      .resolvesOnce({ Contents: [{ Key: 'b', Size: 2 }], IsTruncated: false });
    const keys: string[] = [];
    for await (const item of store().list('bucket', 'capture/')) keys.push(item.key);
    expect(keys).toEqual(['a', 'b']);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.ContinuationToken)).toEqual([
      undefined,
      't1',
      't2',
    ]);
  });

  it('copies a specific version with a fully encoded CopySource', async () => {
    s3.on(CopyObjectCommand).resolves({});
    await store().copy(
      { bucket: 'in', key: 'notebooks/churn/a b+c.ipynb', versionId: 'v1' },
      { bucket: 'out', key: 'versions/churn/v1/notebook/a b+c.ipynb' },
    );
    expect(s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'out',
      Key: 'versions/churn/v1/notebook/a b+c.ipynb',
      CopySource: 'in/notebooks/churn/a%20b%2Bc.ipynb?versionId=v1',
    });
  });

  it('reads the version it sized, and a version-less object only if its ETag is unchanged', async () => {
    s3.on(HeadObjectCommand)
      .resolvesOnce({ ContentLength: 2, ETag: '"e1"', VersionId: 'v9' })
      .resolvesOnce({ ContentLength: 2, ETag: '"e2"', VersionId: 'null' });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: body('ok') }));
    await store().getBytes({ bucket: 'b', key: 'k' }, { maxBytes: 10 });
    await store().getBytes({ bucket: 'b', key: 'k' }, { maxBytes: 10 });
    const gets = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
    expect(gets[0]).toMatchObject({ VersionId: 'v9', IfMatch: undefined });
    expect(gets[1]).toMatchObject({ VersionId: undefined, IfMatch: '"e2"' });
  });

  it('stops reading when the object grew past maxBytes after the HEAD', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 2, ETag: '"e1"' });
    s3.on(GetObjectCommand).resolves({ Body: body('much longer now') });
    await expect(store().getBytes({ bucket: 'b', key: 'k' }, { maxBytes: 5 })).rejects.toThrow(
      ObjectTooLargeError,
    );
  });

  it('answers undefined for 404 but keeps 403 an error (a missing s3:ListBucket permission)', async () => {
    s3.on(HeadObjectCommand).rejectsOnce(s3Error('NotFound', 404)).rejectsOnce(s3Error('Forbidden', 403));
    expect(await store().head({ bucket: 'b', key: 'k' })).toBeUndefined();
    await expect(store().head({ bucket: 'b', key: 'k' })).rejects.toMatchObject({ name: 'Forbidden' });
  });
});
