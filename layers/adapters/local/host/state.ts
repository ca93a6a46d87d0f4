/**
 * The local host's work folder (`.nbops/` by default), kept between runs:
 *
 *   s3/ dynamodb/        s3rver and dynalite data (the bucket, the registry, idempotency records)
 *   jobs/ endpoints/     training job folders, endpoint fleets (LocalSageMaker)
 *   sagemaker/           SageMaker definitions and endpoint state
 *   cloudwatch/          alarm definitions and states (LocalAlarms)
 *   scheduler/           schedules (EventBridge Scheduler's stand-in)
 *   logs/                handler logs (Powertools JSON) and EMF metrics
 *   events.jsonl, dead-letters.jsonl, notifications.log
 *   host.json            the running host: pid and endpoints, for `nbops submit` / `nbops status`
 *   reader.lock          an nbops command reading the state while no host runs (its pid)
 *
 * `--fresh` removes exactly these entries (never the folder itself, which may be a user's folder).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { writeJsonAtomic } from '../context';
import { HostStartError } from './errors';

export const DEFAULT_HOST_DIR = '.nbops';

/** Held by an nbops command reading a stopped host's saved state (the CLI's readers take turns). */
export const READER_LOCK = 'reader.lock';

/** Everything the local host keeps in its folder (what --fresh removes). */
export const HOST_ENTRIES = [
  's3',
  'dynamodb',
  'jobs',
  'endpoints',
  'sagemaker',
  'cloudwatch',
  'scheduler',
  'logs',
  'events.jsonl',
  'dead-letters.jsonl',
  'notifications.log',
  'host.json',
  READER_LOCK,
] as const;

/** What `host.json` says about a running host. */
export interface HostInfo {
  format: 'nbops-local-host/v1';
  pid: number;
  startedAt: string;
  /** Absolute path of the work folder. */
  dir: string;
  region: string;
  account: string;
  bucket: string;
  registryTable: string;
  idempotencyTable: string;
  s3Endpoint: string;
  dynamodbEndpoint: string;
  timeScale: number;
  runtimeHash: string;
  /** The ops API (a local Function URL) the CLI's operator commands talk to. */
  opsUrl?: string;
}

export function hostFile(dir: string): string {
  return join(resolve(dir), 'host.json');
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The host running for `dir`, or undefined (no host.json, unreadable, or its process is gone). */
export function readHostInfo(dir: string): HostInfo | undefined {
  let info: HostInfo;
  try {
    info = JSON.parse(readFileSync(hostFile(dir), 'utf8')) as HostInfo;
  } catch {
    return undefined;
  }
  if (info?.format !== 'nbops-local-host/v1' || !isProcessAlive(info.pid)) return undefined;
  return info;
}

export async function writeHostInfo(info: HostInfo): Promise<void> {
  await writeJsonAtomic(hostFile(info.dir), info);
}

export async function removeHostInfo(dir: string, pid = process.pid): Promise<void> {
  try {
    const info = JSON.parse(readFileSync(hostFile(dir), 'utf8')) as HostInfo;
    if (info.pid !== pid) return;
  } catch {
    // unreadable: ours to clean up
  }
  await rm(hostFile(dir), { force: true });
}

/** Removes the host's state (what --fresh does), leaving anything else in the folder alone. */
export async function wipeHostDir(dir: string): Promise<void> {
  const root = resolve(dir);
  for (const entry of HOST_ENTRIES) await rm(join(root, entry), { recursive: true, force: true });
  await mkdir(root, { recursive: true });
}

/**
 * Opens the registry's LevelDB (dynalite's storage) once before dynalite does: dynalite reports a
 * corrupt database only by crashing on the first request, so a damaged `.nbops/dynamodb` is
 * caught here and explained instead.
 */
export async function checkDynamoData(dir: string): Promise<void> {
  const path = join(resolve(dir), 'dynamodb');
  if (!existsSync(path) || readdirSync(path).length === 0) return;
  // `level` is what dynalite stores its tables with; resolved through dynalite so the versions match.
  const dynaliteRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = dynaliteRequire('level') as {
    Level: new (
      path: string,
      options: Record<string, unknown>,
    ) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(path, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    if (/lock/i.test(cause)) {
      const reader = liveReader(dir);
      throw new HostStartError(
        'already-running',
        reader !== undefined && reader !== process.pid
          ? `${path} is being read by another nbops command (pid ${reader}); run this again once it has finished (reads take a second or two).`
          : `${path} is in use by another process (${cause}): another local host runs on ${resolve(dir)}. Stop it (Ctrl-C in its terminal), or use another folder with --dir.`,
      );
    }
    throw corruptState(dir, `the local DynamoDB data in ${path} cannot be opened (${cause})`);
  }
  await db.close();
}

/** How long a command waits for others reading the saved state (each holds it a second or two). */
const READER_WAIT_MS = 30_000;

/** The live process holding `dir`'s reader lock, if any. */
function liveReader(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(resolve(dir), READER_LOCK), 'utf8'), 10);
  } catch {
    return undefined;
  }
  return isProcessAlive(pid) ? pid : undefined;
}

/**
 * For reading a stopped host's state: its LevelDB admits one process at a time, so readers take
 * turns. Waits until no live process holds the reader lock, claims it (a lock whose process died is
 * taken over) and returns its release.
 */
export async function takeReaderTurn(dir: string): Promise<() => void> {
  const path = join(resolve(dir), READER_LOCK);
  const deadline = Date.now() + READER_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = liveReader(dir);
    if (holder === undefined) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new HostStartError(
        'already-running',
        `another nbops command (pid ${holder}) has been reading the saved state in ${dir} for over ${READER_WAIT_MS / 1000} s; wait for it to finish or stop it, then run the command again.`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function corruptState(dir: string, what: string): HostStartError {
  return new HostStartError(
    'corrupt-state',
    `${what}. The local host's state in ${resolve(dir)} is damaged. Start again with --fresh to wipe it (this deletes the local versions, endpoints, captured data and alarms; nothing outside ${resolve(dir)} is touched).`,
  );
}

/** Whether `dir` holds a local host's state (a running host's host.json, or its DynamoDB data). */
export function looksLikeHostDir(dir: string): boolean {
  try {
    return readdirSync(dir).some((e) => e === 'dynamodb' || e === 'host.json');
  } catch {
    return false;
  }
}
