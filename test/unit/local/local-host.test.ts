import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStatus } from '#adapters/local/hosting';
import { LocalNotifier, notificationLine } from '#adapters/local/notifier';
import {
  checkPython,
  DEFAULT_RUNTIME_DIR,
  jobwrapPath,
  PythonNotFoundError,
} from '#adapters/local/processes';
import { LocalSageMaker } from '#adapters/local/sagemaker';
import { trafficSteps } from '#adapters/local/traffic';
import { channelRelativePath } from '#adapters/local/training';

const python = process.env.NBOPS_PYTHON ?? 'python3';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-local-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('blue/green traffic steps', () => {
  const canary = {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: 'CANARY' as const,
        CanarySize: { Type: 'CAPACITY_PERCENT' as const, Value: 25 },
        WaitIntervalInSeconds: 300,
      },
      TerminationWaitInSeconds: 120,
    },
  };

  it('canary: the canary share bakes, then all traffic bakes, then the termination wait', () => {
    expect(trafficSteps(canary, 4)).toEqual([
      { share: 0.25, instances: 1, bakeSeconds: 300, waitName: 'WaitIntervalInSeconds', capacity: 'canary' },
      { share: 1, instances: 4, bakeSeconds: 300, waitName: 'WaitIntervalInSeconds', capacity: 'full' },
      { share: 1, instances: 4, bakeSeconds: 120, waitName: 'TerminationWaitInSeconds', capacity: 'full' },
    ]);
  });

  it('linear: equal steps up to all traffic; instance-count sizes are shares of the fleet', () => {
    const linear = {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'LINEAR' as const,
          LinearStepSize: { Type: 'INSTANCE_COUNT' as const, Value: 2 },
          WaitIntervalInSeconds: 60,
        },
      },
    };
    expect(trafficSteps(linear, 6).map((s) => [Number(s.share.toFixed(3)), s.instances, s.waitName])).toEqual(
      [
        [0.333, 2, 'WaitIntervalInSeconds'],
        [0.667, 4, 'WaitIntervalInSeconds'],
        [1, 6, 'WaitIntervalInSeconds'],
        [1, 6, 'TerminationWaitInSeconds'],
      ],
    );
  });

  it('all at once, and no DeploymentConfig (SageMaker default): one shift, no baking without waits', () => {
    const allAtOnce = {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE' as const, WaitIntervalInSeconds: 10 },
        TerminationWaitInSeconds: 5,
      },
    };
    expect(trafficSteps(allAtOnce, 2).map((s) => [s.share, s.bakeSeconds])).toEqual([
      [1, 10],
      [1, 5],
    ]);
    expect(trafficSteps(undefined, 2).map((s) => [s.share, s.bakeSeconds])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });

  it('spells statuses the way endpoint events do', () => {
    expect(['InService', 'Creating', 'UpdateRollbackFailed', 'SystemUpdating'].map(eventStatus)).toEqual([
      'IN_SERVICE',
      'CREATING',
      'UPDATE_ROLLBACK_FAILED',
      'SYSTEM_UPDATING',
    ]);
  });
});

describe('S3Prefix channel paths', () => {
  it('keeps paths below a folder prefix, names single objects by file name, and skips escapes', () => {
    expect(channelRelativePath('versions/churn/v1/notebook/', 'versions/churn/v1/notebook/churn.ipynb')).toBe(
      'churn.ipynb',
    );
    expect(channelRelativePath('data/train', 'data/train/part-1.csv')).toBe('part-1.csv');
    expect(channelRelativePath('data/train.csv', 'data/train.csv')).toBe('train.csv');
    expect(channelRelativePath('data/train', 'data/train-2024/x.csv')).toBe('train-2024/x.csv');
    expect(channelRelativePath('data/', 'data/sub/')).toBeUndefined(); // a "folder" marker object
    expect(channelRelativePath('data/', 'data/../../etc/passwd')).toBeUndefined();
  });
});

describe('the interpreter', () => {
  it('fails at start with a message saying what to install or set', async () => {
    const missing = join(dir, 'no-python-here');
    expect(() => checkPython(missing)).toThrow(PythonNotFoundError);
    expect(() => checkPython(missing)).toThrow(
      `'${missing}' was not found. Install Python 3.9+ as python3 on PATH, or set NBOPS_PYTHON`,
    );
    const creating = LocalSageMaker.create({
      store: undefined as never,
      workDir: dir,
      python: missing,
    });
    await expect(creating).rejects.toThrow(PythonNotFoundError);
    expect(checkPython(python)).toMatch(/^3\.\d+$/);
  });
});

describe('no orphan processes', () => {
  it('stops a runtime process when the host is killed with SIGKILL (jobwrap watches its stdin)', async () => {
    // A stand-in host: starts a server under jobwrap the way ProcessTracker does, prints its pid, waits.
    const host = `
      const { spawn } = require('node:child_process');
      const child = spawn(${JSON.stringify(python)}, [${JSON.stringify(jobwrapPath(DEFAULT_RUNTIME_DIR))}, '--grace', '1',
        'nbops_runtime.server', '--model-dir', ${JSON.stringify(dir)}, '--port', '0'],
        { env: { ...process.env, PYTHONPATH: ${JSON.stringify(DEFAULT_RUNTIME_DIR)} }, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
      child.stdout.once('data', () => console.log(child.pid));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', host], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d) => resolve(Number(d))));
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  });
});

describe('LocalNotifier', () => {
  it('prints one line and appends the whole notification as JSON', async () => {
    const lines: string[] = [];
    const file = join(dir, 'notifications.log');
    const notifier = new LocalNotifier({
      file,
      write: (l) => lines.push(l),
      clock: { now: () => new Date(0) },
    });
    await notifier.notify({
      severity: 'page',
      subject: 'churn rolled back',
      message: 'alarm nbops-churn-p99-latency\nrunbook: https://wiki',
      model: 'churn',
      version: 3,
    });
    await notifier.notify({ severity: 'info', subject: 'hello', message: 'world' });
    expect(lines).toEqual([
      '[nbops] PAGE churn v3: churn rolled back - alarm nbops-churn-p99-latency',
      '[nbops] INFO hello - world',
    ]);
    const records = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records[0]).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      severity: 'page',
      subject: 'churn rolled back',
      message: 'alarm nbops-churn-p99-latency\nrunbook: https://wiki',
      model: 'churn',
      version: 3,
    });
    expect(notificationLine({ severity: 'ticket', subject: 's', message: 'm', model: 'x' })).toBe(
      '[nbops] TICKET x: s - m',
    );
  });
});
