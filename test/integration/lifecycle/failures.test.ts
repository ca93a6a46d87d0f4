// What goes wrong between upload and production, and what the registry, the outcome and the
// notification then say: failed gates, refused approvals, failed training, quota errors, a
// deployment SageMaker rolls back, a failed endpoint.
import { describe, expect, it } from 'vitest';
import { ApprovalRefusedError } from '#core/service/errors';
import { awsError } from './fake-sagemaker';
import { APPROVER, churnNotebook, harness, shipVersion, trainVersion, UPLOADER } from './harness';

const GOOD = { 'validation:auc': 0.9, 'validation:accuracy': 0.84, 'train:loss': 0.31 };
const v2Body = churnNotebook((nb) => {
  nb.metadata.nbops.parameters.seed = 11;
  nb.cells[2].source = ['epochs = 200\n', 'learning_rate = 0.1\n', 'seed = 11\n', 'n_rows = 5000'];
});

describe('quality gates', () => {
  it('stop a version below an absolute bound', async () => {
    const h = await harness();
    const { training } = await trainVersion(h, churnNotebook(), { ...GOOD, 'validation:auc': 0.7 });
    expect(training).toMatchObject({
      kind: 'gates-failed',
      version: 1,
      failed: [{ gate: 'validation:auc >= 0.75', passed: false, value: 0.7, threshold: 0.75 }],
    });
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.status).toBe('GATES_FAILED');
    expect(record?.lastChange?.reason).toContain('FAILED: validation:auc >= 0.75 (got 0.7)');
    expect(h.notifications.at(-1)).toMatchObject({
      severity: 'ticket',
      subject: expect.stringContaining('failed its quality gates'),
    });
    expect(h.takePublished()).toEqual([]);
    await expect(h.approve('churn', 1)).rejects.toMatchObject({ code: 'WRONG_STATE' });
  });

  it('stop a version worse than the champion by more than allowed', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await shipVersion(h, 1);
    // 0.85 passes the absolute gate (0.75) but is 0.05 below the champion's 0.9 (allowed: 0.02).
    const { training } = await trainVersion(h, v2Body, { ...GOOD, 'validation:auc': 0.85 });
    expect(training).toMatchObject({ kind: 'gates-failed', version: 2 });
    const gates = (await h.services.registry.getVersion('churn', 2))?.facts.gates;
    expect(gates?.passed).toBe(false);
    expect(gates?.results).toEqual([
      { gate: 'validation:auc >= 0.75', passed: true, value: 0.85, threshold: 0.75 },
      {
        gate: 'validation:auc no worse than the champion by 0.02',
        passed: false,
        value: 0.85,
        threshold: 0.88,
        detail: 'champion v1 has 0.9; higher is better, so validation:auc must be at least 0.88.',
      },
    ]);
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);
  });
});

describe('approvals', () => {
  it('refuse self-approval, non-approvers and unknown versions with machine-readable codes', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (err: unknown) => (err instanceof ApprovalRefusedError ? err.code : `unexpected ${String(err)}`),
      );
    expect(await refusal(h.approve('churn', 1, UPLOADER))).toBe('SELF_APPROVAL');
    expect(await refusal(h.approve('churn', 1, 'mallory@example.com'))).toBe('NOT_APPROVER');
    expect(await refusal(h.approve('churn', 9))).toBe('UNKNOWN_VERSION');
    expect(await refusal(h.approve('fraud', 1))).toBe('UNKNOWN_VERSION');
    await expect(h.approve('churn', 1, UPLOADER)).rejects.toThrow(/may not approve it: ask another approver/);
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('PENDING_APPROVAL');
    expect(h.takePublished()).toEqual([]);

    // A session of the approvers' role may approve; a retry of the same request changes nothing.
    const role = 'arn:aws:sts::123456789012:assumed-role/ml-release/bob';
    expect(await h.approve('churn', 1, role, 'approve', 'req-approve-1')).toMatchObject({
      kind: 'approved',
      changed: true,
    });
    expect(await h.approve('churn', 1, role, 'approve', 'req-approve-1')).toMatchObject({
      kind: 'approved',
      changed: false,
    });
    expect(await refusal(h.approve('churn', 1, APPROVER, 'decline'))).toBe('WRONG_STATE');
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.approval).toMatchObject({ approver: role, decision: 'approve', selfApproved: false });
  });

  it('a decline ends the version without deploying it', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    expect(await h.approve('churn', 1, APPROVER, 'decline')).toMatchObject({
      kind: 'declined',
      changed: true,
    });
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('DECLINED');
    expect(h.takePublished()).toEqual([]);
  });

  it('self-approval is allowed when the policy says so, and recorded as such', async () => {
    const h = await harness({ policy: { approval: { allowSelfApproval: true } } });
    await trainVersion(h, churnNotebook(), GOOD);
    await h.approve('churn', 1, UPLOADER);
    expect((await h.services.registry.getVersion('churn', 1))?.approval).toMatchObject({
      selfApproved: true,
    });
  });
});

describe('training failures', () => {
  it('record FailureReason verbatim with a hint naming the failing cell', async () => {
    const h = await harness();
    const submitted = await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()));
    const job = submitted.kind === 'training' ? submitted.trainingJobName : '';
    const reason =
      'AlgorithmError: cell 14: ZeroDivisionError: division by zero\n(cell id auc; executed notebook: output/data/churn.ipynb), exit code: 1';
    h.cloud.failJob(job, 'Failed', 'Failed', reason);
    const outcome = await h.training(h.trainingEvent(job));
    expect(outcome).toMatchObject({ kind: 'training-failed', version: 1 });
    if (outcome.kind !== 'training-failed') return;
    expect(outcome.reason).toContain(reason);
    expect(outcome.hint).toMatch(/^cell 14 of the notebook raised ZeroDivisionError: division by zero/);
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.status).toBe('TRAINING_FAILED');
    expect(record?.lastChange).toMatchObject({ actor: 'nbops:training', from: 'TRAINING' });
    expect(record?.lastChange?.reason).toContain(reason);
    expect(record?.lastChange?.reason).toContain('Hint: cell 14');
    expect(h.notifications.at(-1)).toMatchObject({ severity: 'ticket', version: 1 });
    expect(h.notifications.at(-1)?.message).toContain('What to do: cell 14');
    // Redelivered: same outcome, nothing new.
    expect(await h.training(h.trainingEvent(job))).toEqual(outcome);
  });

  it('explain a spot job that ran out of wait time', async () => {
    const h = await harness();
    const submitted = await h.submit(await h.upload('notebooks/churn/churn.ipynb', churnNotebook()));
    const job = submitted.kind === 'training' ? submitted.trainingJobName : '';
    h.cloud.failJob(job, 'Stopped', 'MaxWaitTimeExceeded');
    const outcome = await h.training(h.trainingEvent(job));
    expect(outcome).toMatchObject({
      kind: 'training-failed',
      hint: expect.stringContaining('training.spot.maxWait (2h)'),
    });
  });

  it('record the actionable message of a quota error from CreateTrainingJob', async () => {
    const h = await harness();
    h.cloud.failNext(
      'CreateTrainingJob',
      awsError(
        'ResourceLimitExceeded',
        "The account-level service limit 'ml.g5.xlarge for spot training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.",
      ),
    );
    const uploaded = await h.upload('notebooks/churn/churn.ipynb', churnNotebook());
    const outcome = await h.submit(uploaded);
    expect(outcome).toMatchObject({ kind: 'training-failed', version: 1 });
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.status).toBe('TRAINING_FAILED');
    expect(record?.lastChange?.reason).toMatch(
      /your account's quota for ml\.g5\.xlarge spot training instances is exhausted; request an increase in Service Quotas \(SageMaker, 'ml\.g5\.xlarge for spot training job usage'\)/,
    );
    expect(h.notifications.at(-1)).toMatchObject({
      severity: 'ticket',
      subject: expect.stringContaining('could not start training'),
    });
    expect(h.cloud.jobs.size).toBe(0);
    // A redelivery reports the same failure and does not try again (failures are not retried in place).
    expect(await h.submit(uploaded)).toEqual(outcome);
    expect(h.cloud.calls('CreateTrainingJob')).toBe(1);
  });
  it('end the version on access and validation errors from CreateTrainingJob, with what to fix', async () => {
    const h = await harness();
    const cases = [
      {
        model: 'churn-a',
        error: awsError(
          'AccessDeniedException',
          'User: arn:aws:sts::123456789012:assumed-role/nbops-submit/fn is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/nbops-sagemaker-execution',
        ),
        expected: /access denied: .*iam:PassRole.* Grant the missing permission/,
      },
      {
        model: 'churn-b',
        error: awsError(
          'ValidationException',
          'Image 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:9.9 does not exist.',
        ),
        expected: /AWS rejected the request as invalid: Image .* does not exist\.+ Fix the value it names/,
      },
    ];
    for (const { model, error, expected } of cases) {
      h.cloud.failNext('CreateTrainingJob', error);
      const body = churnNotebook((nb) => {
        nb.metadata.nbops.model.name = model;
      });
      expect(await h.submit(await h.upload(`notebooks/${model}/churn.ipynb`, body))).toMatchObject({
        kind: 'training-failed',
        model,
        reason: expect.stringMatching(expected),
      });
      expect((await h.services.registry.getVersion(model, 1))?.status).toBe('TRAINING_FAILED');
    }
  });
});

describe('deployment failures', () => {
  it('detects a deployment SageMaker rolled back, naming the alarm that fired', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await shipVersion(h, 1);
    await trainVersion(h, v2Body, { ...GOOD, 'validation:auc': 0.92 });
    await h.approve('churn', 2);
    const [deploying] = await h.deployPublished();
    expect(deploying).toMatchObject({ kind: 'deploying', version: 2, firstDeployment: false });

    // The canary's latency alarm fires; SageMaker shifts traffic back to v1's config.
    h.tick(120);
    h.alarmStates.set('nbops-churn-latency', 'ALARM');
    h.cloud.rollBack('churn');
    const outcome = await h.endpoint(h.endpointEvent('churn'));
    expect(outcome).toMatchObject({ kind: 'rolled-back', version: 2, restoredVersion: 1 });
    if (outcome.kind !== 'rolled-back') return;
    expect(outcome.reason).toMatch(
      /SageMaker rolled back the deployment: endpoint churn is InService on churn-v1-[0-9a-f]{8} \(v1\)/,
    );
    expect(outcome.reason).toContain('rollback alarm in ALARM: nbops-churn-latency');
    expect((await h.services.registry.getVersion('churn', 2))?.status).toBe('ROLLED_BACK');
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('DEPLOYED');
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);
    expect(h.notifications.at(-1)).toMatchObject({
      severity: 'ticket',
      subject: 'nbops: churn v2 was rolled back',
    });
  });

  it('records a failed first deployment, and a later version replaces the failed endpoint', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await h.approve('churn', 1);
    await h.deployPublished();
    h.cloud.failEndpoint(
      'churn',
      'Failed',
      'The primary container for production variant AllTraffic did not pass the ping health check.',
    );
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({
      kind: 'deploy-failed',
      version: 1,
      reason: expect.stringContaining('did not pass the ping health check'),
    });
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('DEPLOY_FAILED');

    // Only DeleteEndpoint is allowed on a failed endpoint: the next deployment deletes it, asks to
    // be retried, and creates it afresh once it is gone.
    await trainVersion(h, v2Body, GOOD);
    await h.approve('churn', 2);
    const [approved] = h.takePublished();
    await expect(h.deploy(approved!)).rejects.toMatchObject({ code: 'RETRY_LATER' });
    expect(h.log.filter((op) => op.startsWith('DeleteEndpoint'))).toEqual(['DeleteEndpoint churn']);
    h.tick(60); // Lambda's retry
    await expect(h.deploy(approved!)).rejects.toThrow(/endpoint churn is Deleting/);
    h.cloud.finishDelete('churn');
    h.tick(120);
    expect(await h.deploy(approved!)).toMatchObject({ kind: 'deploying', version: 2, firstDeployment: true });
    h.cloud.finishEndpoint('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({ kind: 'deployed', version: 2 });
    expect(h.cloud.calls('CreateEndpoint')).toBe(2);
  });

  it('waits while the endpoint is busy with another deployment', async () => {
    const h = await harness();
    await trainVersion(h, churnNotebook(), GOOD);
    await shipVersion(h, 1);
    h.cloud.endpoints.get('churn')!.status = 'SystemUpdating';
    await trainVersion(h, v2Body, GOOD);
    await h.approve('churn', 2);
    const [approved] = h.takePublished();
    await expect(h.deploy(approved!)).rejects.toThrow(
      /endpoint churn is SystemUpdating .* it is deployed when that operation ends/,
    );
    expect((await h.services.registry.getVersion('churn', 2))?.status).toBe('DEPLOYING');
    h.cloud.endpoints.get('churn')!.status = 'InService';
    h.tick(60);
    expect(await h.deploy(approved!)).toMatchObject({ kind: 'deploying', version: 2 });
    expect(h.cloud.calls('UpdateEndpoint')).toBe(1);
  });
});
