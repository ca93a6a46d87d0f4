// Automatic rollback on the local host: v1 serves; v2's model raises in predict_fn, so its canary
// answers 500s; the error-ratio alarm (the same PutMetricAlarm as on AWS, evaluated locally from the
// endpoint's invocation metrics) fires while the canary bakes, and the deployment rolls back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHost, startLocalHost } from '#adapters/local/host';
import { upload } from '#adapters/local/host/client';
import type { VersionRecord } from '#core/registry/types';
import { until } from '../support/wait';
import { autoApproval, brokenModel, churn, toBytes } from './support/notebooks';
import { noProcessesUsing } from './support/processes';

let dir: string;
let host: LocalHost;

const SETTLED = ['ROLLED_BACK', 'DEPLOYED', 'DEPLOY_FAILED', 'TRAINING_FAILED', 'GATES_FAILED', 'REJECTED'];

async function submit(nb: unknown): Promise<number> {
  const { etag } = await upload(
    host.store,
    host.bucket,
    { model: 'churn', key: 'notebooks/churn/churn.ipynb', bytes: toBytes(nb) },
    'alice',
  );
  const version = await until(
    () => host.registry.listVersions('churn', { newestFirst: true }),
    (vs) => vs[0]?.facts.notebook?.etag === etag.replace(/"/g, ''),
  );
  return version[0]!.version;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-rollback-'));
  host = await startLocalHost({ dir, timeScale: 0.01, seed: 5, log: () => {} });
  const v1 = await submit(churn(autoApproval));
  const settled = await until(
    () => host.registry.getVersion('churn', v1).then((v) => v!),
    (v) => SETTLED.includes(v.status),
  );
  if (settled.status !== 'DEPLOYED')
    throw new Error(`v1 ended ${settled.status}: ${settled.lastChange?.reason}`);
}, 90_000);

afterAll(async () => {
  await host?.stop();
  const left = await noProcessesUsing(dir);
  await rm(dir, { recursive: true, force: true });
  expect(left, 'processes left running after the host stopped').toEqual([]);
});

describe('a canary whose alarm fires', () => {
  it('rolls a canary back when its error alarm fires: the new model fails every request', async () => {
    const v1 = (await host.registry.getVersion('churn', 1))!;
    const bad = await submit(
      churn((nb) => {
        autoApproval(nb);
        brokenModel(nb);
      }),
    );
    expect(bad).toBe(2);

    const alarmChanges: string[] = [];
    const stopWatching = host.observe((a) => {
      if (a.kind === 'event' && a.event['detail-type'] === 'CloudWatch Alarm State Change') {
        const d = a.event.detail as { alarmName: string; state: { value: string } };
        alarmChanges.push(`${d.alarmName} ${d.state.value}`);
      }
    });
    // Traffic all along the rollout, as production would have.
    let sending = true;
    const statuses = new Map<string, number[]>();
    const traffic = (async () => {
      while (sending) {
        const answer = await host.sagemaker.invokeEndpoint(
          'churn',
          '12,70.5,846,month-to-month,3,yes\n',
          'text/csv',
        );
        const list = statuses.get(answer.endpointConfigName) ?? [];
        list.push(answer.status);
        statuses.set(answer.endpointConfigName, list);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let settled: VersionRecord;
    try {
      settled = await until(
        () => host.registry.getVersion('churn', 2).then((v) => v!),
        (v) => SETTLED.includes(v.status),
        90_000,
      );
    } finally {
      sending = false;
      await traffic;
      stopWatching();
    }
    expect(settled.status).toBe('ROLLED_BACK');
    expect(settled.lastChange?.reason).toMatch(/rolled back/i);
    expect(settled.lastChange?.reason).toContain('nbops-churn-errors-5m');

    // The canary fleet answered 500s; production stayed on v1, which kept answering.
    const canary = statuses.get(settled.facts.deployment!.endpointConfigName) ?? [];
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.every((s) => s === 500)).toBe(true);
    expect(statuses.get(v1.facts.deployment!.endpointConfigName)?.every((s) => s === 200)).toBe(true);
    const endpoint = await host.sagemaker.describeEndpoint('churn');
    expect(endpoint?.EndpointStatus).toBe('InService');
    expect(endpoint?.EndpointConfigName).toBe(v1.facts.deployment!.endpointConfigName);
    expect(endpoint?.FailureReason).toMatch(/CloudWatch alarm nbops-churn-errors-5m went into ALARM/);
    expect((await host.registry.getModel('churn'))?.aliases.champion).toBe(1);
    // The model errors reached the alarm through the endpoint's invocation metrics; latency stayed fine.
    expect(alarmChanges).toContain('nbops-churn-errors-5m ALARM');
    expect(alarmChanges).not.toContain('nbops-churn-latency ALARM');
  });
});
