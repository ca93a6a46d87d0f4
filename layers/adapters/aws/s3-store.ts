/**
 * The ObjectStore port on S3 (and s3rver: the same client, pointed at it with forcePathStyle and
 * checksums WHEN_REQUIRED, see layers/adapters/local/emulators.ts localS3Client).
 *
 * s3rver 3.7 differs from S3 in two places this adapter touches, so it takes a `dialect`:
 * - it decodes `x-amz-copy-source` with decodeURI, which leaves %2B, %3D, %26, %3F ... encoded, so
 *   a key with `+`, `=`, `&` or `?` is not found unless the source is encoded with encodeURI;
 * - its ListObjectsV2 continuation tokens are DES-encrypted, which OpenSSL 3 (Node >= 17) refuses,
 *   so any V2 listing with more than one page fails with InternalError; ListObjects (v1) with
 *   `Marker` pages correctly.
 * The `aws` dialect (the default) is what S3 documents: fully URL-encoded CopySource and
 * ListObjectsV2.
 */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { classifyAwsError } from '#core/aws/errors';
import {
  type ObjectHead,
  type ObjectRef,
  type ObjectStore,
  ObjectTooLargeError,
  unquoteEtag,
} from '#core/ports';

export interface S3ObjectStoreOptions {
  /** `aws` (default) for S3; `s3rver` for the local emulator (see above). */
  dialect?: 'aws' | 's3rver';
}

interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
}

export class S3ObjectStore implements ObjectStore {
  private readonly dialect: 'aws' | 's3rver';

  constructor(
    private readonly client: S3Client,
    options: S3ObjectStoreOptions = {},
  ) {
    this.dialect = options.dialect ?? 'aws';
  }

  async head(ref: ObjectRef): Promise<ObjectHead | undefined> {
    let out: HeadObjectCommandOutput;
    try {
      out = await this.client.send(
        new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
      );
    } catch (err) {
      // HEAD has no body, so S3 answers "NotFound" with status 404. Without s3:ListBucket S3 says
      // 403 for a missing key instead: that stays an error (the fix is a permission, not a retry).
      if (classifyAwsError(err).kind === 'not-found') return undefined;
      throw err;
    }
    const head: ObjectHead = {
      size: out.ContentLength ?? 0,
      etag: unquoteEtag(out.ETag ?? ''),
      metadata: lowerCaseKeys(out.Metadata ?? {}),
    };
    if (out.VersionId && out.VersionId !== 'null') head.versionId = out.VersionId;
    if (out.ContentType) head.contentType = out.ContentType;
    if (out.LastModified) head.lastModified = out.LastModified;
    return head;
  }

  async getBytes(ref: ObjectRef, opts: { maxBytes: number }): Promise<Uint8Array> {
    const head = await this.head(ref);
    if (!head) throw notFound(ref);
    if (head.size > opts.maxBytes) throw new ObjectTooLargeError(ref, head.size, opts.maxBytes);
    // Read the version (or, unversioned, the ETag) we just sized, so a concurrent overwrite fails
    // with 412 instead of returning a different object; still count bytes in case it grew anyway.
    const out = await this.client.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        VersionId: ref.versionId ?? head.versionId,
        IfMatch: head.versionId || ref.versionId ? undefined : `"${head.etag}"`,
      }),
    );
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of bodyOf(out.Body)) {
      total += chunk.byteLength;
      if (total > opts.maxBytes) {
        destroy(out.Body);
        throw new ObjectTooLargeError(ref, total, opts.maxBytes);
      }
      chunks.push(chunk);
    }
    return concat(chunks, total);
  }

  async getStream(ref: ObjectRef): Promise<AsyncIterable<Uint8Array>> {
    const out = await this.client.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    return bodyOf(out.Body);
  }

  async put(
    ref: Omit<ObjectRef, 'versionId'>,
    body: Uint8Array | string,
    opts: { contentType?: string; metadata?: Record<string, string> } = {},
  ): Promise<{ etag: string; versionId?: string }> {
    const out = await this.client.send(
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        Body: body,
        ContentType: opts.contentType,
        Metadata: opts.metadata,
      }),
    );
    const result: { etag: string; versionId?: string } = { etag: unquoteEtag(out.ETag ?? '') };
    if (out.VersionId && out.VersionId !== 'null') result.versionId = out.VersionId;
    return result;
  }

  async presignPut(
    ref: Omit<ObjectRef, 'versionId'>,
    opts: { contentType: string; metadata: Record<string, string>; expiresInSeconds: number },
  ): Promise<{ url: string; headers: Record<string, string> }> {
    const headers: Record<string, string> = { 'content-type': opts.contentType };
    for (const [name, value] of Object.entries(opts.metadata)) headers[`x-amz-meta-${name}`] = value;
    const url = await getSignedUrl(
      this.client,
      new PutObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ContentType: opts.contentType,
        Metadata: opts.metadata,
      }),
      {
        expiresIn: opts.expiresInSeconds,
        // Signed as headers, not hoisted into the query: the PUT must carry exactly these values.
        signableHeaders: new Set(Object.keys(headers)),
        unhoistableHeaders: new Set(Object.keys(headers)),
      },
    );
    return { url, headers };
  }

  /** Server-side copy (CopyObject: objects up to 5 GB, plenty for notebooks and reports). */
  async copy(from: ObjectRef, to: Omit<ObjectRef, 'versionId'>): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: to.bucket,
        Key: to.key,
        CopySource: this.dialect === 's3rver' ? s3rverCopySource(from) : copySource(from),
      }),
    );
  }

  list(bucket: string, prefix: string): AsyncIterable<ListedObject> {
    return this.dialect === 's3rver' ? this.listV1(bucket, prefix) : this.listV2(bucket, prefix);
  }

  private async *listV2(bucket: string, prefix: string): AsyncIterable<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      yield* listed(page.Contents);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** ListObjects (v1): without a delimiter the next page starts after the last key returned. */
  private async *listV1(bucket: string, prefix: string): AsyncIterable<ListedObject> {
    let marker: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }),
      );
      yield* listed(page.Contents);
      marker = page.IsTruncated ? (page.NextMarker ?? page.Contents?.at(-1)?.Key) : undefined;
    } while (marker);
  }
}

function* listed(
  contents: { Key?: string; Size?: number; LastModified?: Date }[] = [],
): Iterable<ListedObject> {
  for (const object of contents) {
    if (object.Key === undefined) continue;
    const item: ListedObject = { key: object.Key, size: object.Size ?? 0 };
    if (object.LastModified) item.lastModified = object.LastModified;
    yield item;
  }
}

/**
 * The CopySource header: `<bucket>/<key>` with the key URL-encoded segment by segment (slashes
 * kept), plus `?versionId=` when copying a specific version.
 */
export function copySource(from: ObjectRef): string {
  const key = from.key.split('/').map(encodeURIComponent).join('/');
  const version = from.versionId ? `?versionId=${encodeURIComponent(from.versionId)}` : '';
  return `${from.bucket}/${key}${version}`;
}

/** s3rver's CopySource: it applies decodeURI, and has no versioning (so no versionId). */
export function s3rverCopySource(from: ObjectRef): string {
  return `${from.bucket}/${encodeURI(from.key)}`;
}

function notFound(ref: ObjectRef): Error {
  const where = `s3://${ref.bucket}/${ref.key}${ref.versionId ? ` (version ${ref.versionId})` : ''}`;
  return Object.assign(new Error(`${where} does not exist`), {
    name: 'NoSuchKey',
    $metadata: { httpStatusCode: 404 },
  });
}

function lowerCaseKeys(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
}

/** In Node the SDK's body is an IncomingMessage (async-iterable of Buffers); absent for empty replies. */
function bodyOf(body: unknown): AsyncIterable<Uint8Array> {
  if (body && typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function')
    return body as AsyncIterable<Uint8Array>;
  return (async function* () {})();
}

function destroy(body: unknown): void {
  const stream = body as { destroy?: () => void } | undefined;
  stream?.destroy?.();
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
