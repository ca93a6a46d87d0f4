/** What the local SageMaker's parts (training, hosting) share. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ObjectStore } from '#core/ports';
import type { AwsEvent, AwsLocation } from './aws-event';
import type { ProcessTracker } from './processes';

export interface LocalContext {
  store: ObjectStore;
  /** The local host's work folder (`.nbops/`): jobs/, endpoints/, sagemaker/. */
  workDir: string;
  python: string;
  /** Folder holding nbops_runtime/ (layers/runtime). */
  runtimeDir: string;
  processes: ProcessTracker;
  location: AwsLocation;
  now(): Date;
  emit(event: AwsEvent): void;
  /** Multiplies SageMaker's waits (stop grace, deployment bake times); 1 = real time. */
  timeScale: number;
  log(line: string): void;
}

/** SageMaker's grace between SIGTERM and SIGKILL when a job or container is stopped. */
export const STOP_GRACE_SECONDS = 120;

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * The environment a local container starts from: the host's (PATH, HOME, locale, pyenv) without
 * anything that would leak host settings into the job: AWS credentials, SageMaker and nbops
 * variables, Python path settings.
 */
export function containerBaseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|SM_|NBOPS_|SAGEMAKER_)/.test(key)) continue;
    if (key === 'PYTHONPATH' || key === 'PYTHONHOME' || key === 'PYTHONSTARTUP') continue;
    env[key] = value;
  }
  env.PYTHONUNBUFFERED = '1';
  env.PYTHONDONTWRITEBYTECODE = '1';
  return env;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** mulberry32: a small seeded generator, so routing tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
