// At-least-once delivery: every event delivered three times at once, events out of order, and
// deliveries that crash midway all end in the registry state of a clean run, with one training job
// per version and one CreateEndpoint/UpdateEndpoint per deployment.
import { describe, expect, it } from 'vitest';
import { RetryLaterError } from '#core/service/errors';
import {
  APPROVER,
  churnNotebook,
  deliverConcurrently,
  type Harness,
  harness,
  registrySnapshot,
} from './harness';

const METRICS = { 'validation:auc': 0.9, 'validation:accuracy': 0.84, 'train:loss': 0.31 };
const V2 = churnNotebook((nb) => {
  nb.metadata.nbops.parameters.seed = 7;
  nb.cells[2].source = ['epochs = 200\n', 'learning_rate = 0.1\n', 'seed = 7\n', 'n_rows = 5000'];
});

type Deliver = <T>(deliver: () => Promise<T>) => Promise<T[]>;
const once: Deliver = async (deliver) => [await deliver()];
const threeAtOnce: Deliver = (deliver) => deliverConcurrently(3, deliver);

/** Two versions from upload to production, every event handed to `deliver`. */
async function story(h: Harness, deliver: Deliver): Promise<void> {
  for (const [version, body] of [
    [1, churnNotebook()],
    [2, V2],
  ] as const) {
    const uploaded = await h.upload('notebooks/churn/churn.ipynb', body);
    const submitted = await deliver(() => h.submit(uploaded));
    expect(submitted.map((s) => s.kind)).toEqual(submitted.map(() => 'training'));
    const job = submitted[0]!.kind === 'training' ? submitted[0]!.trainingJobName : '';
    h.tick(900);
    h.cloud.completeJob(job, { ...METRICS, 'validation:auc': 0.9 + version / 100 });
    const trainingEvent = h.trainingEvent(job);
    const trained = await deliver(() => h.training(trainingEvent));
    expect(new Set(trained.map((t) => t.kind))).toEqual(new Set(['pending-approval']));

    const requestId = h.nextId('approval');
    await deliver(() => h.approve('churn', version, APPROVER, 'approve', requestId));
    for (const approved of h.takePublished()) {
      const deployed = await deliver(() => h.deploy(approved));
      expect(deployed.every((d) => d.kind === 'deploying')).toBe(true);
    }
    h.tick(600);
    if (version === 2) {
      const baking = h.endpointEvent('churn', 'deployment');
      await deliver(() => h.endpoint(baking));
    }
    h.cloud.finishEndpoint('churn');
    const inService = h.endpointEvent('churn');
    const settled = await deliver(() => h.endpoint(inService));
    expect(settled.every((s) => s.kind === 'deployed')).toBe(true);
  }
}

/** The create/update calls that reached SageMaker, endpoint config hashes (which cover the bucket) left out. */
const changes = (h: Harness) =>
  h.log
    .filter((op) => op.startsWith('Create') || op.startsWith('Update'))
    .map((op) =>
      op.startsWith('CreateTrainingJob') ? op : op.replace(/(churn-v\d+)-[0-9a-f]{8}/g, '$1-<hash>'),
    );

describe('at-least-once delivery', () => {
  it('every event three times at once ends as a clean run does, with one job and one endpoint call each', async () => {
    const clean = await harness();
    await story(clean, once);
    const noisy = await harness();
    // Slow enough that the delivery doing a step is still at it when its duplicates arrive.
    noisy.cloud.latencyMs = 15;
    await story(noisy, threeAtOnce);

    expect(await registrySnapshot(noisy)).toEqual(await registrySnapshot(clean));
    for (const h of [clean, noisy]) {
      expect(h.cloud.jobs.size).toBe(2);
      expect(h.cloud.calls('CreateTrainingJob')).toBe(2);
      expect(h.cloud.calls('CreateEndpoint')).toBe(1);
      expect(h.cloud.calls('UpdateEndpoint')).toBe(1);
      expect(changes(h)).toEqual(changes(clean));
    }
    // One notification per change, not per delivery.
    expect(noisy.notifications.map((n) => n.subject)).toEqual(clean.notifications.map((n) => n.subject));
    const snapshot = (await registrySnapshot(noisy)) as { aliases: object; versions: { status: string }[] };
    expect(snapshot.aliases).toEqual({ champion: 2 });
    expect(snapshot.versions.map((v) => v.status)).toEqual(['DEPLOYED', 'DEPLOYED']);
  });

  it('a training-complete event that overtakes the submit step ends in the same state', async () => {
    const h = await harness();
    const early: string[] = [];
    h.cloud.afterCreateTrainingJob = async (name) => {
      // SageMaker finishes (and reports) before CreateTrainingJob's answer reaches submit.
      h.cloud.completeJob(name, METRICS);
      early.push((await h.training(h.trainingEvent(name))).kind);
    };
    const submitted = await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()));
    expect(early).toEqual(['pending-approval']);
    expect(submitted).toMatchObject({ kind: 'training', version: 1 });

    const clean = await harness();
    const cleanSubmit = await clean.submit(
      await clean.upload('notebooks/churn/churn.ipynb', churnNotebook()),
    );
    const job = cleanSubmit.kind === 'training' ? cleanSubmit.trainingJobName : '';
    clean.cloud.completeJob(job, METRICS);
    await clean.training(clean.trainingEvent(job));

    expect(await registrySnapshot(h)).toEqual(await registrySnapshot(clean));
    expect(h.cloud.calls('CreateTrainingJob')).toBe(1);
  });

  it('late and duplicated endpoint events after DEPLOYED change nothing', async () => {
    const h = await harness();
    await story(h, once);
    const before = await registrySnapshot(h);
    // An Updating event from the finished deployment, delivered late, and an old InService event.
    const endpoint = h.cloud.endpoints.get('churn')!;
    endpoint.status = 'Updating';
    const lateUpdating = h.endpointEvent('churn', 'deployment');
    endpoint.status = 'InService';
    expect(await h.endpoint(lateUpdating)).toMatchObject({ kind: 'ignored' });
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({ kind: 'ignored' });
    // A training event for a version long deployed.
    const job = (await h.services.registry.getVersion('churn', 1))!.facts.trainingJob!.name;
    expect(await h.training(h.trainingEvent(job))).toEqual({ kind: 'approved', model: 'churn', version: 1 });
    // An approval event delivered again after the deployment finished.
    expect(
      await h.deploy({
        version: '0',
        id: 'evb-late',
        'detail-type': 'Version Approved',
        source: 'nbops',
        account: '123456789012',
        time: h.now().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: { model: 'churn', version: 2, approvedBy: APPROVER },
      }),
    ).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('DEPLOYED') });
    expect(await registrySnapshot(h)).toEqual(before);
    expect(h.cloud.calls('UpdateEndpoint')).toBe(1);
  });

  it('a submit that crashed after registering, or while starting the job, resumes on redelivery', async () => {
    let crashes = 1;
    const h = await harness({
      registry: {
        hooks: {
          afterRegisterStep(step) {
            if (step === 'version-created' && crashes-- > 0) throw new Error('Lambda timed out');
          },
        },
      },
    });
    const uploaded = await h.upload('notebooks/churn/churn.ipynb', churnNotebook());
    await expect(h.submit(uploaded)).rejects.toThrow('Lambda timed out');
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('RECEIVED');

    // Next, the delivery dies while sending CreateTrainingJob: TRAINING, but no job.
    h.cloud.failNext('CreateTrainingJob', new Error('Lambda timed out'));
    await expect(h.submit(uploaded)).rejects.toThrow('Lambda timed out');
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('TRAINING');
    expect(h.cloud.jobs.size).toBe(0);
    // A redelivery right away cannot tell a crashed delivery from one still at work: it asks to be retried.
    await expect(h.submit(uploaded)).rejects.toBeInstanceOf(RetryLaterError);
    expect(h.cloud.calls('CreateTrainingJob')).toBe(1);
    // Lambda retries about a minute later and creates the job.
    h.tick(60);
    expect(await h.submit(uploaded)).toMatchObject({ kind: 'training', version: 1 });
    expect(h.cloud.jobs.size).toBe(1);
    // Once more, as a late duplicate: the job is found, not created again.
    expect(await h.submit(uploaded)).toMatchObject({ kind: 'training', version: 1 });
    expect(h.cloud.calls('CreateTrainingJob')).toBe(2);
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.facts.trainingJob?.arn).toMatch(/:training-job\/churn-v1-/);
    expect(
      (await h.services.registry.auditTrail('churn')).map((e) => e.kind === 'transition' && e.to),
    ).toEqual([false, 'VALIDATED', 'TRAINING']);
  });

  it('a lost CreateTrainingJob answer retried by the adapter finds its own job ("already exists" = success)', async () => {
    const h = await harness();
    h.cloud.afterCreateTrainingJob = async () => {
      h.cloud.afterCreateTrainingJob = undefined;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    expect(await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()))).toMatchObject({
      kind: 'training',
    });
    expect(h.cloud.calls('CreateTrainingJob')).toBe(2);
    expect(h.cloud.jobs.size).toBe(1);
  });
});
