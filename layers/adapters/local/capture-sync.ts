/**
 * Copies an inference server's data capture files to the store, under the endpoint config's
 * DataCaptureConfig.DestinationS3Uri in SageMaker's layout:
 * `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl`.
 *
 * The server appends to one local file per UTC hour; S3 objects never change once written (like
 * the ones SageMaker uploads), so each sync uploads only the complete lines added since the last
 * one, as a new object: the first part keeps the local file's name, later parts add `-<n>`. Every
 * record reaches the store exactly once, in order within its file. How far each file has been
 * copied is kept in `<capture dir>/.nbops-sync.json`, so a restarted host resumes where it stopped.
 */
import { open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parseS3Uri } from '#core/layout';
import type { ObjectStore } from '#core/ports';

const STATE_FILE = '.nbops-sync.json';

interface FileProgress {
  offset: number;
  parts: number;
}

export interface CaptureUpload {
  key: string;
  records: number;
}

export class CaptureSync {
  private state: Record<string, FileProgress> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    private readonly store: ObjectStore,
    /** The server's --capture-dir. */
    private readonly localRoot: string,
    destinationS3Uri: string,
  ) {
    const parsed = parseS3Uri(destinationS3Uri);
    if (!parsed)
      throw new Error(
        `DataCaptureConfig.DestinationS3Uri "${destinationS3Uri}" is not an s3:// URI; use s3://bucket/prefix`,
      );
    this.bucket = parsed.bucket;
    this.prefix = parsed.key.replace(/\/+$/, '');
  }

  /** Uploads what is new; calls are serialised, so a timer and a stop never upload twice. */
  sync(): Promise<CaptureUpload[]> {
    const run = this.queue.then(() => this.syncOnce());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadState(): Promise<Record<string, FileProgress>> {
    if (this.state) return this.state;
    try {
      this.state = JSON.parse(await readFile(join(this.localRoot, STATE_FILE), 'utf8')) as Record<
        string,
        FileProgress
      >;
    } catch {
      this.state = {};
    }
    return this.state;
  }

  private async saveState(): Promise<void> {
    const path = join(this.localRoot, STATE_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(this.state));
    await rename(`${path}.tmp`, path);
  }

  private async captureFiles(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const full = join(dir, name);
        const info = await stat(full).catch(() => undefined);
        if (info?.isDirectory()) await walk(full);
        else if (info?.isFile() && name.endsWith('.jsonl')) found.push(full);
      }
    };
    await walk(this.localRoot);
    return found;
  }

  private async syncOnce(): Promise<CaptureUpload[]> {
    const state = await this.loadState();
    const uploads: CaptureUpload[] = [];
    for (const file of await this.captureFiles()) {
      const rel = relative(this.localRoot, file).split(sep).join('/');
      const progress = state[rel] ?? { offset: 0, parts: 0 };
      const size = (await stat(file)).size;
      if (size <= progress.offset) continue;
      const handle = await open(file, 'r');
      let chunk: Buffer;
      try {
        chunk = Buffer.alloc(size - progress.offset);
        await handle.read(chunk, 0, chunk.length, progress.offset);
      } finally {
        await handle.close();
      }
      // Only whole records: a line still being written waits for the next sync.
      const end = chunk.lastIndexOf(0x0a) + 1;
      if (end === 0) continue;
      const body = chunk.subarray(0, end);
      const name = progress.parts === 0 ? rel : rel.replace(/\.jsonl$/, `-${progress.parts}.jsonl`);
      const key = this.prefix ? `${this.prefix}/${name}` : name;
      await this.store.put({ bucket: this.bucket, key }, body, { contentType: 'application/jsonlines' });
      state[rel] = { offset: progress.offset + end, parts: progress.parts + 1 };
      await this.saveState();
      let records = 0;
      for (const byte of body) if (byte === 0x0a) records += 1;
      uploads.push({ key, records });
    }
    return uploads;
  }
}
