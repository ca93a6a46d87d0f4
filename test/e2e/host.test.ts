// The local host as a user runs it: `nbops dev` in its own process, `nbops submit --wait` and
// `nbops status` against it (a notebook that raises in cell 7 ends TRAINING_FAILED with the cell and
// the error; the example deploys), Ctrl-C stopping everything; and the problems a user can fix at
// start (a port in use, a damaged work folder, no Python, a host already running) explained.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostStartError, readHostInfo, startLocalHost } from '#adapters/local/host';
import { connect } from '#adapters/local/host/client';
import { runStatus } from '../../cli/commands/status';
import { runSubmit } from '../../cli/commands/submit';
import { until } from '../support/wait';
import { autoApproval, churn, REPO, raisesInCell7, toBytes } from './support/notebooks';
import { noProcessesUsing } from './support/processes';

const TSX = join(REPO, 'node_modules/.bin/tsx');
const CLI = join(REPO, 'test/e2e/support/cli.ts');

function captureIo() {
  const io = { out: '', err: '' };
  return {
    io,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
}

const waitFor = <T>(read: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
  until(read, (v) => v !== undefined, timeoutMs, what) as Promise<T>;

describe.sequential('nbops dev, submit and status', () => {
  let work: string;
  let dir: string;
  let dev: ChildProcess | undefined;
  let devOutput = '';

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nbops-dev-'));
    dir = join(work, '.nbops');
    dev = spawn(TSX, [CLI, 'dev', '--dir', dir, '--time-scale', '0.01'], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
      detached: true,
    });
    dev.stdout!.on('data', (d) => (devOutput += d));
    dev.stderr!.on('data', (d) => (devOutput += d));
    await waitFor(() => readHostInfo(dir), 60_000, `the dev host (output: ${devOutput})`);
  }, 90_000);

  afterAll(async () => {
    if (dev?.pid && dev.exitCode === null) process.kill(-dev.pid, 'SIGKILL');
    await rm(work, { recursive: true, force: true });
  });

  it('submit --wait: a notebook raising in cell 7 ends TRAINING_FAILED, with the cell and error in the registry and the output', async () => {
    const path = join(work, 'broken', 'churn.ipynb');
    await mkdir(join(work, 'broken'));
    writeFileSync(path, toBytes(churn(raisesInCell7)));
    const out = captureIo();
    const code = await runSubmit(path, { wait: true, dir, timeout: '120', uploader: 'bob' }, out);
    expect(code, out.io.out + out.io.err).toBe(1);
    expect(out.io.out).toMatch(
      /ended TRAINING_FAILED: .*cell 7: ValueError: validation share must be between 0 and 1/,
    );

    const connection = await connect(dir);
    try {
      const version = await connection.registry.getVersion('churn', 1);
      expect(version?.status).toBe('TRAINING_FAILED');
      expect(version?.uploader).toBe('bob');
      expect(version?.lastChange?.reason).toContain(
        'cell 7: ValueError: validation share must be between 0 and 1',
      );
    } finally {
      await connection.close();
    }
  }, 90_000);

  it('submit --wait: the example (approval auto) ends DEPLOYED; status shows versions, champion and endpoint', async () => {
    const path = join(work, 'good', 'churn.ipynb');
    await mkdir(join(work, 'good'));
    writeFileSync(path, toBytes(churn(autoApproval)));
    const out = captureIo();
    expect(await runSubmit(path, { wait: true, dir, timeout: '120', uploader: 'bob' }, out), out.io.err).toBe(
      0,
    );
    expect(out.io.out).toMatch(/churn v2 is DEPLOYED/);

    const status = captureIo();
    expect(await runStatus(undefined, { dir, json: true }, status)).toBe(0);
    const [model] = JSON.parse(status.io.out).models;
    expect(model).toMatchObject({
      model: 'churn',
      champion: 2,
      endpoint: { name: 'churn', status: 'InService', version: 2 },
    });
    expect(model.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, 'DEPLOYED'],
      [1, 'TRAINING_FAILED'],
    ]);
    expect(model.versions[1].reason).toContain('cell 7: ValueError');
  }, 90_000);

  it('Ctrl-C stops the host: exit 0, no process left, host.json gone; status still reads the kept state', async () => {
    const exited = new Promise<number | null>((resolve) => dev!.once('exit', (code) => resolve(code)));
    // Ctrl-C in a terminal signals the whole group; the launcher also forwards it, so the host
    // gets it twice and must still stop cleanly.
    process.kill(-dev!.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'host.json'))).toBe(false);
    expect(await noProcessesUsing(dir)).toEqual([]);

    const status = captureIo();
    expect(await runStatus('churn', { dir }, status)).toBe(0);
    expect(status.io.out).toMatch(/v2 +DEPLOYED/);
    expect(status.io.out).toMatch(/v1 +TRAINING_FAILED/);

    const submit = captureIo();
    expect(await runSubmit(join(REPO, 'examples/churn/churn.ipynb'), { dir, timeout: '10' }, submit)).toBe(2);
    expect(submit.io.err).toMatch(/no local host is running .*`npx nbops dev`/);
  }, 60_000);
});

describe('problems at start, explained', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
    await rm(dir, { recursive: true, force: true });
  });

  async function startError(options: Parameters<typeof startLocalHost>[0]): Promise<HostStartError> {
    const err = await startLocalHost({ log: () => {}, ...options }).then(
      async (host) => {
        await host.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostStartError);
    return err as HostStartError;
  }

  it('a port in use names the port and the fix', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbops-port-'));
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const s3 = await startError({ dir, ports: { s3: port } });
    expect(s3.problem).toBe('port-in-use');
    expect(s3.message).toContain(`port ${port} for the S3 emulator (s3rver) is already in use`);
    expect(s3.message).toContain('--s3-port');
    const dynamo = await startError({ dir, ports: { dynamodb: port } });
    expect(dynamo.message).toContain(`port ${port} for the DynamoDB emulator (dynalite)`);
    expect(dynamo.message).toContain('--dynamodb-port');
  });

  it('a damaged work folder says to start with --fresh, which then works and leaves other files alone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbops-corrupt-'));
    const host = await startLocalHost({ dir, log: () => {} });
    await host.stop();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    for (const file of readdirSync(join(dir, 'dynamodb')))
      if (file.startsWith('MANIFEST-')) writeFileSync(join(dir, 'dynamodb', file), 'not a manifest');
    const dynamo = await startError({ dir });
    expect(dynamo.problem).toBe('corrupt-state');
    expect(dynamo.message).toMatch(/local DynamoDB data in .*dynamodb cannot be opened/);
    expect(dynamo.message).toContain('--fresh');

    const fresh = await startLocalHost({ dir, fresh: true, log: () => {} });
    await fresh.stop();
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);

    await mkdir(join(dir, 'cloudwatch'), { recursive: true });
    writeFileSync(join(dir, 'cloudwatch', 'alarms.json'), '{"format": "nbops-local-alarms/v1", "alarms": [');
    const alarms = await startError({ dir });
    expect(alarms.problem).toBe('corrupt-state');
    expect(alarms.message).toMatch(/alarms\.json cannot be read/);
    expect(alarms.message).toContain('--fresh');
  });

  it('a missing python3 says what to install or set', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbops-python-'));
    const err = await startError({ dir, python: join(dir, 'no-such-python3') });
    expect(err.problem).toBe('python-missing');
    expect(err.message).toMatch(
      /was not found\. Install Python 3\.9\+ as python3 on PATH, or set NBOPS_PYTHON/,
    );
  });

  it('a second host on the same folder is refused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbops-twice-'));
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    cleanup.push(() => other.kill('SIGKILL'));
    writeFileSync(
      join(dir, 'host.json'),
      JSON.stringify({ format: 'nbops-local-host/v1', pid: other.pid, dir }),
    );
    const err = await startError({ dir });
    expect(err.problem).toBe('already-running');
    expect(err.message).toContain(`pid ${other.pid}`);
  });
});
