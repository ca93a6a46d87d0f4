// Upload to production: a notebook uploaded to S3 becomes version 1 (first deployment: CreateEndpoint),
// a second upload becomes version 2 (blue/green UpdateEndpoint with the rollback alarms), and the
// registry answers what is in production, from which notebook and data, approved by whom.
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { UpdateEndpointCommandInput } from '@aws-sdk/client-sagemaker';
import { describe, expect, inject, it } from 'vitest';
import { localS3Client } from '#adapters/local/emulators';
import { APPROVER, churnNotebook, harness, START, trainVersion, UPLOADER } from './harness';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const GOOD = { 'validation:auc': 0.9, 'validation:accuracy': 0.84, 'train:loss': 0.31 };

describe('a notebook from upload to DEPLOYED', () => {
  it('trains, waits for approval, deploys with CreateEndpoint, then replaces it blue/green with UpdateEndpoint', async () => {
    const h = await harness();
    const v1Body = churnNotebook();

    // Version 1: submit -> TRAINING with one training job built from the manifest.
    const submitted = await h.submit(await h.upload('notebooks/churn/churn.ipynb', v1Body));
    expect(submitted).toMatchObject({ kind: 'training', model: 'churn', version: 1 });
    const job1 = submitted.kind === 'training' ? submitted.trainingJobName : '';
    expect(job1).toBe(`churn-v1-${sha256(v1Body).slice(0, 8)}`);
    const [jobRequest] = h.cloud.inputs<Record<string, unknown>>('CreateTrainingJob');
    expect(jobRequest).toMatchObject({
      TrainingJobName: job1,
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1 },
      EnableManagedSpotTraining: true,
      InputDataConfig: expect.arrayContaining([
        expect.objectContaining({
          ChannelName: 'notebook',
          DataSource: {
            S3DataSource: expect.objectContaining({ S3Uri: `s3://${h.bucket}/versions/churn/v1/notebook/` }),
          },
        }),
      ]),
    });
    // The immutable copy training reads is byte-identical to the upload, and the reports are stored.
    const s3 = localS3Client(inject('emulators').s3Endpoint);
    const copy = await s3.send(
      new GetObjectCommand({ Bucket: h.bucket, Key: 'versions/churn/v1/notebook/churn.ipynb' }),
    );
    expect(sha256(await copy.Body!.transformToByteArray())).toBe(sha256(v1Body));
    const report = await s3.send(
      new GetObjectCommand({ Bucket: h.bucket, Key: 'versions/churn/v1/reports/validation.json' }),
    );
    expect(JSON.parse(await report.Body!.transformToString())).toMatchObject({
      files: [{ path: 'notebooks/churn/churn.ipynb', valid: true }],
    });

    // Training completes: metrics, artifact, billed time recorded; manual approval requested.
    h.tick(900);
    h.cloud.completeJob(job1, GOOD, { training: 900, billable: 360 });
    expect(await h.training(h.trainingEvent(job1))).toEqual({
      kind: 'pending-approval',
      model: 'churn',
      version: 1,
    });
    const trained = await h.services.registry.getVersion('churn', 1);
    expect(trained?.status).toBe('PENDING_APPROVAL');
    expect(trained?.facts).toMatchObject({
      metrics: GOOD,
      artifact: { uri: `s3://${h.bucket}/versions/churn/v1/training/${job1}/output/model.tar.gz` },
      billableSeconds: 360,
      trainingJob: { name: job1, arn: `arn:aws:sagemaker:us-east-1:123456789012:training-job/${job1}` },
      gates: { passed: true },
    });
    expect(h.notifications.at(-1)).toMatchObject({ severity: 'ticket', model: 'churn', version: 1 });
    expect(h.notifications.at(-1)?.message).toContain('validation:auc=0.9');

    // Approval by an approver publishes "Version Approved"; deploying it creates the endpoint.
    expect(await h.approve('churn', 1)).toMatchObject({
      kind: 'approved',
      decidedBy: APPROVER,
      changed: true,
    });
    const published = h.takePublished();
    expect(published).toEqual([
      expect.objectContaining({
        source: 'nbops',
        'detail-type': 'Version Approved',
        detail: { model: 'churn', version: 1, approvedBy: APPROVER, reason: 'metrics look good' },
      }),
    ]);
    const deploy1 = await h.deploy(published[0]!);
    expect(deploy1).toMatchObject({ kind: 'deploying', firstDeployment: true, endpointName: 'churn' });
    expect(h.cloud.calls('CreateEndpoint')).toBe(1);
    expect(h.cloud.calls('UpdateEndpoint')).toBe(0);
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({
      kind: 'in-progress',
      status: 'Creating',
    });
    h.tick(420);
    h.cloud.finishEndpoint('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toEqual({
      kind: 'deployed',
      model: 'churn',
      version: 1,
    });
    expect((await h.services.registry.getModel('churn'))?.aliases.champion).toBe(1);

    // Version 2 of the same notebook (changed parameters), better metrics.
    const customers = {
      uri: 's3://ml-data/churn/customers-2025-02.csv',
      versionId: 'Wb9dXm5Yx1bY2tz4kXW.GgmdTj2sSvi_',
    };
    const v2Body = churnNotebook((nb) => {
      nb.metadata.nbops.data = [{ name: 'customers', contentType: 'text/csv', ...customers }];
      nb.metadata.nbops.parameters.epochs = 300;
      nb.cells[2].source = ['epochs = 300\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
    });
    const v2 = await trainVersion(h, v2Body, { ...GOOD, 'validation:auc': 0.91 });
    expect(v2).toMatchObject({ version: 2, training: { kind: 'pending-approval' } });
    await h.approve('churn', 2);
    h.log.length = 0;
    const [deploy2] = await h.deployPublished();
    expect(deploy2).toMatchObject({ kind: 'deploying', version: 2, firstDeployment: false });
    const config2 = deploy2?.kind === 'deploying' ? deploy2.endpointConfigName : '';
    expect(h.cloud.calls('CreateEndpoint')).toBe(1);
    // The rollback alarms exist before UpdateEndpoint names them.
    expect(h.log).toEqual([
      'CreateModel churn-v2',
      `CreateEndpointConfig ${config2}`,
      'PutMetricAlarm nbops-churn-latency',
      'PutMetricAlarm nbops-churn-errors-5m',
      'PutMetricAlarm nbops-churn-errors-30m',
      'PutMetricAlarm nbops-churn-errors-1h',
      'PutMetricAlarm nbops-churn-errors-2h',
      'PutMetricAlarm nbops-churn-errors-6h',
      'PutMetricAlarm nbops-churn-errors-1d',
      'PutMetricAlarm nbops-churn-drift',
      `UpdateEndpoint churn ${config2}`,
    ]);
    const [update] = h.cloud.inputs<UpdateEndpointCommandInput>('UpdateEndpoint');
    expect(update?.DeploymentConfig).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: 50 },
          WaitIntervalInSeconds: 300,
        },
        TerminationWaitInSeconds: 300,
        MaximumExecutionTimeoutInSeconds: 2700,
      },
      AutoRollbackConfiguration: {
        Alarms: [{ AlarmName: 'nbops-churn-latency' }, { AlarmName: 'nbops-churn-errors-5m' }],
      },
    });

    // The deployment bakes (an Updating event changes nothing), then the new config serves.
    expect(await h.endpoint(h.endpointEvent('churn', 'deployment'))).toMatchObject({
      kind: 'in-progress',
      version: 2,
      status: 'Updating',
    });
    h.tick(900);
    h.cloud.finishEndpoint('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toEqual({
      kind: 'deployed',
      model: 'churn',
      version: 2,
    });
    const model = await h.services.registry.getModel('churn');
    expect(model?.aliases.champion).toBe(2);
    expect((await h.services.registry.getVersion('churn', 1))?.status).toBe('DEPLOYED');
    expect((await h.services.registry.getVersion('churn', 2))?.facts.deployment).toEqual({
      modelName: 'churn-v2',
      endpointConfigName: config2,
      endpointName: 'churn',
    });

    // The audit trail: every step, who did it, and from which event.
    const trail = await h.services.registry.auditTrail('churn', { version: 2 });
    expect(trail.map((e) => [e.kind === 'alias' ? `champion=${e.version}` : e.to, e.actor])).toEqual([
      ['RECEIVED', UPLOADER],
      ['VALIDATED', 'nbops:submit'],
      ['TRAINING', 'nbops:submit'],
      ['TRAINED', 'nbops:training'],
      ['GATES_PASSED', 'nbops:training'],
      ['PENDING_APPROVAL', 'nbops:training'],
      ['APPROVED', APPROVER],
      ['DEPLOYING', 'nbops:deploy'],
      ['DEPLOYED', 'nbops:endpoint'],
      ['champion=2', 'nbops:endpoint'],
    ]);
    expect(trail.every((e) => e.sourceEventId !== '' && e.reason !== '')).toBe(true);
    expect(trail.find((e) => e.kind === 'transition' && e.to === 'DEPLOYING')?.reason).toContain(
      'replacing champion v1',
    );
    expect(new Set(trail.map((e) => e.at)).size).toBeGreaterThan(1);
    expect(trail[0]!.at >= START.toISOString()).toBe(true);

    // What is in production for churn, from which notebook hash and data, approved by whom: one read.
    h.db.sent.clear();
    const summary = await h.services.registry.productionSummary('churn');
    expect([...h.db.sent]).toEqual([['Query', 1]]);
    expect(summary?.champion).toMatchObject({
      version: 2,
      uploader: UPLOADER,
      notebook: { bucket: h.bucket, key: 'notebooks/churn/churn.ipynb', sha256: sha256(v2Body) },
      trainingJob: { name: v2.jobName },
      metrics: { 'validation:auc': 0.91 },
      approval: { approver: APPROVER, decision: 'approve', reason: 'metrics look good', selfApproved: false },
    });
    expect(summary?.champion?.dataRefs).toEqual([customers]);
  });

  it('deploys without a person when the manifest asks for auto approval', async () => {
    const h = await harness();
    const body = churnNotebook((nb) => {
      nb.metadata.nbops.deployment.approval = 'auto';
    });
    const { training } = await trainVersion(h, body, GOOD);
    expect(training).toEqual({ kind: 'approved', model: 'churn', version: 1 });
    const record = await h.services.registry.getVersion('churn', 1);
    expect(record?.approval).toMatchObject({ approver: 'nbops:auto-approval', decision: 'approve' });
    const [deployed] = await h.deployPublished();
    expect(deployed).toMatchObject({ kind: 'deploying', firstDeployment: true });
    h.cloud.finishEndpoint('churn');
    expect(await h.endpoint(h.endpointEvent('churn'))).toMatchObject({ kind: 'deployed', version: 1 });
    const summary = await h.services.registry.productionSummary('churn');
    expect(summary?.champion?.approval?.approver).toBe('nbops:auto-approval');
  });
});
