// The alarm handler on the registry (dynalite) and S3 (s3rver): incidents, notifications with
// context, and the policy (rollback within the window, retrain with cooldown and one in flight),
// under duplicate and out-of-order CloudWatch state changes.
import type { UpdateEndpointCommandInput } from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseRetrainRequested } from '#core/events/nbops';
import { onAlarmStateChange } from '#core/service/alarm';
import type { AlarmOutcome } from '#core/service/contracts';
import { retrainLineage, retrainModel } from '#core/service/retrain';
import { submitNotebook } from '#core/service/submit';
import { makeHandler as alarmHandler } from '../../../functions/alarm/index';
import { makeHandler as submitHandler } from '../../../functions/submit/index';
import { lambdaContext, testDeps } from '../../unit/handlers/support';
import { churnNotebook, type Harness, harness, trainVersion } from '../lifecycle/harness';
import { alarmEvent, deployedChurn, GOOD, objectCreated, recordAlarmCalls } from './support';

const PAGE = 'nbops-churn-burn-page';
const TICKET = 'nbops-churn-burn-ticket';
const LATENCY = 'nbops-churn-latency';
const DRIFT = 'nbops-churn-drift';

afterEach(() => {
  vi.restoreAllMocks();
});

function alarms(h: Harness) {
  const handler = alarmHandler({ ...testDeps('alarm'), services: () => h.services, onAlarmStateChange });
  return (event: object) => handler(event, lambdaContext('nbops-alarm')) as Promise<AlarmOutcome>;
}

/** A time `seconds` after the harness's now, ISO. */
const later = (h: Harness, seconds: number) => new Date(h.now().getTime() + seconds * 1000).toISOString();

async function status(h: Harness, version: number) {
  return (await h.services.registry.getVersion('churn', version))?.status;
}

describe('page alarms and rollback', () => {
  it('roll production back to the previous version when they fire within the rollback window', async () => {
    const h = await harness();
    recordAlarmCalls(h);
    await deployedChurn(h, 2);
    h.takePublished();
    const alarm = alarms(h);
    const before = h.notifications.length;

    h.alarmStates.set(PAGE, 'ALARM');
    const at = later(h, 600); // ten minutes after v2 went live; the window is 1h
    const event = alarmEvent(PAGE, 'ALARM', at, {
      reason: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:nbops-churn-errors-1h transitioned to ALARM',
      reasonData: {
        triggeringAlarms: [
          {
            arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:nbops-churn-errors-1h',
            state: { value: 'ALARM' },
          },
          {
            arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:nbops-churn-errors-5m',
            state: { value: 'ALARM' },
          },
        ],
      },
    });
    const outcome = await alarm(event);
    expect(outcome).toMatchObject({
      kind: 'incident',
      model: 'churn',
      alarmName: PAGE,
      version: 2,
      created: true,
      notified: true,
      policy: { action: 'rollback', fromVersion: 2, toVersion: 1 },
    });

    // The page: model, version, endpoint, the windows that breached with their thresholds, the
    // recent deployment, what nbops does, the runbook.
    const page = h.notifications.slice(before);
    expect(page).toHaveLength(1);
    expect(page[0]).toMatchObject({ severity: 'page', model: 'churn', version: 2 });
    expect(page[0]!.subject).toBe('nbops PAGE: churn v2 error budget burning fast');
    for (const text of [
      'Model churn, endpoint churn, version in production: v2.',
      'nbops-churn-errors-1h: threshold 7.2%',
      'nbops-churn-errors-5m: threshold 7.2%',
      'Recent deployment: v2 deployed',
      'approved by lead@example.com; it replaced v1.',
      'nbops is rolling back: v2 -> v1',
      'Runbook: https://wiki.example.com/ml/churn/runbook',
    ])
      expect(page[0]!.message).toContain(text);

    // Registry: the incident, v2 ROLLED_BACK by the alarm; v1 is redeployed through the deploy path.
    const [incident] = await h.services.registry.openIncidents('churn');
    expect(incident).toMatchObject({ alarmName: PAGE, at, version: 2, state: 'OPEN' });
    expect(await status(h, 2)).toBe('ROLLED_BACK');
    const published = h.takePublished();
    expect(published).toMatchObject([
      {
        'detail-type': 'Version Approved',
        detail: { model: 'churn', version: 1, approvedBy: 'nbops:rollback' },
      },
    ]);

    // The same change delivered again, and as a second event (another id): nothing twice.
    for (const again of [event, { ...event, id: 'another-delivery' }])
      expect(await alarm(again)).toMatchObject({ kind: 'incident', created: false, notified: false });
    expect(h.notifications).toHaveLength(before + 1);
    expect(await h.services.registry.openIncidents('churn')).toHaveLength(1);
    const republished = h.takePublished();

    // The deploy handler redeploys v1 all at once, without the rollback alarms that are firing.
    const deployed = await h.deploy(published[0]!);
    expect(deployed).toMatchObject({ kind: 'deploying', version: 1, firstDeployment: false });
    h.tick(60);
    for (const duplicate of republished)
      expect(await h.deploy(duplicate)).toMatchObject({ kind: 'deploying' });
    const updates = h.cloud.inputs<UpdateEndpointCommandInput>('UpdateEndpoint');
    expect(updates).toHaveLength(2); // v2's blue/green deployment, then the rollback
    expect(updates[1]!.DeploymentConfig).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        TerminationWaitInSeconds: expect.any(Number),
        MaximumExecutionTimeoutInSeconds: expect.any(Number),
      },
    });
    const trail = await h.services.registry.auditTrail('churn', { version: 1 });
    expect(trail.at(-1)).toMatchObject({ from: 'DEPLOYED', to: 'DEPLOYING', actor: 'nbops:rollback' });
    h.tick(120);
    h.cloud.finishEndpoint('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({ kind: 'deployed', version: 1 });
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);

    // Recovery closes the incident (an info notification, not a page).
    h.alarmStates.set(PAGE, 'OK');
    const ok = await alarm(alarmEvent(PAGE, 'OK', later(h, 900)));
    expect(ok).toMatchObject({ kind: 'resolved', incidents: [incident!.id] });
    expect(h.notifications.at(-1)).toMatchObject({ severity: 'info', subject: `nbops: ${PAGE} resolved` });
    expect(await h.services.registry.openIncidents('churn')).toEqual([]);

    // It fires again on v1: v1 was put back by a rollback, so nbops does not roll back again.
    h.alarmStates.set(PAGE, 'ALARM');
    expect(await alarm(alarmEvent(PAGE, 'ALARM', later(h, 1000)))).toMatchObject({
      created: true,
      notified: true,
      policy: { action: 'none', reason: expect.stringContaining('v1 was itself restored by a rollback') },
    });
    expect(h.takePublished()).toEqual([]);
  });

  it('page, but do not roll back, outside the rollback window or without an earlier version', async () => {
    const h = await harness();
    await deployedChurn(h, 2);
    h.takePublished();
    const alarm = alarms(h);
    h.alarmStates.set(LATENCY, 'ALARM');
    h.tick(2 * 3600); // the window is 1h
    const outcome = await alarm(
      alarmEvent(LATENCY, 'ALARM', later(h, 0), {
        reasonData: { statistic: 'p99', recentDatapoints: [350_000, 420_500], threshold: 200_000 },
      }),
    );
    expect(outcome).toMatchObject({
      created: true,
      notified: true,
      policy: {
        action: 'none',
        reason: expect.stringMatching(
          /^v2 was deployed 2h\d*m?\d*s? before the alarm, outside its rollback window of 1h$/,
        ),
      },
    });
    const page = h.notifications.at(-1)!;
    expect(page).toMatchObject({
      severity: 'page',
      subject: 'nbops PAGE: churn v2 latency above its objective',
    });
    expect(page.message).toContain('Model latency (p99) was 350 ms, 420.5 ms; the objective is 200 ms.');
    expect(page.message).toContain('No automatic action: v2 was deployed');
    expect(await status(h, 2)).toBe('DEPLOYED');
    expect(h.takePublished()).toEqual([]);

    const first = await harness();
    await deployedChurn(first, 1);
    first.alarmStates.set(LATENCY, 'ALARM');
    expect(await alarms(first)(alarmEvent(LATENCY, 'ALARM', later(first, 60)))).toMatchObject({
      policy: { action: 'none', reason: 'there is no earlier version to roll back to (v1 is the first)' },
    });
  });
});

describe("page alarms during and after another version's canary", () => {
  it('leave the fresh champion in place while the canary may be what they count', async () => {
    const h = await harness();
    await deployedChurn(h, 2); // v2 went live just now: its rollback window (1h) is open
    const v3 = churnNotebook((nb) => {
      nb.metadata.nbops.parameters.epochs = 300;
      nb.cells[2].source = ['epochs = 300\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
    });
    await trainVersion(h, v3, GOOD);
    await h.approve('churn', 3);
    expect(await h.deployPublished()).toMatchObject([{ kind: 'deploying', version: 3 }]);
    h.takePublished();
    const alarm = alarms(h);

    // v3's canary errors: the page composite fires during the deployment.
    h.alarmStates.set(PAGE, 'ALARM');
    expect(await alarm(alarmEvent(PAGE, 'ALARM', later(h, 60)))).toMatchObject({
      created: true,
      notified: true,
      version: 2,
      policy: {
        action: 'none',
        reason: expect.stringContaining('the alarm fired while v3 was being deployed'),
      },
    });
    expect(h.notifications.at(-1)!.message).toContain('the alarm fired while v3 was being deployed');

    // SageMaker rolls v3 back; ten minutes later the composite fires again (its 30-minute window
    // still holds the canary's errors): still not v2's doing.
    h.tick(120);
    h.alarmStates.set(LATENCY, 'ALARM');
    h.cloud.rollBack('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({ kind: 'rolled-back', version: 3 });
    expect(await alarm(alarmEvent(PAGE, 'ALARM', later(h, 600)))).toMatchObject({
      policy: {
        action: 'none',
        reason: expect.stringMatching(
          /^the alarm fired 10m after v3's deployment was rolled back, while its windows \(30m\)/,
        ),
      },
    });
    expect(await status(h, 2)).toBe('DEPLOYED');
    expect(h.takePublished()).toEqual([]);

    // Six minutes after the rollback, the latency alarm (which looks back 5 minutes) judges v2
    // alone: inside v2's window, so production goes back to v1.
    expect(await alarm(alarmEvent(LATENCY, 'ALARM', later(h, 360)))).toMatchObject({
      policy: { action: 'rollback', fromVersion: 2, toVersion: 1 },
    });
    expect(await status(h, 2)).toBe('ROLLED_BACK');
    expect(h.takePublished()).toMatchObject([
      { 'detail-type': 'Version Approved', detail: { version: 1, approvedBy: 'nbops:rollback' } },
    ]);
  });
});

describe('duplicate and out-of-order state changes', () => {
  it('an OK older than the ALARM it follows changes nothing; a late ALARM that already recovered stays quiet', async () => {
    const h = await harness();
    await deployedChurn(h, 2);
    h.takePublished();
    const alarm = alarms(h);
    const notified = h.notifications.length;
    const t = (minutes: number) => later(h, 7200 + minutes * 60); // past the rollback window

    // ALARM at t10, then a late OK from t5 (before it): the incident stays open.
    h.alarmStates.set(PAGE, 'ALARM');
    const opened = await alarm(alarmEvent(PAGE, 'ALARM', t(10)));
    expect(opened).toMatchObject({ kind: 'incident', created: true, notified: true });
    expect(await alarm(alarmEvent(PAGE, 'OK', t(5)))).toMatchObject({ kind: 'resolved', incidents: [] });
    expect(await h.services.registry.openIncidents('churn')).toHaveLength(1);
    // The OK at t20 closes it, once.
    h.alarmStates.set(PAGE, 'OK');
    const okEvent = alarmEvent(PAGE, 'OK', t(20));
    expect((await alarm(okEvent)) as AlarmOutcome).toMatchObject({ incidents: [expect.any(String)] });
    expect(await alarm(okEvent)).toMatchObject({ kind: 'resolved', incidents: [] });
    expect(await h.services.registry.openIncidents('churn')).toEqual([]);

    // An ALARM from t15 delivered after the OK of t20: CloudWatch says OK now, so it is recorded
    // closed, with no page and no action.
    expect(await alarm(alarmEvent(PAGE, 'ALARM', t(15)))).toMatchObject({
      kind: 'incident',
      notified: false,
      policy: {
        action: 'none',
        reason: expect.stringContaining('recovered before nbops handled this change'),
      },
    });
    expect(await h.services.registry.openIncidents('churn')).toEqual([]);
    // Pages: one for t10; the info for its resolution. Nothing for the duplicates or the late ALARM.
    expect(h.notifications.slice(notified).map((n) => n.severity)).toEqual(['page', 'info']);

    // ALARM -> INSUFFICIENT_DATA -> ALARM is one incident, paged once.
    h.alarmStates.set(LATENCY, 'ALARM');
    expect(await alarm(alarmEvent(LATENCY, 'ALARM', t(30)))).toMatchObject({ created: true, notified: true });
    expect(await alarm(alarmEvent(LATENCY, 'INSUFFICIENT_DATA', t(31)))).toMatchObject({ kind: 'ignored' });
    expect(await alarm(alarmEvent(LATENCY, 'ALARM', t(32)))).toMatchObject({
      created: false,
      notified: false,
    });
    expect((await h.services.registry.openIncidents('churn')).map((i) => i.alarmName)).toEqual([LATENCY]);
  });

  it('mutes the ticket while the page fires, and leaves window alarms and foreign alarms to others', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    const alarm = alarms(h);
    h.tick(7200);
    h.alarmStates.set(PAGE, 'ALARM');
    h.alarmStates.set(TICKET, 'ALARM');
    const before = h.notifications.length;
    expect(await alarm(alarmEvent(TICKET, 'ALARM', later(h, 0)))).toMatchObject({
      kind: 'incident',
      created: true,
      notified: false,
    });
    expect(h.notifications).toHaveLength(before);
    h.alarmStates.set(PAGE, 'OK');
    h.alarmStates.set(TICKET, 'OK');
    h.alarmStates.set('nbops-churn-errors-1h', 'ALARM');
    expect(await alarm(alarmEvent('nbops-churn-errors-1h', 'ALARM', later(h, 60)))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('one window of a burn-rate pair'),
    });
    expect(await alarm(alarmEvent('nbops-nosuchmodel-latency', 'ALARM', later(h, 60)))).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('not registered'),
    });
    expect(await alarm(alarmEvent('payments-api-5xx', 'ALARM', later(h, 60)))).toMatchObject({
      kind: 'ignored',
    });
  });
});

describe('drift alarm and retrain', () => {
  it('asks for a retrain of the champion, never two in flight, and not again within the cooldown', async () => {
    const h = await harness();
    await deployedChurn(h, 1);
    h.takePublished();
    const alarm = alarms(h);
    const submit = submitHandler({
      ...testDeps('submit'),
      services: () => h.services,
      submitNotebook,
      retrain: retrainModel,
    });
    await h.services.registry.putDrift('churn', {
      at: later(h, -60),
      version: 1,
      method: 'auto',
      drifted: true,
      features: { contract: { statistic: 0.31, threshold: 0.1, drifted: true } },
      reportUri: `s3://${h.bucket}/drift/churn/x/report.html`,
      sourceEventId: 'exec-1',
    });

    h.alarmStates.set(DRIFT, 'ALARM');
    const first = await alarm(
      alarmEvent(DRIFT, 'ALARM', later(h, 0), { reasonData: { recentDatapoints: [1], threshold: 1 } }),
    );
    expect(first).toMatchObject({ created: true, notified: true, policy: { action: 'retrain', version: 1 } });
    const ticket = h.notifications.at(-1)!;
    expect(ticket).toMatchObject({ severity: 'ticket', subject: 'nbops TICKET: churn v1 data drift' });
    expect(ticket.message).toContain('  - contract: statistic 0.31 (threshold 0.1)');
    expect(ticket.message).toContain(`Report: s3://${h.bucket}/drift/churn/x/report.html`);
    const [request] = h.takePublished();
    expect(request).toMatchObject({
      'detail-type': 'Retrain Requested',
      detail: { model: 'churn', version: 1, requestedBy: `alarm:${DRIFT}` },
    });

    // The submit handler takes the request: v1's immutable notebook goes up again as a new upload.
    const submitted = await submit(request!, lambdaContext());
    expect(submitted).toMatchObject({
      kind: 'retrain-submitted',
      model: 'churn',
      retrainOf: 1,
      created: true,
    });
    const uri = submitted.kind === 'retrain-submitted' ? submitted.notebookUri : '';
    const key = uri.replace(`s3://${h.bucket}/`, '');
    expect(key).toMatch(/^notebooks\/churn\/churn\.retrain-v1-[0-9a-f]{8}\.ipynb$/);
    const copy = await h.services.store.getBytes(
      { bucket: h.bucket, key: 'versions/churn/v1/notebook/churn.ipynb' },
      { maxBytes: 1e7 },
    );
    const uploaded = await h.services.store.getBytes({ bucket: h.bucket, key }, { maxBytes: 1e7 });
    expect(Buffer.from(uploaded).equals(Buffer.from(copy))).toBe(true);
    expect((await h.services.store.head({ bucket: h.bucket, key }))?.metadata).toMatchObject({
      'nbops-retrain-of': '1',
      'nbops-requested-by': `alarm:${DRIFT}`,
    });
    // Redelivered: nothing new.
    expect(await submit(request!, lambdaContext())).toMatchObject({
      kind: 'retrain-submitted',
      created: false,
    });

    // The upload's own S3 event submits it: version 2, training, with its lineage in the registry.
    const v2 = await h.submit(await objectCreated(h, key));
    expect(v2).toMatchObject({ kind: 'training', model: 'churn', version: 2 });
    const record = await h.services.registry.getVersion('churn', 2);
    expect(retrainLineage(record?.facts.notebook?.key)).toMatchObject({ retrainOf: 1 });

    // Drift fires again while v2 trains: no second retrain.
    h.alarmStates.set(DRIFT, 'OK');
    await alarm(alarmEvent(DRIFT, 'OK', later(h, 60)));
    h.alarmStates.set(DRIFT, 'ALARM');
    expect(await alarm(alarmEvent(DRIFT, 'ALARM', later(h, 120)))).toMatchObject({
      policy: { action: 'none', reason: 'a retrain is already in flight (v2 is TRAINING)' },
    });
    // A direct request is refused too (an operator's, which the cooldown does not apply to).
    expect(
      await retrainModel(
        h.services,
        parseRetrainRequested({
          ...request!,
          id: 'operator-request',
          detail: { model: 'churn', requestedBy: 'alice', reason: 'again' },
        }),
      ),
    ).toMatchObject({
      kind: 'ignored',
      reason: expect.stringContaining('already in flight: v2 is TRAINING'),
    });

    // v2 trains and is declined: no longer in flight, but the cooldown (24h) still holds.
    h.tick(600);
    h.cloud.completeJob(record!.facts.trainingJob!.name, GOOD);
    const job = (await h.services.registry.getVersion('churn', 2))!.facts.trainingJob!.name;
    expect(await h.training(h.trainingEvent(job))).toMatchObject({ kind: 'pending-approval', version: 2 });
    await h.approve('churn', 2, undefined, 'decline');
    h.alarmStates.set(DRIFT, 'OK');
    await alarm(alarmEvent(DRIFT, 'OK', later(h, 60)));
    h.alarmStates.set(DRIFT, 'ALARM');
    expect(await alarm(alarmEvent(DRIFT, 'ALARM', later(h, 120)))).toMatchObject({
      policy: { action: 'none', reason: expect.stringContaining('the cooldown is 1d') },
    });
    expect(h.takePublished()).toEqual([]);

    // A day later it may retrain again.
    h.tick(25 * 3600);
    h.alarmStates.set(DRIFT, 'OK');
    await alarm(alarmEvent(DRIFT, 'OK', later(h, 0)));
    h.alarmStates.set(DRIFT, 'ALARM');
    expect(await alarm(alarmEvent(DRIFT, 'ALARM', later(h, 60)))).toMatchObject({
      policy: { action: 'retrain', version: 1 },
    });
    expect(h.takePublished()).toHaveLength(1);
  });
});
