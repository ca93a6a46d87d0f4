// The real `nbops` command (bin/nbops.js) as a person or a script runs it: its own process, its
// exit code, stdout and stderr; and the local endpoint's serving processes, to send traffic to.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './notebooks';

export const NBOPS_BIN = join(REPO, 'bin/nbops.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** `nbops <args>` as typed, for assertion messages. */
  command: string;
}

/** Runs `nbops <args>` in `cwd` and resolves when it exits (any exit code). */
export function runNbops(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NBOPS_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, command: `nbops ${args.join(' ')}` });
    });
  });
}

/** Parses a command's --json stdout, saying which command printed what when it is not JSON. */
export function jsonOf<T = unknown>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `${run.command} (exit ${run.code}) printed no JSON.\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
    );
  }
}

/** A run's exit code and output in one string, for `expect(...)` messages. */
export function described(run: CliRun): string {
  return `${run.command} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
}

/**
 * The URLs of the inference servers behind a local endpoint's current endpoint config (each
 * server logs `serving on <url>` when it starts; the newest line wins after a restart).
 */
export function servingUrls(hostDir: string, endpoint: string): { configName: string; urls: string[] } {
  const record = join(hostDir, 'sagemaker', 'endpoints', `${endpoint}.json`);
  if (!existsSync(record)) return { configName: '', urls: [] };
  const configName = (JSON.parse(readFileSync(record, 'utf8')) as { configName: string }).configName;
  const urls: string[] = [];
  const configDir = join(hostDir, 'endpoints', endpoint, configName);
  for (const variant of existsSync(configDir) ? readdirSync(configDir) : []) {
    const variantDir = join(configDir, variant);
    for (const file of readdirSync(variantDir).filter((f) => /^instance-\d+\.log$/.test(f))) {
      const lines = [...readFileSync(join(variantDir, file), 'utf8').matchAll(/serving on (http:\/\/\S+)/g)];
      const url = lines.at(-1)?.[1];
      if (url) urls.push(url);
    }
  }
  return { configName, urls };
}

/** POST /invocations to an inference server, as SageMaker's InvokeEndpoint forwards it. */
export async function invoke(url: string, csvRow: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', accept: 'text/csv' },
    body: `${csvRow}\n`,
  });
  return { status: response.status, body: await response.text() };
}
