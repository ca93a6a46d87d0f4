// What a deployment sets up for drift and SLOs, what a redeploy changes, and what retiring the
// model takes away: alarms (metric and composite), the drift schedule on EventBridge Scheduler,
// the endpoint, and the versions' status; the history stays.

import type { UpdateEndpointCommandInput } from '@aws-sdk/client-sagemaker';
import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { checkRequest } from '#core/aws/api-model';
import { retireModel } from '#core/service/retire';
import { churnNotebook, harness, shipVersion, trainVersion } from '../lifecycle/harness';
import { deployedChurn, GOOD, recordAlarmCalls } from './support';

const ALARMS_METRIC = [
  'nbops-churn-latency',
  'nbops-churn-errors-5m',
  'nbops-churn-errors-30m',
  'nbops-churn-errors-1h',
  'nbops-churn-errors-2h',
  'nbops-churn-errors-6h',
  'nbops-churn-errors-1d',
  'nbops-churn-drift',
];

describe('a deployment', () => {
  it('creates the SLO, burn-rate and drift alarms before the endpoint, and the drift schedule once DEPLOYED', async () => {
    const h = await harness();
    const calls = recordAlarmCalls(h);
    h.services.config.pageTopicArn = 'arn:aws:sns:us-east-1:123456789012:page';
    h.services.config.ticketTopicArn = 'arn:aws:sns:us-east-1:123456789012:ticket';
    await deployedChurn(h, 1);

    expect(h.alarmInputs.map((a) => a.AlarmName)).toEqual(ALARMS_METRIC);
    expect(calls.composite).toEqual(['nbops-churn-burn-page', 'nbops-churn-burn-ticket']);
    const firstAlarm = h.log.indexOf('PutMetricAlarm nbops-churn-latency');
    expect(firstAlarm).toBeGreaterThan(-1);
    expect(firstAlarm).toBeLessThan(h.log.findIndex((l) => l.startsWith('CreateEndpoint ')));
    // Page alarms notify the page topic, ticket alarms the ticket topic, window alarms nobody.
    const byName = new Map(h.alarmInputs.map((a) => [a.AlarmName, a]));
    expect(byName.get('nbops-churn-latency')?.AlarmActions).toEqual([
      'arn:aws:sns:us-east-1:123456789012:page',
    ]);
    expect(byName.get('nbops-churn-drift')?.AlarmActions).toEqual([
      'arn:aws:sns:us-east-1:123456789012:ticket',
    ]);
    expect(byName.get('nbops-churn-errors-1h')?.AlarmActions).toBeUndefined();

    // The schedule exists once v1 serves, targeting the nbops bus with the run's context attributes.
    const schedule = h.schedules.get('nbops-churn-drift') as CreateScheduleCommandInput;
    expect(schedule).toMatchObject({
      Name: 'nbops-churn-drift',
      GroupName: 'nbops',
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/nbops-bus',
        EventBridgeParameters: { DetailType: 'Drift Evaluation Due', Source: 'nbops' },
      },
    });
    expect(JSON.parse(schedule.Target!.Input!)).toEqual({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
    });
    expect(checkRequest('scheduler', 'CreateSchedule', schedule)).toEqual([]);
    expect(h.log.indexOf('CreateSchedule nbops-churn-drift')).toBeGreaterThan(
      h.log.findIndex((l) => l.startsWith('CreateEndpoint ')),
    );
  });

  it('leaves the drift schedule untouched when a new version keeps the same drift section', async () => {
    // UpdateSchedule can restart a rate schedule's period: a redeploy must not call it for nothing.
    const h = await harness();
    await deployedChurn(h, 1);
    const created = h.schedules.get('nbops-churn-drift');
    h.log.length = 0;
    const v2 = await trainVersion(
      h,
      churnNotebook((nb) => {
        nb.metadata.nbops.parameters.epochs = 200;
        nb.cells[2].source = ['epochs = 200\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
      }),
      GOOD,
    );
    await shipVersion(h, v2.version);
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(2);
    expect(h.log.filter((l) => /Schedule /.test(l) && !l.startsWith('GetSchedule'))).toEqual([]);
    expect(h.schedules.get('nbops-churn-drift')).toEqual(created);
  });

  it('updates alarms and schedule on redeploy, and removes what the new manifest no longer asks for', async () => {
    const h = await harness();
    const calls = recordAlarmCalls(h);
    await deployedChurn(h, 1);
    const v2 = await trainVersion(
      h,
      churnNotebook((nb) => {
        delete nb.metadata.nbops.slo.availability;
        nb.metadata.nbops.drift.schedule = 'rate(6 hours)';
        nb.metadata.nbops.parameters.epochs = 300;
        nb.cells[2].source = ['epochs = 300\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
      }),
      GOOD,
    );
    h.log.length = 0;
    await shipVersion(h, v2.version);
    // No availability SLO: the burn-rate alarms go (composites first), latency and drift stay.
    expect(calls.deleted).toEqual([
      ['nbops-churn-burn-ticket', 'nbops-churn-burn-page'],
      [
        'nbops-churn-errors-5m',
        'nbops-churn-errors-30m',
        'nbops-churn-errors-1h',
        'nbops-churn-errors-2h',
        'nbops-churn-errors-6h',
        'nbops-churn-errors-1d',
      ],
    ]);
    const [update] = h.cloud.inputs<UpdateEndpointCommandInput>('UpdateEndpoint');
    expect(update?.DeploymentConfig?.AutoRollbackConfiguration).toEqual({
      Alarms: [{ AlarmName: 'nbops-churn-latency' }],
    });
    expect(h.log).toContain('UpdateSchedule nbops-churn-drift');
    expect(h.schedules.get('nbops-churn-drift')?.ScheduleExpression).toBe('rate(6 hours)');

    // A version without a drift section: the schedule goes once it serves.
    const v3 = await trainVersion(
      h,
      churnNotebook((nb) => {
        delete nb.metadata.nbops.drift;
        nb.metadata.nbops.parameters.epochs = 400;
        nb.cells[2].source = ['epochs = 400\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
      }),
      GOOD,
    );
    await shipVersion(h, v3.version);
    expect(h.schedules.has('nbops-churn-drift')).toBe(false);
    expect(calls.deleted.at(-1)).toEqual(['nbops-churn-drift']);
  });
});

describe('the drift schedule after a failure', () => {
  it('is set up by a redelivered endpoint event when the delivery that made the version DEPLOYED failed at it', async () => {
    const h = await harness();
    const schedules = h.services.schedules;
    let failures = 1;
    h.services.schedules = {
      async upsertSchedule(schedule) {
        if (failures-- > 0)
          throw Object.assign(new Error('Rate exceeded'), { name: 'AccessDeniedException' });
        return schedules.upsertSchedule(schedule);
      },
      deleteSchedule: (name) => schedules.deleteSchedule(name),
    };
    const trained = await trainVersion(h, churnNotebook(), GOOD);
    await h.approve('churn', trained.version);
    await h.deployPublished();
    h.tick(300);
    h.cloud.finishEndpoint('churn');
    const event = h.endpointEvent('churn');
    await expect(h.endpoint(event)).rejects.toThrow('Rate exceeded');
    expect(await h.services.registry.getVersion('churn', 1)).toMatchObject({ status: 'DEPLOYED' });
    expect(h.schedules.size).toBe(0);
    // Lambda retries the event: the version is DEPLOYED already, and the schedule is created now.
    expect(await h.endpoint(event)).toMatchObject({ kind: 'ignored' });
    expect([...h.schedules.keys()]).toEqual(['nbops-churn-drift']);
    // Later duplicates write nothing.
    h.log.length = 0;
    await h.endpoint(event);
    expect(h.log).toEqual([]);
  });
});

describe('retiring a model', () => {
  it('deletes its endpoint, alarms and schedule and retires its versions, once', async () => {
    const h = await harness();
    const calls = recordAlarmCalls(h);
    await deployedChurn(h, 2);
    // An incident whose alarm retiring deletes: it could never be resolved by an OK state.
    await h.services.registry.putIncident('churn', {
      at: h.now().toISOString(),
      alarmName: 'nbops-churn-drift',
      version: 2,
      reason: 'dataset drift 0.6 > 0.5',
      sourceEventId: 'alarm-evt-drift',
    });
    const request = {
      model: 'churn',
      actor: 'lead@example.com',
      reason: 'replaced by churn-v2 model family',
      requestId: 'retire-1',
      at: h.now().toISOString(),
    };
    const retired = await retireModel(h.services, request);
    expect(retired).toEqual({
      kind: 'retired',
      model: 'churn',
      endpointDeleted: true,
      retired: [1, 2],
      unchanged: [],
    });
    expect(h.cloud.calls('DeleteEndpoint')).toBe(1);
    expect(calls.deleted).toEqual([['nbops-churn-burn-ticket', 'nbops-churn-burn-page'], ALARMS_METRIC]);
    expect(h.schedules.size).toBe(0);
    for (const v of await h.services.registry.listVersions('churn')) expect(v.status).toBe('RETIRED');
    expect(await h.services.registry.openIncidents('churn')).toEqual([]);
    expect((await h.services.registry.listIncidents('churn'))[0]).toMatchObject({
      state: 'RESOLVED',
      resolution: 'model retired: replaced by churn-v2 model family',
    });
    expect(h.notifications.at(-1)).toMatchObject({ severity: 'info', subject: 'nbops: churn retired' });
    // History stays: the audit trail records who retired it and why.
    const trail = await h.services.registry.auditTrail('churn', { version: 2 });
    expect(trail.at(-1)).toMatchObject({
      to: 'RETIRED',
      actor: 'lead@example.com',
      reason: 'model retired: replaced by churn-v2 model family',
    });

    // Retried: nothing more to do.
    const notified = h.notifications.length;
    expect(await retireModel(h.services, request)).toEqual({
      kind: 'retired',
      model: 'churn',
      endpointDeleted: false,
      retired: [],
      unchanged: [
        { version: 1, status: 'RETIRED' },
        { version: 2, status: 'RETIRED' },
      ],
    });
    expect(h.cloud.calls('DeleteEndpoint')).toBe(1);
    expect(h.notifications).toHaveLength(notified);
  });

  it('waits for a deployment in flight', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const v2 = await trainVersion(
      h,
      churnNotebook((nb) => {
        nb.metadata.nbops.parameters.epochs = 300;
        nb.cells[2].source = ['epochs = 300\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
      }),
      GOOD,
    );
    await h.approve('churn', v2.version);
    await h.deployPublished();
    expect(
      await retireModel(h.services, {
        model: 'churn',
        actor: 'lead@example.com',
        reason: 'done',
        requestId: 'r',
        at: h.now().toISOString(),
      }),
    ).toEqual({
      kind: 'refused',
      model: 'churn',
      reason:
        'v2 is DEPLOYING; retire churn once it has finished (or failed: the stuck-version sweep ends those past their limits)',
    });
    expect(h.cloud.calls('DeleteEndpoint')).toBe(0);
  });
});
