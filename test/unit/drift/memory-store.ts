/**
 * An in-memory ObjectStore (the port from layers/core/ports.ts) whose streams deliver objects in
 * small chunks, so readers meet chunk boundaries inside lines and inside UTF-8 characters.
 */
import type { ObjectRef, ObjectStore } from '#core/ports';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  /** Keys whose object vanishes after listing (as lifecycle expiry can do). */
  readonly vanishing = new Set<string>();
  listCalls: string[] = [];

  constructor(private readonly chunkSize = 4096) {}

  putText(key: string, text: string): void {
    this.objects.set(key, new TextEncoder().encode(text));
  }

  async head(ref: ObjectRef) {
    const body = this.objects.get(ref.key);
    return body ? { size: body.length, etag: 'etag', metadata: {} } : undefined;
  }

  async getBytes(ref: ObjectRef) {
    const body = this.objects.get(ref.key);
    if (!body) throw Object.assign(new Error(`no ${ref.key}`), { name: 'NoSuchKey' });
    return body;
  }

  async presignPut(): Promise<never> {
    throw new Error('MemoryStore has no URLs: use s3rver for uploads by URL');
  }

  async getStream(ref: ObjectRef): Promise<AsyncIterable<Uint8Array>> {
    const body = this.objects.get(ref.key);
    if (!body || this.vanishing.has(ref.key))
      throw Object.assign(new Error(`no ${ref.key}`), { name: 'NoSuchKey' });
    const size = this.chunkSize;
    return (async function* () {
      for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
    })();
  }

  async put(ref: Omit<ObjectRef, 'versionId'>, body: Uint8Array | string) {
    this.objects.set(ref.key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
    return { etag: 'etag' };
  }

  async copy(from: ObjectRef, to: Omit<ObjectRef, 'versionId'>) {
    this.objects.set(to.key, this.objects.get(from.key)!);
  }

  async *list(_bucket: string, prefix: string) {
    this.listCalls.push(prefix);
    for (const key of [...this.objects.keys()].sort()) {
      if (key.startsWith(prefix)) yield { key, size: this.objects.get(key)!.length };
    }
  }
}

/** A capture record as SageMaker writes it (compact JSON, keys in SageMaker's order). */
export function captureLine(
  data: string,
  inferenceTime: string,
  options: { encoding?: string; contentType?: string; inferenceId?: string } = {},
): string {
  const metadata: Record<string, string> = { eventId: '8f7b3c1e-0000-4000-8000-000000000000', inferenceTime };
  if (options.inferenceId) metadata.inferenceId = options.inferenceId;
  return JSON.stringify({
    captureData: {
      endpointInput: {
        observedContentType: options.contentType ?? 'text/csv',
        mode: 'INPUT',
        data,
        encoding: options.encoding ?? 'CSV',
      },
      endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.5\n', encoding: 'CSV' },
    },
    eventMetadata: metadata,
    eventVersion: '0',
  });
}
