import { describe, expect, it } from 'vitest';
import { freshRegistry, minute, upload } from './helpers';

describe.concurrent('queries over more items than one page', () => {
  it('list every version, in either order, with a status filter and a limit', async () => {
    // Prepare: 7 versions read 2 per page.
    const { registry, sent } = await freshRegistry({ pageSize: 2 });
    for (let n = 1; n <= 7; n++) await registry.registerUpload(upload('churn', n));
    for (const version of [2, 6]) {
      await registry.transition('churn', version, {
        to: 'REJECTED',
        actor: 'submit',
        reason: 'invalid',
        sourceEventId: `reject-${version}`,
        at: minute(version),
      });
    }
    sent.clear();

    // Act
    const all = await registry.listVersions('churn');
    const queriesForAll = sent.get('Query');
    const newest = await registry.listVersions('churn', { newestFirst: true, limit: 3 });
    const rejected = await registry.listVersions('churn', { status: 'REJECTED' });

    // Assess
    expect(all.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(queriesForAll).toBeGreaterThanOrEqual(4);
    expect(newest.map((v) => v.version)).toEqual([7, 6, 5]);
    expect(rejected.map((v) => v.version)).toEqual([2, 6]);
  });

  it('list every model and the whole audit trail', async () => {
    const { registry } = await freshRegistry({ pageSize: 2 });
    const models = ['m-a', 'm-b', 'm-c', 'm-d', 'm-e'];
    for (const model of models) await registry.registerUpload(upload(model));
    for (let n = 0; n < 5; n++) await registry.registerUpload(upload('m-a'));

    expect((await registry.listModels()).map((m) => m.model)).toEqual(models);
    expect(await registry.auditTrail('m-a')).toHaveLength(6);
    expect((await registry.auditTrail('m-a', { version: 6 })).map((e) => e.kind)).toEqual(['registered']);
  });

  it('find versions stuck in a state across models', async () => {
    const { registry } = await freshRegistry({ pageSize: 1 });
    const startTraining = async (model: string, at: string) => {
      const { version } = await registry.registerUpload(upload(model));
      for (const to of ['VALIDATED', 'TRAINING'] as const) {
        await registry.transition(model, version, {
          to,
          actor: 'submit',
          reason: 'r',
          sourceEventId: `${model}-${to}`,
          at,
        });
      }
    };
    await startTraining('slow', minute(0));
    await startTraining('stuck', minute(5));
    await startTraining('fresh', minute(50));

    const stuck = await registry.versionsByStatus('TRAINING', { updatedBefore: minute(30) });
    const training = await registry.versionsByStatus('TRAINING');

    expect(stuck.map((v) => v.model)).toEqual(['slow', 'stuck']);
    expect(training.map((v) => v.model)).toEqual(['slow', 'stuck', 'fresh']);
    expect(await registry.versionsByStatus('VALIDATED')).toEqual([]);
  });
});

describe.concurrent('drift and incidents', () => {
  it('keep one drift evaluation per window, newest first', async () => {
    const { registry } = await freshRegistry({ pageSize: 2 });
    const evaluation = (at: string, drifted: boolean) => ({
      at,
      version: 1,
      method: 'psi',
      drifted,
      features: { tenure: { statistic: drifted ? 0.4 : 0.05, threshold: 0.2, drifted } },
      reportUri: `s3://reports/drift/${at}.json`,
      sourceEventId: `schedule-${at}`,
    });

    expect(await registry.putDrift('churn', evaluation(minute(0), false))).toEqual({ created: true });
    expect(await registry.putDrift('churn', evaluation(minute(60), true))).toEqual({ created: true });
    expect(await registry.putDrift('churn', evaluation(minute(120), false))).toEqual({ created: true });
    expect(await registry.putDrift('churn', evaluation(minute(60), true))).toEqual({ created: false });

    expect((await registry.listDrift('churn')).map((d) => d.at)).toEqual([
      minute(120),
      minute(60),
      minute(0),
    ]);
    expect((await registry.listDrift('churn', { since: minute(60) })).map((d) => d.drifted)).toEqual([
      false,
      true,
    ]);
    expect(await registry.listDrift('churn', { limit: 1 })).toMatchObject([
      { model: 'churn', at: minute(120), features: { tenure: { statistic: 0.05, drifted: false } } },
    ]);
  });

  it('open an incident once per alarm event and close it once', async () => {
    const { registry } = await freshRegistry();
    const alarm = {
      at: minute(3),
      alarmName: 'nbops-churn-latency',
      version: 2,
      reason: 'p99 latency above 200 ms for 3 periods',
      sourceEventId: 'alarm-evt-1',
      runbook: 'https://runbooks/churn',
    };

    const opened = await registry.putIncident('churn', alarm);
    const redelivered = await registry.putIncident('churn', alarm);
    await registry.putIncident('churn', { ...alarm, sourceEventId: 'alarm-evt-2', at: minute(4) });

    expect(opened.created).toBe(true);
    expect(redelivered).toEqual({ id: opened.id, created: false });
    expect((await registry.openIncidents('churn')).map((i) => i.sourceEventId)).toEqual([
      'alarm-evt-1',
      'alarm-evt-2',
    ]);

    const resolve = () =>
      registry.resolveIncident(
        'churn',
        { at: alarm.at, id: opened.id },
        { actor: 'ops', resolution: 'rolled back', at: minute(9) },
      );
    expect(await resolve()).toEqual({ changed: true });
    expect(await resolve()).toEqual({ changed: false });
    expect((await registry.openIncidents('churn')).map((i) => i.sourceEventId)).toEqual(['alarm-evt-2']);
    // The history keeps the resolved one, with who resolved it and how.
    expect(
      (await registry.listIncidents('churn')).map((i) => [i.sourceEventId, i.state, i.resolution]),
    ).toEqual([
      ['alarm-evt-1', 'RESOLVED', 'rolled back'],
      ['alarm-evt-2', 'OPEN', undefined],
    ]);
    await expect(
      registry.resolveIncident(
        'churn',
        { at: alarm.at, id: 'missing' },
        { actor: 'ops', resolution: 'x', at: minute(9) },
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
