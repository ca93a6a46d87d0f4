import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRequest } from '#core/aws/api-model';
import { runtimeHash } from '#core/sagemaker/runtime-hash';
import { runPlan } from '../../../cli/commands/plan';

const NOTEBOOK = 'examples/churn/churn.ipynb';
const SIDECAR = readFileSync('examples/churn/manifest.yaml', 'utf8');

function plan(args: string[]): { code: number; stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runPlan(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const dir = mkdtempSync(join(tmpdir(), 'nbops-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTemp(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The example without its embedded manifest, so a --manifest file is the one used. */
const BARE_NOTEBOOK = (() => {
  const nb = JSON.parse(readFileSync(NOTEBOOK, 'utf8'));
  delete nb.metadata.nbops;
  return writeTemp('bare.ipynb', JSON.stringify(nb));
})();

/** Request inputs are read field by field from parsed JSON. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, asserted on in each test
type Json = any;

interface JsonPlan {
  requests: { service: string; operation: string; version: number; input: Json }[];
}

describe('nbops plan --json', () => {
  const { code, stdout, stderr } = plan([NOTEBOOK, '--json']);
  const parsed = JSON.parse(stdout) as JsonPlan;

  it('prints every request of a first deployment and of a later version, and exits 0', () => {
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(Object.keys(parsed)).toEqual(['requests']);
    // Per version, what the use cases send in order: training, model, endpoint config, every endpoint
    // alarm (deploy puts them before touching the endpoint), the endpoint, then the drift schedule
    // (endpoint-state, once the version is DEPLOYED).
    const alarms = [
      ...Array.from({ length: 8 }, () => 'cloudwatch:PutMetricAlarm'),
      'cloudwatch:PutCompositeAlarm',
      'cloudwatch:PutCompositeAlarm',
    ];
    const perVersion = (v: number, endpoint: string, schedule: string) =>
      [
        'sagemaker:CreateTrainingJob',
        'sagemaker:CreateModel',
        'sagemaker:CreateEndpointConfig',
        ...alarms,
        endpoint,
        schedule,
      ].map((op) => `${v} ${op}`);
    expect(parsed.requests.map((r) => `${r.version} ${r.service}:${r.operation}`)).toEqual([
      ...perVersion(1, 'sagemaker:CreateEndpoint', 'scheduler:CreateSchedule'),
      ...perVersion(2, 'sagemaker:UpdateEndpoint', 'scheduler:UpdateSchedule'),
    ]);
    for (const r of parsed.requests) {
      expect(Object.keys(r)).toEqual(['service', 'operation', 'version', 'input']);
      expect(
        checkRequest(r.service as 'sagemaker' | 'cloudwatch' | 'scheduler', r.operation, r.input),
      ).toEqual([]);
    }
  });

  it('wires the artifact URI, the configs and the alarms together as SageMaker would', () => {
    const first = parsed.requests.filter((r) => r.version === 1);
    const input = (operation: string, version = 1) =>
      parsed.requests.find((r) => r.operation === operation && r.version === version)!.input;
    const [job, model, config] = first.map((r) => r.input);
    expect(model!.PrimaryContainer.ModelDataUrl).toBe(
      `${job!.OutputDataConfig.S3OutputPath}${job!.TrainingJobName}/output/model.tar.gz`,
    );
    const endpoint = input('CreateEndpoint');
    expect(endpoint.EndpointConfigName).toBe(config!.EndpointConfigName);
    const update = input('UpdateEndpoint', 2);
    expect(update.EndpointName).toBe(endpoint.EndpointName);
    // The blue/green update rolls back on the latency and fast error-rate alarms, both created first.
    const alarmNames = first.filter((r) => r.operation === 'PutMetricAlarm').map((r) => r.input.AlarmName);
    expect(update.DeploymentConfig.AutoRollbackConfiguration.Alarms).toEqual([
      { AlarmName: 'nbops-churn-latency' },
      { AlarmName: 'nbops-churn-errors-5m' },
    ]);
    expect(alarmNames).toEqual(expect.arrayContaining(['nbops-churn-latency', 'nbops-churn-errors-5m']));
    // Composite alarms name only alarms the plan creates.
    for (const composite of first.filter((r) => r.operation === 'PutCompositeAlarm'))
      for (const [, name] of (composite.input.AlarmRule as string).matchAll(/ALARM\("([^"]+)"\)/g))
        expect(alarmNames).toContain(name);
    // The drift schedule puts "Drift Evaluation Due" for this model, per the manifest's schedule.
    const schedule = input('CreateSchedule');
    expect(schedule.ScheduleExpression).toBe('rate(1 hour)');
    expect(JSON.parse(schedule.Target.Input)).toMatchObject({ model: 'churn', endpoint: 'churn' });
  });

  it('names the notebook by its content and the runtime by the hash of layers/runtime/nbops_runtime', () => {
    const job = parsed.requests[0]!.input;
    const sha = (spawnSync('sha256sum', [NOTEBOOK]).stdout.toString().split(' ')[0] ?? '').slice(0, 8);
    expect(job.TrainingJobName).toBe(`churn-v1-${sha}`);
    const root = 'layers/runtime/nbops_runtime';
    const files: { path: string; content: Buffer }[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const full = join(d, name);
        if (statSync(full).isDirectory()) walk(full);
        else files.push({ path: relative(root, full), content: readFileSync(full) });
      }
    };
    walk(root);
    const runtime = job.InputDataConfig.find((c: Json) => c.ChannelName === 'nbops-runtime');
    expect(runtime.DataSource.S3DataSource.S3Uri).toBe(
      `s3://nbops-artifacts-123456789012-us-east-1/runtime/${runtimeHash(files)}/`,
    );
  });
});

describe('nbops plan (text)', () => {
  it('shows the key facts of each request', () => {
    const { code, stdout } = plan([NOTEBOOK]);
    expect(code).toBe(0);
    for (const fact of [
      'CreateTrainingJob  churn-v1-',
      '1 x ml.g5.xlarge',
      'spot          yes: max runtime 1h, max wait 2h',
      'nbops-runtime',
      'validation:auc, validation:accuracy, train:loss',
      'CreateEndpoint  churn',
      'p99 ModelLatency > 200000 us (200 ms)',
      'CANARY (capacity shifted per step): 50% bake 5m -> 100% bake 5m',
      'rollback on   nbops-churn-latency, nbops-churn-errors-5m',
      'placeholders for accountId',
      'All 30 requests satisfy the AWS API models',
    ])
      expect(stdout).toContain(fact);
  });

  it('uses the policy aws section instead of placeholders', () => {
    const policy = writeTemp(
      'policy.yaml',
      'aws:\n  accountId: "111122223333"\n  region: eu-west-1\n  artifactBucket: ml-artifacts\n  executionRoleArn: arn:aws:iam::111122223333:role/sm\n',
    );
    const { code, stdout } = plan([NOTEBOOK, '--policy', policy, '--json']);
    expect(code).toBe(0);
    const job = (JSON.parse(stdout) as JsonPlan).requests[0]!.input;
    expect(job.RoleArn).toBe('arn:aws:iam::111122223333:role/sm');
    expect(job.OutputDataConfig.S3OutputPath).toBe('s3://ml-artifacts/versions/churn/v1/training/');
  });

  it('plans only training when the manifest has no serving section', () => {
    const manifest = writeTemp(
      'train-only.nbops.yaml',
      SIDECAR.replace(/\nserving:[\s\S]*?\n(?=runbook:)/, '\n'),
    );
    const { code, stdout } = plan([BARE_NOTEBOOK, '--manifest', manifest]);
    expect(code).toBe(0);
    expect(stdout).toContain('No serving section');
    expect(stdout).not.toContain('CreateModel');
  });
});

describe('nbops plan failures', () => {
  it('prints the failing field path and exits 1 when a request breaks the API model', () => {
    // Valid for the manifest schema, but the API's ContentType pattern does not match a newline.
    const manifest = writeTemp(
      'bad.nbops.yaml',
      SIDECAR.replace(
        '\ntraining:\n',
        '\ndata:\n  - name: train\n    uri: s3://ml-data/churn/train.csv\n    contentType: "text/csv\\n"\n\ntraining:\n',
      ),
    );
    const { code, stdout, stderr } = plan([BARE_NOTEBOOK, '--manifest', manifest, '--json']);
    expect(code).toBe(1);
    expect(stderr).toContain('sagemaker:CreateTrainingJob (version 1) does not satisfy the AWS API model');
    expect(stderr).toContain('InputDataConfig[2].ContentType');
    const failing = (JSON.parse(stdout) as JsonPlan).requests.filter((r) => 'violations' in r);
    expect(failing.map((r) => r.version)).toEqual([1, 2]);
  });

  it('exits 1 with the findings when the notebook is invalid, planning nothing', () => {
    const manifest = writeTemp('invalid.nbops.yaml', SIDECAR.replace('ml.g5.xlarge', 'ml.g5.huge'));
    const { code, stdout, stderr } = plan([BARE_NOTEBOOK, '--manifest', manifest, '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('MAN-007');
    expect(stderr).toContain('no requests were planned');
  });

  it('exits 2 on usage and I/O errors', () => {
    expect(plan(['does-not-exist.ipynb']).code).toBe(2);
    expect(plan(['does-not-exist.ipynb']).stderr).toContain('no such file');
    expect(plan([NOTEBOOK, '--bogus']).code).toBe(2);
    expect(plan([]).code).toBe(2);
    const badPolicy = writeTemp('bad-policy.yaml', 'aws:\n  accountId: 12\n');
    expect(plan([NOTEBOOK, '--policy', badPolicy]).code).toBe(2);
  });
});

// Enabled once `registerPlanCommand` is registered in cli/main.ts.
describe('nbops plan (spawned CLI)', () => {
  it('prints the JSON plan and exits 0', () => {
    const run = spawnSync('node', ['bin/nbops.js', 'plan', NOTEBOOK, '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as JsonPlan).requests).toHaveLength(30);
  });
});
