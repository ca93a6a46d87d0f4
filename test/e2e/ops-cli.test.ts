// The newcomer's path, all from the CLI against a local host: `nbops dev` in a folder, then
// `nbops submit --wait` to a deployed endpoint, the tables and --json views, a version that waits
// for approval (who may approve it, what is refused and how scripts see refusals), a rollback,
// a retrain, drift found in shifted traffic and the incident its alarm opens, and retiring the
// model. Every command is the real bin/nbops.js in its own process, with no --dir: the folder's
// .nbops makes the running host the target, as for a person who typed `npx nbops dev` there.
//
// The example's manifest asks for manual approval, so the example itself rests at
// PENDING_APPROVAL; v1 is a copy with `deployment.approval: auto` (it deploys on its own), v2 is the
// example as shipped. The local policy lists no approvers and does not allow self-approval: anyone
// but the uploader may approve. The drift schedule (`rate(1 hour)`) fires every 36 s at x0.01.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostInfo } from '#adapters/local/host/state';
import { seededRandom } from '#core/drift/baseline';
import { customerRow } from '../../cli/commands/demo';
import {
  type CliRun,
  described,
  invoke,
  jsonOf,
  NBOPS_BIN,
  runNbops,
  servingUrls,
} from './support/nbops-cli';
import { autoApproval, CHURN, churn, toBytes } from './support/notebooks';
import { noProcessesUsing } from './support/processes';

// Who the person at the keyboard is (NBOPS_USER), and a colleague who may approve their versions.
const UPLOADER = 'dana';
const APPROVER = 'erin';

let work: string;
let dir: string;
let dev: ChildProcess | undefined;
let devOutput = '';
const timings: Record<string, number> = {};

function nbops(...args: string[]): Promise<CliRun> {
  return runNbops(args, { cwd: work, env: { NBOPS_USER: UPLOADER } });
}

/** Runs a command until `done` holds for its --json output (or the time is up). */
async function until<T>(args: string[], done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await nbops(...args);
    const value = run.code === 0 ? jsonOf<T>(run) : undefined;
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting on \`${run.command}\`; last: ${described(run).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface VersionsJson {
  model: string;
  champion?: number;
  versions: {
    version: number;
    status: string;
    reason?: string;
    uploader: string;
    champion: boolean;
    retrainOf?: number;
    metrics?: Record<string, number>;
  }[];
}

interface StatusJson {
  models: {
    model: string;
    champion?: number;
    endpoint?: { name: string; status: string; endpointConfigName: string; version?: number };
    versions: { version: number; status: string; reason?: string }[];
  }[];
}

const statusOf = (versions: VersionsJson, n: number) =>
  versions.versions.find((v) => v.version === n)?.status;

beforeAll(async () => {
  const started = Date.now();
  work = await mkdtemp(join(tmpdir(), 'nbops-ops-cli-'));
  dir = join(work, '.nbops');
  dev = spawn(process.execPath, [NBOPS_BIN, 'dev', '--time-scale', '0.01'], {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
    detached: true,
  });
  dev.stdout!.on('data', (d) => (devOutput += d));
  dev.stderr!.on('data', (d) => (devOutput += d));
  const deadline = Date.now() + 60_000;
  while (!(readHostInfo(dir) as { opsUrl?: string } | undefined)?.opsUrl) {
    if (dev.exitCode !== null || Date.now() > deadline)
      throw new Error(`the dev host did not start (exit ${dev.exitCode}); its output:\n${devOutput}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  timings.hostStart = Date.now() - started;
}, 90_000);

afterAll(async () => {
  if (dev?.pid && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev!.once('exit', resolve));
    process.kill(-dev.pid, 'SIGINT');
    const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(r, 20_000))]);
    if (!stopped) process.kill(-dev.pid, 'SIGKILL');
  }
  const left = dir ? await noProcessesUsing(dir) : [];
  if (work) await rm(work, { recursive: true, force: true });
  console.log(`ops-cli e2e timings (ms): ${JSON.stringify(timings)}`);
  expect(left, 'processes left running after the host stopped').toEqual([]);
}, 60_000);

describe.sequential('the newcomer path through the nbops CLI on a local host', { timeout: 240_000 }, () => {
  it('before anything is submitted: empty states, and what to do when there is no nbops to talk to', async () => {
    const nowhere = join(work, 'elsewhere');
    await mkdir(nowhere);
    const [models, incidents, drift, lost] = await Promise.all([
      nbops('models'),
      nbops('incidents'),
      nbops('drift', 'churn', '--json'),
      runNbops(['models'], { cwd: nowhere, env: { NBOPS_API_URL: '' } }),
    ]);
    expect(models.code, described(models)).toBe(0);
    expect(models.stdout).toBe('no models yet; submit a notebook with `nbops submit <notebook> --wait`\n');
    expect(incidents.stdout).toBe('no incidents\n');
    expect(drift.code, described(drift)).toBe(1);
    expect(jsonOf<{ error: { code: string } }>(drift).error.code).toBe('UNKNOWN_MODEL');
    // No host state in this folder and no AWS deployment named: a usage error saying how to choose.
    expect(lost.code, described(lost)).toBe(2);
    expect(lost.stderr).toMatch(
      /no nbops to talk to: set NBOPS_API_URL .* or start a local host with `npx nbops dev`/,
    );
  });

  it('submit --wait follows v1 through its stages to DEPLOYED (exit 0)', async () => {
    const started = Date.now();
    await mkdir(join(work, 'auto'));
    await writeFile(join(work, 'auto', 'churn.ipynb'), toBytes(churn(autoApproval)));
    const run = await nbops('submit', 'auto/churn.ipynb', '--wait', '--timeout', '120');
    timings.submitV1 = Date.now() - started;
    expect(run.code, described(run)).toBe(0);
    const out = run.stdout;
    expect(out).toContain(
      `uploaded s3://nbops-local/notebooks/churn/churn.ipynb (model churn, uploader ${UPLOADER})`,
    );
    expect(out).toContain('version 1 of churn');
    // Each stage once, in the order the version went through them, with its elapsed time.
    const stages = [...out.matchAll(/^ +\+\d+\.\ds {2}(\S+)/gm)].map((m) => m[1]);
    const expected = [
      'RECEIVED',
      'VALIDATED',
      'TRAINING',
      'TRAINED',
      'GATES_PASSED',
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
    ];
    expect(
      stages.filter((s) => expected.includes(s!)),
      out,
    ).toEqual(expected);
    expect(out).toMatch(/TRAINED +training job churn-v1-\w+ completed: metrics .*validation:auc=0\.\d+/);
    expect(out.trimEnd().split('\n').at(-1)).toBe('churn v1 is DEPLOYED');
    expect(run.stderr).toBe('');
  });

  it('status, models, versions, show and logs: tables for people, --json for scripts', async () => {
    const [status, statusJson, models, modelsJson, versions, versionsJson, show, showJson, logs, logsJson] =
      await Promise.all([
        nbops('status'),
        nbops('status', '--json'),
        nbops('models'),
        nbops('models', '--json'),
        nbops('versions', 'churn'),
        nbops('versions', 'churn', '--json'),
        nbops('show', 'churn', '1'),
        nbops('show', 'churn', 'v1', '--json'),
        nbops('logs', 'churn', '1'),
        nbops('logs', 'churn', '1', '--json'),
      ]);
    for (const run of [
      status,
      statusJson,
      models,
      modelsJson,
      versions,
      versionsJson,
      show,
      showJson,
      logs,
      logsJson,
    ])
      expect(run.code, described(run)).toBe(0);

    expect(status.stdout).toMatch(/^churn {2}\(owner team-ml@example\.com, 1 version\)$/m);
    expect(status.stdout).toMatch(/^ {2}champion {2}v1$/m);
    expect(status.stdout).toMatch(/^ {2}endpoint {2}churn InService on churn-v1-\w+ \(v1\)$/m);
    expect(status.stdout).toMatch(
      new RegExp(`\\*v1 +DEPLOYED +\\S+ \\S+ +by ${UPLOADER} +validation:auc=0\\.\\d+`),
    );
    expect(jsonOf<StatusJson>(statusJson).models[0]).toMatchObject({
      model: 'churn',
      champion: 1,
      endpoint: { name: 'churn', status: 'InService', version: 1 },
      versions: [{ version: 1, status: 'DEPLOYED' }],
    });

    expect(models.stdout.split('\n')[0]).toMatch(
      /^MODEL +CHAMPION +ENDPOINT +LATEST +INCIDENTS +OWNER +UPDATED$/,
    );
    expect(models.stdout).toMatch(/^churn +v1 DEPLOYED +InService v1 +v1 +0 +team-ml@example\.com /m);
    expect(jsonOf<{ models: unknown[] }>(modelsJson).models).toEqual([
      expect.objectContaining({
        model: 'churn',
        owner: 'team-ml@example.com',
        latestVersion: 1,
        champion: expect.objectContaining({ version: 1, status: 'DEPLOYED' }),
        endpoint: expect.objectContaining({ name: 'churn', status: 'InService', version: 1 }),
        openIncidents: 0,
      }),
    ]);

    expect(versions.stdout.split('\n')[0]).toMatch(/^VERSION +STATUS +UPLOADER +UPDATED +METRICS +WHY$/);
    expect(versions.stdout).toMatch(
      new RegExp(
        `^\\*v1 +DEPLOYED +${UPLOADER} +\\S+ \\S+ +validation:auc=0\\.\\d+ .*endpoint churn is InService`,
        'm',
      ),
    );
    expect(versions.stdout).toContain('(* the champion: the version in production)');
    const v = jsonOf<VersionsJson>(versionsJson);
    expect(v).toMatchObject({ model: 'churn', champion: 1 });
    expect(v.versions).toEqual([
      expect.objectContaining({ version: 1, status: 'DEPLOYED', champion: true, uploader: UPLOADER }),
    ]);
    expect(v.versions[0]!.metrics?.['validation:auc']).toBeGreaterThan(0.75);

    // show: lineage, gates, approval, deployments and the audit trail.
    const s = show.stdout;
    expect(s.split('\n')[0]).toBe('churn v1  DEPLOYED  (champion)');
    expect(s).toMatch(
      /^ {2}notebook {5}s3:\/\/nbops-local\/notebooks\/churn\/churn\.ipynb {2}sha256 [0-9a-f]{12}$/m,
    );
    expect(s).toMatch(/^ {2}job {10}arn:aws:sagemaker:us-east-1:000000000000:training-job\/churn-v1-\w+$/m);
    expect(s).toMatch(
      /^ {2}artifact {5}s3:\/\/nbops-local\/versions\/churn\/v1\/training\/.*model\.tar\.gz/m,
    );
    expect(s).toMatch(/^ {2}gates {8}passed$/m);
    expect(s).toMatch(/^ {15}pass {2}validation:auc >= 0\.75 {2}\(value 0\.\d+\)$/m);
    expect(s).toMatch(/^ {2}approved {5}by nbops:auto-approval at /m);
    expect(s).toMatch(/^ {2}deployments$/m);
    expect(s).toMatch(/^ {15}\S+ \S+ {2}DEPLOYED {2}nbops:endpoint: endpoint churn is InService/m);
    expect(s).toMatch(/^ {15}\S+ \S+ {2}champion {2}nbops:endpoint: v1 serves endpoint churn/m);
    const audit = s.slice(s.indexOf('  audit'));
    expect([...audit.matchAll(/^ {15}\S+ \S+ {2}(\S+) /gm)].map((m) => m[1])).toEqual([
      'RECEIVED',
      'VALIDATED',
      'TRAINING',
      'TRAINED',
      'GATES_PASSED',
      'PENDING_APPROVAL',
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
    ]);
    expect(s, 'no line ends in blanks').not.toMatch(/ +$/m);
    const detail = jsonOf<{
      status: string;
      champion: boolean;
      lineage: {
        notebook: { uri: string; sha256: string };
        trainingJob: { name: string };
        artifact: { uri: string };
      };
      gates: { passed: boolean };
      approval: { approver: string; decision: string };
      deployment: { endpointName: string; endpointConfigName: string };
      deployments: { event: string }[];
      audit: { kind: string; to?: string }[];
    }>(showJson);
    expect(detail).toMatchObject({
      status: 'DEPLOYED',
      champion: true,
      lineage: { notebook: { uri: 's3://nbops-local/notebooks/churn/churn.ipynb' } },
      gates: { passed: true },
      approval: { approver: 'nbops:auto-approval', decision: 'approve' },
      deployment: { endpointName: 'churn' },
    });
    expect(detail.lineage.trainingJob.name).toMatch(/^churn-v1-/);
    expect(detail.deployments.map((e) => e.event)).toEqual(['APPROVED', 'DEPLOYING', 'DEPLOYED', 'champion']);
    expect(detail.audit.at(-1)).toMatchObject({ kind: 'transition', to: 'DEPLOYED' });

    // logs: the training job, its output, and the local log itself (the metric lines).
    expect(logs.stdout).toMatch(/^churn v1 {2}training job churn-v1-\w+ {2}Completed$/m);
    expect(logs.stdout).toMatch(
      /^output {3}s3:\/\/nbops-local\/versions\/churn\/v1\/training\/churn-v1-\w+\/$/m,
    );
    expect(logs.stdout).toMatch(/^\[nbops\] metric validation:auc=0\.\d+$/m);
    expect(logs.stdout).toMatch(/^\[nbops\] metric train:loss=0\.\d+$/m);
    expect(logs.stdout, 'no AWS console link for a local job').not.toContain('console.aws.amazon.com');
    // The log file, relative to the folder the command runs in.
    expect(logs.stdout).toMatch(/^log {6}\.nbops\/jobs\/churn-v1-\w+\/algo-1\.log$/m);
    const logsDetail = jsonOf<{ trainingJob: { status: string }; localLog: { path: string; text: string } }>(
      logsJson,
    );
    expect(logsDetail.trainingJob.status).toBe('Completed');
    expect(logsDetail.localLog.text).toMatch(/\[nbops\] metric validation:accuracy=0\.\d+/);
  });

  it('submit --wait --json: progress goes to stderr, stdout is one JSON document', async () => {
    // A script's view of the same submit (v2 is the example as shipped: it waits for approval).
    const started = Date.now();
    const run = await nbops('submit', CHURN, '--wait', '--timeout', '120', '--json');
    timings.submitV2 = Date.now() - started;
    expect(run.code, described(run)).toBe(0);
    expect(jsonOf(run)).toMatchObject({ model: 'churn', version: 2, status: 'PENDING_APPROVAL' });
    expect(run.stderr).toMatch(/^ +\+\d+\.\ds {2}PENDING_APPROVAL +waiting for a person's approval/m);
  });

  it('a version waiting for approval: the uploader is refused, a colleague approves; refusals have codes and exit codes', async () => {
    const [
      waiting,
      self,
      selfJson,
      noReason,
      emptyReason,
      unknownVersion,
      unknownModel,
      badVersion,
      unknownModelJson,
    ] = await Promise.all([
      nbops('versions', 'churn', '--status', 'PENDING_APPROVAL'),
      nbops('approve', 'churn', '2', '--reason', 'looks good'),
      nbops('approve', 'churn', '2', '--reason', 'looks good', '--json'),
      nbops('decline', 'churn', '2', '--as', APPROVER),
      nbops('decline', 'churn', '2', '--reason', ' ', '--as', APPROVER, '--json'),
      nbops('approve', 'churn', '9', '--reason', 'x', '--as', APPROVER, '--json'),
      nbops('approve', 'nope', '1', '--reason', 'x', '--as', APPROVER),
      nbops('show', 'churn', 'x'),
      nbops('versions', 'nope', '--json'),
    ]);
    expect(waiting.code, described(waiting)).toBe(0);
    expect(waiting.stdout).toMatch(new RegExp(`^ v2 +PENDING_APPROVAL +${UPLOADER} `, 'm'));
    expect(waiting.stdout).not.toMatch(/^\*?v1/m);

    // The uploader may not approve their own version: refused (1), and the message says what to do.
    expect(self.code, described(self)).toBe(1);
    expect(self.stderr).toMatch(
      /dana uploaded version 2 of churn and may not approve it: ask another approver/,
    );
    expect(self.stderr).toContain('[SELF_APPROVAL]');
    expect(selfJson.code).toBe(1);
    expect(jsonOf<{ error: { code: string; status: number } }>(selfJson).error).toMatchObject({
      code: 'SELF_APPROVAL',
      status: 403,
    });

    // A decision needs a reason (it goes into the audit trail): a usage error (2) either way.
    expect(noReason.code, described(noReason)).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);
    expect(emptyReason.code, described(emptyReason)).toBe(2);
    expect(jsonOf<{ error: { code: string; message: string } }>(emptyReason).error).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/give a reason .*--reason/),
    });

    // Unknown names are refusals (1) with UNKNOWN_* codes; a malformed version is a usage error (2).
    expect(unknownVersion.code, described(unknownVersion)).toBe(1);
    expect(jsonOf<{ error: { code: string; message: string } }>(unknownVersion).error).toMatchObject({
      code: 'UNKNOWN_VERSION',
      message: expect.stringContaining('nbops versions churn'),
    });
    expect(unknownModel.code, described(unknownModel)).toBe(1);
    expect(unknownModel.stderr).toMatch(/model nope is not registered: list models with `nbops models`/);
    expect(unknownModel.stderr).toContain('[UNKNOWN_MODEL]');
    expect(unknownModelJson.code).toBe(1);
    expect(jsonOf<{ error: { code: string } }>(unknownModelJson).error.code).toBe('UNKNOWN_MODEL');
    expect(badVersion.code, described(badVersion)).toBe(2);
    expect(badVersion.stderr).toMatch(/"x" is not a version number: give e\.g\. 3 or v3/);

    // A colleague approves; the version deploys with a canary and becomes the champion.
    const approve = await nbops(
      'approve',
      'churn',
      'v2',
      '--reason',
      'reviewed the metrics',
      '--as',
      APPROVER,
    );
    expect(approve.code, described(approve)).toBe(0);
    expect(approve.stdout).toMatch(/^churn v2 approved by erin$/m);
    expect(approve.stdout).toContain('follow it with `nbops show churn 2`');
    const started = Date.now();
    const deployed = await until<VersionsJson>(
      ['versions', 'churn', '--json'],
      (vs) => statusOf(vs, 2) === 'DEPLOYED' && vs.champion === 2,
      60_000,
    );
    timings.approvedToDeployed = Date.now() - started;
    expect(statusOf(deployed, 1), 'the previous champion stays DEPLOYED as the rollback target').toBe(
      'DEPLOYED',
    );
    const again = await nbops('approve', 'churn', '2', '--reason', 'twice', '--as', APPROVER, '--json');
    expect(again.code).toBe(1);
    expect(jsonOf<{ error: { code: string } }>(again).error.code).toBe('WRONG_STATE');
  });

  it('rollback returns production to v1: the endpoint serves it, status and show say so', async () => {
    const started = Date.now();
    const run = await nbops('rollback', 'churn', '--reason', 'v2 answers look off');
    expect(run.code, described(run)).toBe(0);
    expect(run.stdout).toMatch(/^churn: rolling back from v2 to v1$/m);
    const status = await until<StatusJson>(
      ['status', '--json'],
      (s) => s.models[0]?.endpoint?.version === 1 && s.models[0].endpoint.status === 'InService',
      60_000,
    );
    timings.rollback = Date.now() - started;
    expect(status.models[0]).toMatchObject({
      champion: 1,
      versions: [
        { version: 2, status: 'ROLLED_BACK', reason: expect.stringContaining(`rolled back by ${UPLOADER}`) },
        { version: 1, status: 'DEPLOYED' },
      ],
    });
    // The endpoint's serving processes are v1's, and they answer.
    const serving = servingUrls(dir, 'churn');
    expect(serving.configName).toMatch(/^churn-v1-/);
    expect(serving.urls.length).toBeGreaterThan(0);
    const answer = await invoke(serving.urls[0]!, '12,70.5,846,month-to-month,3,yes');
    expect(answer.status).toBe(200);
    expect(Number(answer.body.trim())).toBeGreaterThan(0);

    const [show1, show2, text, again] = await Promise.all([
      nbops('show', 'churn', '1'),
      nbops('show', 'churn', '2'),
      nbops('status'),
      nbops('rollback', 'churn', '--json'),
    ]);
    expect(show1.stdout.split('\n')[0]).toBe('churn v1  DEPLOYED  (champion)');
    expect(show2.stdout.split('\n')[0]).toBe('churn v2  ROLLED_BACK');
    expect(show2.stdout).toMatch(/^ {2}why {10}rolled back by dana: v2 answers look off/m);
    expect(text.stdout).toMatch(/^ {2}endpoint {2}churn InService on churn-v1-\w+ \(v1\)$/m);
    // Nothing earlier to go back to now: refused, with the way forward.
    expect(again.code, described(again)).toBe(1);
    expect(jsonOf<{ error: { code: string; message: string } }>(again).error).toMatchObject({
      code: 'NO_ROLLBACK_TARGET',
      message: expect.stringContaining('nbops submit <notebook> --wait'),
    });
  });

  it('retrain trains the production notebook again as a new version; decline keeps one out of production', async () => {
    // v1's notebook asks for automatic approval, so its retrain deploys on its own.
    const run = await nbops('retrain', 'churn', '--json');
    // Asked again at once: the new version is still training or deploying (it takes seconds).
    const inFlight = await nbops('retrain', 'churn');
    expect(run.code, described(run)).toBe(0);
    expect(jsonOf(run)).toMatchObject({ outcome: 'retrain-submitted', model: 'churn', retrainOf: 1 });
    // One retrain at a time: asking again while it is on its way is refused.
    expect(inFlight.code, described(inFlight)).toBe(1);
    expect(inFlight.stderr).toMatch(
      /a retrain of churn is already in flight .*wait until it is deployed or decided/,
    );
    expect(inFlight.stderr).toContain('[RETRAIN_IN_FLIGHT]');
    const started = Date.now();
    const versions = await until<VersionsJson>(
      ['versions', 'churn', '--json'],
      (vs) => statusOf(vs, 3) === 'DEPLOYED' && vs.champion === 3,
      90_000,
    );
    timings.retrainToDeployed = Date.now() - started;
    expect(versions.versions[0]).toMatchObject({ version: 3, retrainOf: 1, uploader: 'nbops:retrain' });
    const show = await nbops('show', 'churn', '3');
    expect(show.stdout.split('\n')[0]).toBe('churn v3  DEPLOYED  (champion)');
    expect(show.stdout).toMatch(/^ {2}retrain of {3}v1$/m);

    // v2's notebook (the example as shipped) waits for approval: retrained, then declined.
    const of2 = await nbops('retrain', 'churn', '--of', '2', '--reason', 'retry the shipped notebook');
    expect(of2.code, described(of2)).toBe(0);
    expect(of2.stdout).toMatch(
      /^churn: retraining v2 from s3:\/\/nbops-local\/notebooks\/churn\/churn\.retrain-v2-\w+\.ipynb$/m,
    );
    await until<VersionsJson>(
      ['versions', 'churn', '--json'],
      (vs) => statusOf(vs, 4) === 'PENDING_APPROVAL',
      90_000,
    );
    const decline = await nbops('decline', 'churn', '4', '--reason', 'nothing new in it', '--as', APPROVER);
    expect(decline.code, described(decline)).toBe(0);
    expect(decline.stdout).toMatch(/^churn v4 declined by erin$/m);
    expect(decline.stdout).toMatch(/^v4 stays out of production/m);
    const after = jsonOf<VersionsJson>(await nbops('versions', 'churn', '--json'));
    expect(statusOf(after, 4)).toBe('DECLINED');
    expect(after.champion).toBe(3);
  });

  it('drift and incidents: shifted traffic is found by the scheduled evaluation and its alarm opens an incident', async () => {
    const before = await nbops('incidents');
    expect(before.code, described(before)).toBe(0);
    expect(before.stdout).toBe('no incidents\n');

    // Traffic unlike the training data (as `nbops demo --drift` sends) until an evaluation finds it.
    const started = Date.now();
    const random = seededRandom(7);
    let sending = true;
    let sent = 0;
    const traffic = (async () => {
      while (sending) {
        const { urls } = servingUrls(dir, 'churn');
        await Promise.all(urls.map((url) => invoke(url, customerRow(random, true)).catch(() => undefined)));
        sent += urls.length;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    let drift: { evaluations: { drifted: boolean; records?: number; version: number }[] };
    try {
      drift = await until<typeof drift>(
        ['drift', 'churn', '--json'],
        (d) => d.evaluations.some((e) => e.drifted),
        120_000,
      );
    } finally {
      sending = false;
      await traffic;
    }
    timings.trafficToDrift = Date.now() - started;
    expect(sent).toBeGreaterThan(100);
    const found = drift.evaluations.find((e) => e.drifted)!;
    expect(found.version, 'the evaluation is of the version in production').toBe(3);
    expect(found.records).toBeGreaterThanOrEqual(100);

    const table = await nbops('drift', 'churn');
    expect(table.stdout.split('\n')[0]).toMatch(/^WINDOW END +VERSION +VERDICT +DRIFTED +RECORDS +REPORT$/);
    expect(table.stdout).toMatch(
      /^\S+ \S+ +v3 +DRIFT +\d\/6 \(.*support_calls.*\) +\d+ +s3:\/\/nbops-local\/drift\/churn\//m,
    );

    const incidents = await until<{
      incidents: { alarmName: string; state: string; model: string; version?: number }[];
    }>(['incidents', '--json'], (l) => l.incidents.some((i) => i.alarmName === 'nbops-churn-drift'), 60_000);
    timings.trafficToIncident = Date.now() - started;
    expect(incidents.incidents).toContainEqual(
      expect.objectContaining({ model: 'churn', version: 3, alarmName: 'nbops-churn-drift', state: 'OPEN' }),
    );
    const [list, byModel, other, models] = await Promise.all([
      nbops('incidents'),
      nbops('incidents', 'churn', '--open'),
      nbops('incidents', 'fraud'),
      nbops('models'),
    ]);
    expect(list.stdout.split('\n')[0]).toMatch(/^OPENED +MODEL +VERSION +ALARM +STATE +REASON$/);
    expect(list.stdout).toMatch(/^\S+ \S+ +churn +v3 +nbops-churn-drift +OPEN +Threshold Crossed/m);
    // The model as an argument, like the other per-model commands.
    expect(byModel.stdout).toBe(list.stdout);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/model fraud is not registered: list models with `nbops models`/);
    expect(models.stdout).toMatch(/^churn +v3 DEPLOYED +InService v3 +v4 +1 open /m);
  });

  it('retire deletes the endpoint, its alarms and drift schedule, and keeps the history', async () => {
    const { urls } = servingUrls(dir, 'churn');
    const unconfirmed = await nbops('retire', 'churn');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/add --yes to confirm/);

    const run = await nbops(
      'retire',
      'churn',
      '--yes',
      '--reason',
      'replaced by the new churn service',
      '--json',
    );
    expect(run.code, described(run)).toBe(0);
    const result = jsonOf<{ endpointDeleted: boolean; retired: number[] }>(run);
    expect(result.endpointDeleted).toBe(true);
    expect(result.retired.sort()).toEqual([1, 2, 3, 4]);

    const status = await until<StatusJson>(
      ['status', '--json'],
      (s) => s.models[0]?.endpoint === undefined,
      30_000,
    );
    expect(status.models[0]?.versions.map((v) => v.version).sort()).toEqual([1, 2, 3, 4]);
    const versions = jsonOf<VersionsJson>(await nbops('versions', 'churn', '--json'));
    expect(versions.versions.map((v) => [v.version, v.status])).toEqual([
      [4, 'RETIRED'],
      [3, 'RETIRED'],
      [2, 'RETIRED'],
      [1, 'RETIRED'],
    ]);
    const [table, models, drift, show, lastChampion, text] = await Promise.all([
      nbops('versions', 'churn'),
      nbops('models', '--json'),
      nbops('drift', 'churn', '--json'),
      nbops('show', 'churn', '1'),
      nbops('show', 'churn', '3'),
      nbops('status'),
    ]);
    expect(table.stdout).toMatch(/^ v1 +RETIRED +dana /m);
    expect(table.stdout).toMatch(/^\*v3 +RETIRED +nbops:retrain /m);
    expect(table.stdout, 'a retired model has nothing in production').toContain(
      '(* the last champion: the model is retired, nothing is in production)',
    );
    expect(lastChampion.stdout.split('\n')[0]).toBe(
      'churn v3  RETIRED  (last champion; the model is retired)',
    );
    expect(text.stdout).toMatch(/^ {2}champion {2}none \(the model is retired; v3 served last\)$/m);
    expect(text.stdout).toMatch(/^ {2}endpoint {2}none$/m);
    expect(jsonOf<{ models: { endpoint?: unknown }[] }>(models).models[0]?.endpoint).toBeUndefined();
    expect(jsonOf<{ evaluations: unknown[] }>(drift).evaluations.length).toBeGreaterThan(0);
    expect(show.stdout).toMatch(/^ {2}audit$/m);
    expect(show.stdout).toMatch(/RETIRED +dana: .*replaced by the new churn service/);

    // The host's own records: no endpoint, no nbops-churn alarms, no drift schedule; the servers are gone.
    await expect
      .poll(() => existsSync(join(dir, 'sagemaker', 'endpoints', 'churn.json')), { timeout: 30_000 })
      .toBe(false);
    const alarms = readFileSync(join(dir, 'cloudwatch', 'alarms.json'), 'utf8');
    expect(alarms).not.toContain('nbops-churn-');
    const schedules = readFileSync(join(dir, 'scheduler', 'schedules.json'), 'utf8');
    expect(schedules).not.toContain('nbops-churn-drift');
    expect(urls.length).toBeGreaterThan(0);
    const answers = () =>
      Promise.all(
        urls.map((url) =>
          invoke(url, '12,70.5,846,month-to-month,3,yes').then(
            () => 'answers',
            () => 'stopped',
          ),
        ),
      );
    await expect.poll(answers, { timeout: 30_000 }).toEqual(urls.map(() => 'stopped'));
  });

  it('with the host stopped (Ctrl-C): reads answer from the saved state, actions say to start the host', async () => {
    const exited = new Promise<number | null>((resolve) => dev!.once('exit', (code) => resolve(code)));
    process.kill(-dev!.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    // A reader that died mid-read left its turn behind; the next readers take it over.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(dir, 'reader.lock'), String(dead));
    // The saved state's LevelDB admits one process at a time: commands run at once take turns.
    const [versions, status, approve] = await Promise.all([
      nbops('versions', 'churn', '--json'),
      nbops('status', '--json'),
      nbops('approve', 'churn', '4', '--reason', 'late', '--as', APPROVER),
    ]);
    expect(versions.code, described(versions)).toBe(0);
    expect(jsonOf<VersionsJson>(versions).versions.map((v) => v.status)).toEqual(Array(4).fill('RETIRED'));
    expect(status.code, described(status)).toBe(0);
    expect(jsonOf<StatusJson>(status).models.map((m) => m.model)).toEqual(['churn']);
    expect(approve.code, described(approve)).toBe(2);
    expect(approve.stderr).toMatch(/no local host is running in \.nbops .*start it with `npx nbops dev`/);
    expect(existsSync(join(dir, 'reader.lock'))).toBe(false);
  });
});
