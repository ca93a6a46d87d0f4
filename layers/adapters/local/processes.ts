/**
 * The Python processes the local host starts (training runners, inference servers), tracked so
 * none outlives it:
 * - each runs in its own process group (detached), so stopping it also stops what it started
 *   (kernels, `!cmd` shells);
 * - each runs under nbops_runtime/jobwrap.py, which stops it when our end of its stdin closes, so
 *   even a host killed with SIGKILL leaves no orphans behind;
 * - `killAll()` and a process 'exit' hook SIGKILL whatever is still running.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The runtime folder in this checkout (holds nbops_runtime/): the default PYTHONPATH entry. */
export const DEFAULT_RUNTIME_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../runtime');

/** The interpreter: NBOPS_PYTHON, else python3 on PATH. */
export function defaultPython(): string {
  return process.env.NBOPS_PYTHON || 'python3';
}

export class PythonNotFoundError extends Error {
  readonly code = 'PYTHON_NOT_FOUND';
  constructor(
    readonly python: string,
    detail: string,
  ) {
    super(
      `The local host runs training and serving with Python 3.9 or newer, but '${python}' ${detail}. ` +
        'Install Python 3.9+ as python3 on PATH, or set NBOPS_PYTHON to the interpreter to use.',
    );
    this.name = 'PythonNotFoundError';
  }
}

/** Checks that `python` runs and is 3.9+; returns its version ("3.11"). */
export function checkPython(python: string): string {
  const probe = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    throw new PythonNotFoundError(
      python,
      code === 'ENOENT' ? 'was not found' : `could not be started (${code ?? probe.error.message})`,
    );
  }
  if (probe.status !== 0)
    throw new PythonNotFoundError(python, `exited with status ${probe.status}: ${probe.stderr.trim()}`);
  const version = probe.stdout.trim();
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || (minor ?? 0) < 9) throw new PythonNotFoundError(python, `is Python ${version}`);
  return version;
}

export interface SpawnedProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null when killed) and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Where jobwrap.py lives for a runtime folder. */
export function jobwrapPath(runtimeDir: string): string {
  return join(runtimeDir, 'nbops_runtime', 'jobwrap.py');
}

export class ProcessTracker {
  private readonly running = new Map<number, SpawnedProcess>();
  private readonly onExit = () => this.killAllNow();

  constructor(
    private readonly python: string,
    private readonly runtimeDir: string,
  ) {
    if (!existsSync(jobwrapPath(runtimeDir)))
      throw new Error(
        `${jobwrapPath(runtimeDir)} is missing: point runtimeDir at the folder that holds nbops_runtime/`,
      );
    process.on('exit', this.onExit);
  }

  /**
   * Starts `python -m <module> <args>` under jobwrap. Errors starting it (no such interpreter) come
   * back through `exited` as code null with `startError` set, never as a thrown exception.
   */
  start(
    module: string,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; cwd: string; stopGraceSeconds: number },
  ): SpawnedProcess & { startError: Promise<Error | undefined> } {
    const child = spawn(
      this.python,
      [jobwrapPath(this.runtimeDir), '--grace', String(options.stopGraceSeconds), module, ...args],
      { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let resolveStartError: (error: Error | undefined) => void = () => {};
    const startError = new Promise<Error | undefined>((r) => {
      resolveStartError = r;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
      child.once('error', (error) => {
        resolveStartError(error);
        resolveExit({ code: null, signal: null });
      });
      child.once('close', (code, signal) => {
        resolveStartError(undefined);
        resolveExit({ code, signal });
      });
    });
    // The pipe is jobwrap's lifeline: never written, closed only when this process goes away.
    child.stdin?.on('error', () => {});
    const pid = child.pid ?? -1;
    const spawned = { child, pid, exited, startError };
    if (pid > 0) {
      this.running.set(pid, spawned);
      exited.then(() => this.running.delete(pid));
    }
    return spawned;
  }

  /** Sends a signal to the process group (the process and everything it started). */
  signal(p: SpawnedProcess, signal: NodeJS.Signals): void {
    if (p.pid <= 0 || p.child.exitCode !== null || p.child.signalCode !== null) return;
    try {
      process.kill(-p.pid, signal);
    } catch {
      try {
        p.child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs` if it is still running; resolves once it has exited. */
  async stop(p: SpawnedProcess, graceMs: number): Promise<void> {
    this.signal(p, 'SIGTERM');
    const timer = setTimeout(() => this.signal(p, 'SIGKILL'), Math.max(0, graceMs));
    try {
      await p.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  get pids(): number[] {
    return [...this.running.keys()];
  }

  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.running.values()].map((p) => this.stop(p, graceMs)));
  }

  /** Synchronous last resort (process exit): SIGKILL every group still running. */
  killAllNow(): void {
    for (const p of this.running.values()) this.signal(p, 'SIGKILL');
  }

  dispose(): void {
    process.off('exit', this.onExit);
  }
}

/** Calls `onLine` for each complete line of a stream (the last partial line at its end). */
export function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (pending !== '') onLine(pending);
    pending = '';
  });
}
