// The stuck-version sweep: nothing stays TRAINING or DEPLOYING forever. Lost events are recovered
// from what SageMaker says; truly stuck work is stopped and marked failed.
import { describe, expect, it } from 'vitest';
import { isRetryLater } from '#core/service/errors';
import { churnNotebook, harness, shipVersion, trainVersion } from './harness';

const GOOD = { 'validation:auc': 0.9, 'validation:accuracy': 0.84, 'train:loss': 0.31 };
const HOUR = 3600;

async function submitted(h: Awaited<ReturnType<typeof harness>>) {
  const outcome = await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()));
  if (outcome.kind !== 'training') throw new Error(JSON.stringify(outcome));
  return outcome.trainingJobName;
}

describe('sweepStuckVersions', () => {
  it('processes a finished job whose event was lost, once its limits have passed', async () => {
    const h = await harness();
    const job = await submitted(h);
    h.tick(HOUR);
    h.cloud.completeJob(job, GOOD); // ... and its state-change event never arrives
    // The churn job may take maxRuntime 1h + spot maxWait 2h, plus an hour of slack.
    h.tick(2 * HOUR);
    expect(await h.sweep()).toEqual({ marked: [], resolved: [], resent: [], errors: [] });
    h.tick(HOUR + 60);
    expect(await h.sweep()).toEqual({
      marked: [],
      resolved: [{ model: 'churn', version: 1, from: 'TRAINING', to: 'PENDING_APPROVAL' }],
      resent: [],
      errors: [],
    });
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.facts.metrics).toEqual(GOOD);
    const trail = await h.services.registry.auditTrail('churn');
    expect(trail.filter((e) => e.kind === 'transition' && e.to === 'TRAINED')[0]?.sourceEventId).toMatch(
      /^sched-/,
    );
    expect(h.notifications.at(-1)?.subject).toBe('nbops: churn v1 waits for approval');
    // The next sweep finds nothing left to do.
    expect(await h.sweep()).toEqual({ marked: [], resolved: [], resent: [], errors: [] });
  });

  it('stops a job still running past its limits and marks the version failed', async () => {
    const h = await harness();
    const job = await submitted(h);
    h.tick(4 * HOUR + 60);
    const outcome = await h.sweep();
    expect(outcome.marked).toEqual([
      {
        model: 'churn',
        version: 1,
        from: 'TRAINING',
        to: 'TRAINING_FAILED',
        reason: expect.stringMatching(
          /^stuck: training job churn-v1-[0-9a-f]{8} is still InProgress 4h1m after the version entered TRAINING, past its limit \(3h\) plus 1h; nbops stopped it/,
        ),
      },
    ]);
    expect(h.log).toContain(`StopTrainingJob ${job}`);
    expect((await h.services.registry.getVersion('churn', 1))?.lastChange?.actor).toBe('nbops:sweeper');
    expect(h.notifications.at(-1)).toMatchObject({
      severity: 'ticket',
      subject: 'nbops: churn v1 was stuck in TRAINING',
    });
  });

  it('marks a version whose job was never created', async () => {
    const h = await harness();
    h.cloud.failNext('CreateTrainingJob', new Error('Lambda timed out'));
    await expect(h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()))).rejects.toThrow();
    h.tick(5 * HOUR);
    const outcome = await h.sweep();
    expect(outcome.marked.map((m) => m.reason)).toEqual([
      expect.stringMatching(/^stuck: training job churn-v1-[0-9a-f]{8} was never created/),
    ]);
  });

  it('settles a deployment whose endpoint event was lost, and fails one that never finishes', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await h.approve('churn', 1);
    await h.deployPublished();
    h.cloud.finishEndpoint('churn'); // InService, but the event is lost
    // MaximumExecutionTimeoutInSeconds of the churn deployment is 2700 s, plus an hour of slack.
    h.tick(2700 + HOUR + 60);
    expect(await h.sweep()).toMatchObject({
      resolved: [{ model: 'churn', version: 1, from: 'DEPLOYING', to: 'DEPLOYED' }],
    });
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);

    // Version 2's update never completes.
    const v2 = churnNotebook((nb) => {
      nb.metadata.nbops.model.description = 'Retrained.';
    });
    await trainVersion(h, v2, GOOD);
    await h.approve('churn', 2);
    await h.deployPublished();
    h.tick(HOUR);
    expect((await h.sweep()).marked).toEqual([]);
    h.tick(2700 + 60);
    const outcome = await h.sweep();
    expect(outcome.marked).toEqual([
      expect.objectContaining({
        version: 2,
        from: 'DEPLOYING',
        to: 'DEPLOY_FAILED',
        reason: expect.stringMatching(
          /^stuck: endpoint churn is still Updating 1h46m\d* after the deployment started/,
        ),
      }),
    ]);
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);
  });

  it('sends a deployment that waited for a firing rollback alarm again, until it goes out', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await shipVersion(h, 1);
    const v2 = churnNotebook((nb) => {
      nb.metadata.nbops.model.description = 'Retrained.';
    });
    await trainVersion(h, v2, GOOD);
    // v1's latency alarm still fires (a canary failed minutes ago) when v2 is approved.
    h.alarmStates.set('nbops-churn-latency', 'ALARM');
    await h.approve('churn', 2);
    const [approval] = h.takePublished();
    // The delivery waits rather than start an update SageMaker would roll back at once; Lambda's
    // retries (a minute, then two later) wait too.
    await expect(h.deploy(approval!)).rejects.toThrow(
      /^rollback alarm nbops-churn-latency is in ALARM: SageMaker would roll version 2 back/,
    );
    for (const wait of [60, 120]) {
      h.tick(wait);
      await expect(h.deploy(approval!)).rejects.toSatisfy(isRetryLater);
    }
    expect((await h.services.registry.getVersion('churn', 2))?.status).toBe('DEPLOYING');
    expect(h.cloud.inputs('UpdateEndpoint')).toEqual([]);

    // Under 15 minutes nothing is sent again; then the approval is, each sweep while it waits.
    h.tick(600);
    expect((await h.sweep()).resent).toEqual([]);
    h.tick(360);
    expect(await h.sweep()).toEqual({
      marked: [],
      resolved: [],
      resent: [{ model: 'churn', version: 2, waitedSeconds: expect.any(Number) }],
      errors: [],
    });
    const [again] = h.takePublished();
    expect(again).toMatchObject({
      'detail-type': 'Version Approved',
      detail: { model: 'churn', version: 2, approvedBy: 'lead@example.com' },
    });
    await expect(h.deploy(again!)).rejects.toThrow(/in ALARM/);

    // The alarm clears: the next resend deploys v2 with its blue/green update.
    h.alarmStates.set('nbops-churn-latency', 'OK');
    h.tick(900);
    expect((await h.sweep()).resent).toHaveLength(1);
    const [third] = h.takePublished();
    expect(await h.deploy(third!)).toMatchObject({ kind: 'deploying', version: 2, firstDeployment: false });
    expect(h.cloud.inputs('UpdateEndpoint')).toHaveLength(1);
    // Sent now: the sweep leaves it to the endpoint events.
    h.tick(900);
    expect((await h.sweep()).resent).toEqual([]);
    expect(h.takePublished()).toEqual([]);
  });
});
