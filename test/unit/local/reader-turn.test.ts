// Commands reading a stopped host's saved state take turns: its LevelDB admits one process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostStartError } from '#adapters/local/host/errors';
import { checkDynamoData, READER_LOCK, takeReaderTurn } from '#adapters/local/host/state';

let dir: string;
const cleanup: (() => unknown)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-reader-'));
});
afterEach(async () => {
  for (const undo of cleanup.splice(0)) await undo();
  await rm(dir, { recursive: true, force: true });
});

/** A live process that is not this one, to stand for another nbops command. */
function otherProcess(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  cleanup.push(() => child.kill('SIGKILL'));
  return child;
}

describe('takeReaderTurn', () => {
  it('claims the lock with this process id and releases it', async () => {
    const release = await takeReaderTurn(dir);
    expect(readFileSync(join(dir, READER_LOCK), 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, READER_LOCK))).toBe(false);
  });

  it('waits while another live reader holds the lock, then takes its turn', async () => {
    const other = otherProcess();
    writeFileSync(join(dir, READER_LOCK), String(other.pid));
    let claimed = false;
    const turn = takeReaderTurn(dir).then((release) => {
      claimed = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(claimed).toBe(false);
    await rm(join(dir, READER_LOCK)); // the other reader finishes
    const release = await turn;
    expect(readFileSync(join(dir, READER_LOCK), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('takes over a lock left by a reader that died', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, READER_LOCK), String(dead));
    const release = await takeReaderTurn(dir);
    expect(readFileSync(join(dir, READER_LOCK), 'utf8')).toBe(String(process.pid));
    release();
  });
});

describe('checkDynamoData with the LevelDB held', () => {
  async function holdLevelDb(): Promise<void> {
    const dynaliteRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));
    const { Level } = dynaliteRequire('level') as {
      Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
    };
    const db = new Level(join(dir, 'dynamodb'));
    await db.open();
    cleanup.push(() => db.close());
  }

  async function problem(): Promise<HostStartError> {
    const err = await checkDynamoData(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostStartError);
    return err as HostStartError;
  }

  it('names the nbops command reading the state when one holds the reader lock', async () => {
    await holdLevelDb();
    const other = otherProcess();
    writeFileSync(join(dir, READER_LOCK), String(other.pid));
    const err = await problem();
    expect(err.problem).toBe('already-running');
    expect(err.message).toContain(`is being read by another nbops command (pid ${other.pid})`);
    expect(err.message).toContain('run this again once it has finished');
  });

  it('else says another local host runs, and how to stop it', async () => {
    await holdLevelDb();
    const err = await problem();
    expect(err.problem).toBe('already-running');
    expect(err.message).toMatch(/another local host runs on .*Stop it \(Ctrl-C in its terminal\)/);
  });
});
