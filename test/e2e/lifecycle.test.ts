// The README's main job end to end on the local host: the demo's story (the churn example trained,
// gated, deployed; a second version rolled out with a canary; predictions, a burst, capture, drift
// through the drift route), then `--drift`: shifted traffic, the drift alarm, the retrain policy.
// Assertions are on the registry, the endpoint's answers and the captured data in the local S3.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHost, startLocalHost } from '#adapters/local/host';
import { captureKeyPrefix } from '#core/layout';
import { type DemoSummary, demoFlow, driftScenario } from '../../cli/commands/demo';
import { until } from '../support/wait';
import { noProcessesUsing } from './support/processes';

let dir: string;
let host: LocalHost;
let summary: DemoSummary;
let output = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-e2e-'));
  host = await startLocalHost({ dir, timeScale: 0.01, seed: 11, log: () => {} });
  const result = await demoFlow(host, {
    io: { stdout: (t) => (output += t), stderr: (t) => (output += t) },
    drift: false,
    uploader: 'alice',
    burst: 200,
  });
  if (!result.summary) throw new Error(`the demo flow failed:\n${output}`);
  summary = result.summary;
}, 120_000);

afterAll(async () => {
  await host?.stop();
  const left = await noProcessesUsing(dir);
  await rm(dir, { recursive: true, force: true });
  expect(left, 'processes left running after the host stopped').toEqual([]);
});

const LIFECYCLE = [
  'VALIDATED',
  'TRAINING',
  'TRAINED',
  'GATES_PASSED',
  'PENDING_APPROVAL',
  'APPROVED',
  'DEPLOYING',
  'DEPLOYED',
];

describe.sequential('the demo flow on the local host', () => {
  it('registers both versions DEPLOYED with their facts, moves the champion, and keeps the audit trail', async () => {
    const registry = host.registry;
    const model = await registry.getModel('churn');
    expect(model?.aliases.champion).toBe(2);
    expect(model?.champion?.version).toBe(2);

    const versions = await registry.listVersions('churn');
    expect(versions.map((v) => [v.version, v.status])).toEqual([
      [1, 'DEPLOYED'],
      [2, 'DEPLOYED'],
    ]);
    for (const v of versions) {
      expect(v.uploader).toBe('alice');
      expect(v.owner).toBe('team-ml@example.com');
      expect(v.facts.validation?.errors).toBe(0);
      expect(v.facts.trainingJob?.name).toMatch(new RegExp(`^churn-v${v.version}-[0-9a-f]{8}$`));
      expect(v.facts.metrics?.['validation:auc']).toBeGreaterThan(0.75);
      expect(v.facts.gates?.passed).toBe(true);
      expect(v.approval?.approver).toBe('nbops:auto-approval');
      expect(v.facts.deployment).toMatchObject({ endpointName: 'churn', modelName: `churn-v${v.version}` });
      // The artifact the registry names is in the bucket.
      const artifact = v.facts.artifact!.uri.replace(`s3://${host.bucket}/`, '');
      expect(await host.store.head({ bucket: host.bucket, key: artifact })).toBeDefined();
      const trail = await registry.auditTrail('churn', { version: v.version });
      expect(trail.filter((e) => e.kind === 'transition').map((e) => ('to' in e ? e.to : ''))).toEqual(
        LIFECYCLE,
      );
    }
    // v2's parameters differ (epochs 300), so v2 is a different notebook and a different job.
    expect(versions[0]!.facts.notebook!.sha256).not.toBe(versions[1]!.facts.notebook!.sha256);
    const aliases = (await registry.auditTrail('churn')).filter((e) => e.kind === 'alias');
    expect(aliases.map((e) => [e.alias, e.version])).toEqual([
      ['champion', 1],
      ['champion', 2],
    ]);
    // The second deployment was a blue/green canary update, not a new endpoint.
    const deploying = (await registry.auditTrail('churn', { version: 2 })).find(
      (e) => e.kind === 'transition' && e.to === 'DEPLOYING',
    );
    expect(deploying?.reason).toMatch(/canary blue\/green update, replacing champion v1/);
  });

  it('serves v2 on the endpoint, answering probabilities for known rows', async () => {
    const endpoint = await host.sagemaker.describeEndpoint('churn');
    expect(endpoint?.EndpointStatus).toBe('InService');
    const v2 = (await host.registry.getVersion('churn', 2))!;
    expect(endpoint?.EndpointConfigName).toBe(v2.facts.deployment!.endpointConfigName);

    const risky = await host.sagemaker.invokeEndpoint(
      'churn',
      '2,95.5,191,month-to-month,5,yes\n',
      'text/csv',
      'text/csv',
    );
    const loyal = await host.sagemaker.invokeEndpoint(
      'churn',
      '70,25.0,1750,two-year,0,no\n',
      'text/csv',
      'text/csv',
    );
    expect([risky.status, loyal.status]).toEqual([200, 200]);
    const p = (body: Buffer) => Number(body.toString('utf8').trim());
    for (const value of [p(risky.body), p(loyal.body)]) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    expect(p(risky.body)).toBeGreaterThan(0.5);
    expect(p(loyal.body)).toBeLessThan(0.1);
    expect(summary.predictions).toHaveLength(3);
    for (const prediction of summary.predictions) expect(prediction.probability).toBeGreaterThanOrEqual(0);
  });

  it('captured every answered invocation in SageMaker’s layout, and found no drift in like-for-like traffic', async () => {
    await host.sagemaker.flushCapture('churn');
    const prefix = captureKeyPrefix('churn', 'AllTraffic');
    let records = 0;
    const sample: Record<string, unknown>[] = [];
    const keys: string[] = [];
    for await (const object of host.store.list(host.bucket, prefix)) {
      keys.push(object.key);
      const text = Buffer.from(
        await host.store.getBytes({ bucket: host.bucket, key: object.key }, { maxBytes: 50e6 }),
      ).toString('utf8');
      for (const line of text.split('\n').filter(Boolean)) {
        records++;
        if (sample.length < 5) sample.push(JSON.parse(line));
      }
    }
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys)
      expect(key).toMatch(/^capture\/churn\/AllTraffic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.jsonl$/);
    // samplingPercent 100: one record per answered invocation (the two above came after the demo's count).
    expect(summary.successfulInvocations).toBe(summary.invocations);
    expect(records).toBe(summary.successfulInvocations + 2);
    expect(summary.captureRecords).toBe(summary.successfulInvocations);
    expect(sample[0]).toMatchObject({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', encoding: 'CSV' },
        endpointOutput: { mode: 'OUTPUT', encoding: 'CSV' },
      },
      eventVersion: '0',
    });
  });

  it('evaluated drift through the drift route: no drift in like-for-like traffic, recorded with its report and metrics', async () => {
    expect(summary.drift).toMatchObject({ drifted: false, insufficientData: false, driftedFeatures: [] });
    expect(summary.drift.features.map((f) => f.name).sort()).toEqual([
      'contract',
      'has_fiber',
      'monthly_charges',
      'support_calls',
      'tenure_months',
      'total_charges',
    ]);
    expect(summary.drift.records).toBe(summary.captureRecords);
    const [item] = await host.registry.listDrift('churn', { since: summary.drift.at });
    expect(item).toMatchObject({ at: summary.drift.at, version: 2, drifted: false });
    const report = summary.drift.reportUri!.replace(`s3://${host.bucket}/`, '');
    expect(await host.store.head({ bucket: host.bucket, key: report })).toBeDefined();
    // The handler's DatasetDrift metric (EMF on stdout) reached the local drift alarm.
    await until(
      async () => host.alarms.state('nbops-churn-drift'),
      (state) => state === 'OK',
      15_000,
    );
  });

  it('--drift: shifted traffic is found drifting, the drift alarm fires and the policy retrains the champion', async () => {
    const response = await driftScenario(
      host,
      'churn',
      { stdout: (t) => (output += t), stderr: (t) => (output += t) },
      400,
    );
    expect(response.evaluation.drifted).toBe(true);
    expect(response.evaluation.driftedFeatures).toEqual(
      expect.arrayContaining(['monthly_charges', 'support_calls']),
    );
    expect(host.alarms.state('nbops-churn-drift')).toBe('ALARM');
    expect(response.policy).toMatchObject({ action: 'retrain', version: 2 });

    // The incident and the retrained version are in the registry.
    const incidents = await host.registry.openIncidents('churn');
    expect(incidents.map((i) => i.alarmName)).toContain('nbops-churn-drift');
    const retrained = (await host.registry.getVersion('churn', response.retrain!.version))!;
    expect(retrained.facts.notebook?.key).toMatch(/^notebooks\/churn\/churn\.retrain-v2-[0-9a-f]{8}\.ipynb$/);
    expect(retrained.status).toBe('DEPLOYED');
    // The champion alias follows DEPLOYED in a second write (endpoint-state handler).
    const champion = await until(
      async () => (await host.registry.getModel('churn'))?.aliases.champion,
      (v) => v === retrained.version,
      15_000,
    );
    expect(champion).toBe(retrained.version);
  });
});
