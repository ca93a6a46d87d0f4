// Local SageMaker hosting against s3rver with the real Python runtime: the churn model trained
// locally is served from the requests the core builds, captures data in SageMaker's layout, and
// blue/green updates roll forward or back on their alarms like SageMaker's deployment guardrails.
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEvent } from '#adapters/local/aws-event';
import { LocalSageMaker } from '#adapters/local/sagemaker';
import { tarArchive } from '#adapters/local/tar';
import { checkResponse } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { parseEndpointStateChange } from '#core/events/sagemaker';
import type { BuildContext } from '#core/sagemaker/context';
import {
  buildCreateEndpoint,
  buildCreateEndpointConfig,
  buildCreateModel,
  buildCreateTrainingJob,
  buildUpdateEndpoint,
} from '#core/sagemaker/requests';
import { routesFor } from '#core/wiring';
import {
  CHURN_NOTEBOOK,
  churnContext,
  type Harness,
  localSageMaker,
  newBucket,
  publishRuntime,
  text,
  uploadNotebook,
  waitFor,
  withoutMetadata,
} from './helpers';

const ROWS = '2,95.5,191,month-to-month,5,yes\n70,25.0,1750,two-year,0,no\n';
const ALARM = 'nbops-churn-p99-latency';

let bucket: string;
let store: Awaited<ReturnType<typeof newBucket>>['store'];
let runtime: string;
let h: Harness;
let artifactUri: string;
let alarm: 'OK' | 'ALARM' = 'OK';

beforeAll(async () => {
  ({ bucket, store } = await newBucket());
  runtime = await publishRuntime(store, bucket);
  h = await localSageMaker(store);
  h.sagemaker.alarmState = (name) => (name === ALARM ? alarm : 'OK');
  const ctx = churnContext(bucket, runtime, 1, 'a1'.repeat(32));
  await uploadNotebook(store, ctx, readFileSync(CHURN_NOTEBOOK));
  const request = buildCreateTrainingJob(ctx);
  await h.sagemaker.createTrainingJob(request);
  const trained = await waitFor(
    async () => (await h.sagemaker.describeTrainingJob(request.TrainingJobName!))!,
    (d) => ['Completed', 'Failed', 'Stopped'].includes(d.TrainingJobStatus!),
    60_000,
  );
  if (trained.TrainingJobStatus !== 'Completed') throw new Error(`training failed: ${trained.FailureReason}`);
  artifactUri = trained.ModelArtifacts!.S3ModelArtifacts!;
}, 90_000);

afterAll(async () => {
  await h?.sagemaker.close();
  if (h) await rm(h.workDir, { recursive: true, force: true });
});

/** Model + endpoint config for a version of churn serving the trained artifact; returns the config name. */
async function deployable(sagemaker: LocalSageMaker, ctx: BuildContext): Promise<string> {
  await sagemaker.createModel(buildCreateModel(ctx, { artifactUri }));
  const config = buildCreateEndpointConfig(ctx);
  await sagemaker.createEndpointConfig(config);
  return config.EndpointConfigName!;
}

function described(name: string, sagemaker = h.sagemaker): Promise<DescribeEndpointCommandOutput> {
  return sagemaker.describeEndpoint(name).then((d) => d!);
}

function endpointEvents(name: string, since = 0): AwsEvent[] {
  return h.events
    .slice(since)
    .filter((e) => e['detail-type'].startsWith('SageMaker Endpoint') && e.detail.EndpointName === name);
}

async function invokeMany(count: number): Promise<string[]> {
  const configs: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await h.sagemaker.invokeEndpoint('churn', ROWS, 'text/csv', 'text/csv');
    expect(answer.status).toBe(200);
    configs.push(answer.endpointConfigName);
  }
  return configs;
}

describe.sequential('local endpoints', () => {
  let config1: string;

  it('creates an endpoint that goes Creating -> InService and serves predictions', {
    timeout: 30_000,
  }, async () => {
    const ctx = churnContext(bucket, runtime, 1, 'a1'.repeat(32));
    config1 = await deployable(h.sagemaker, ctx);
    const request = buildCreateEndpoint(ctx, config1);
    const { EndpointArn } = await h.sagemaker.createEndpoint(request);
    expect(EndpointArn).toBe('arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn');
    expect((await described('churn')).EndpointStatus).toBe('Creating');

    const endpoint = await waitFor(
      () => described('churn'),
      (d) => d.EndpointStatus !== 'Creating',
    );
    expect(endpoint.EndpointStatus, endpoint.FailureReason).toBe('InService');
    expect(endpoint.EndpointConfigName).toBe(config1);
    expect(checkResponse('sagemaker', 'DescribeEndpoint', withoutMetadata(endpoint))).toEqual([]);
    expect(endpoint.ProductionVariants).toEqual([
      expect.objectContaining({
        VariantName: 'AllTraffic',
        CurrentInstanceCount: 2,
        DesiredInstanceCount: 2,
      }),
    ]);
    expect(endpoint.DataCaptureConfig).toMatchObject({
      EnableCapture: true,
      CaptureStatus: 'Started',
      CurrentSamplingPercentage: 100,
      DestinationS3Uri: `s3://${bucket}/capture`,
    });
    // the example asks for 2 instances: 2 server processes
    expect(h.sagemaker.pids).toHaveLength(2);

    const answer = await h.sagemaker.invokeEndpoint('churn', ROWS, 'text/csv', 'text/csv');
    expect(answer).toMatchObject({ status: 200, variantName: 'AllTraffic', endpointConfigName: config1 });
    const [risky, loyal] = answer.body.toString().trim().split('\n').map(Number);
    expect(risky).toBeGreaterThan(0.5);
    expect(loyal).toBeLessThan(0.2);
    const bad = await h.sagemaker.invokeEndpoint('churn', '1,2,3\n', 'text/csv', 'text/csv');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toContain('each row needs 6 values');

    const events = endpointEvents('churn');
    expect(events.map((e) => e.detail.EndpointStatus)).toEqual(['CREATING', 'IN_SERVICE']);
    expect(events[1]).toMatchObject({
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Endpoint State Change',
      resources: [EndpointArn],
      detail: { EndpointConfigName: config1, EndpointArn },
    });
    expect(typeof events[1]!.detail.CreationTime).toBe('number');
    expect(routesFor(events[1], { bucketName: bucket }).map((r) => r.handler)).toEqual(['endpoint-state']);
    expect(parseEndpointStateChange(events[1])).toMatchObject({
      status: 'InService',
      endpointConfigName: config1,
    });
  });

  it('writes data capture to the store in SageMaker layout, and invocation metrics per instance', async () => {
    await invokeMany(3);
    const flushed = await h.sagemaker.flushCapture('churn');
    expect(flushed).toBeGreaterThanOrEqual(4); // 4 successful invocations so far (the 400 is not captured)
    const keys: string[] = [];
    for await (const object of store.list(bucket, 'capture/')) keys.push(object.key);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys)
      expect(key).toMatch(/^capture\/churn\/AllTraffic\/\d{4}\/\d\d\/\d\d\/\d\d\/[\w-]+\.jsonl$/);
    const records = (await Promise.all(keys.map(async (key) => text(await store.getStream({ bucket, key })))))
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(4);
    expect(records[0]).toMatchObject({
      captureData: {
        endpointInput: { observedContentType: 'text/csv', mode: 'INPUT', data: ROWS, encoding: 'CSV' },
        endpointOutput: { mode: 'OUTPUT', encoding: 'CSV' },
      },
      eventVersion: '0',
    });
    // nothing new: a second flush uploads nothing, and no record is uploaded twice
    expect(await h.sagemaker.flushCapture('churn')).toBe(0);

    // round robin over both processes; each keeps its own metrics file
    const files = h.sagemaker.invocationMetricsFiles('churn');
    expect(files.map((f) => [f.endpointConfigName, f.variantName])).toEqual([
      [config1, 'AllTraffic'],
      [config1, 'AllTraffic'],
    ]);
    for (const file of files) {
      const lines = (await readFile(file.file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toMatchObject({
        status: expect.any(Number),
        latencyUs: expect.any(Number),
        modelError: false,
      });
    }
  });

  it('rolls a canary back when a rollback alarm fires while baking', { timeout: 30_000 }, async () => {
    const ctx2 = churnContext(bucket, runtime, 2, 'b2'.repeat(32));
    const config2 = await deployable(h.sagemaker, ctx2);
    const update = buildUpdateEndpoint(ctx2, config2, [ALARM]);
    expect(update.DeploymentConfig?.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration).toMatchObject({
      Type: 'CANARY',
      CanarySize: { Type: 'CAPACITY_PERCENT', Value: 50 },
      WaitIntervalInSeconds: 300, // 3 s at timeScale 0.01
    });
    const since = h.events.length;
    await h.sagemaker.updateEndpoint(update);

    const baking = await waitFor(
      () => described('churn'),
      (d) => d.PendingDeploymentSummary?.ProductionVariants?.[0]?.VariantStatus?.[0]?.Status === 'Baking',
    );
    expect(baking.EndpointStatus).toBe('Updating');
    expect(baking.EndpointConfigName).toBe(config1);
    expect(baking.PendingDeploymentSummary?.EndpointConfigName).toBe(config2);
    expect(checkResponse('sagemaker', 'DescribeEndpoint', withoutMetadata(baking))).toEqual([]);
    // another update while this one runs is refused the way SageMaker refuses it
    const busy = await h.sagemaker.updateEndpoint(update).catch((e: unknown) => e);
    expect(busy).toMatchObject({
      name: 'ValidationException',
      message:
        'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn".',
    });
    expect(classifyAwsError(busy).kind).toBe('in-use');

    // the canary takes part of the traffic while it bakes
    const split = await invokeMany(30);
    expect(new Set(split)).toEqual(new Set([config1, config2]));

    alarm = 'ALARM';
    const after = await waitFor(
      () => described('churn'),
      (d) => d.EndpointStatus === 'InService',
    );
    alarm = 'OK';
    expect(after.EndpointConfigName).toBe(config1);
    expect(after.PendingDeploymentSummary).toBeUndefined();
    expect(after.FailureReason).toMatch(
      new RegExp(
        `^Rolled back the update to endpoint configuration ${config2}: CloudWatch alarm ${ALARM} went into ALARM`,
      ),
    );
    expect(new Set(await invokeMany(10))).toEqual(new Set([config1]));
    expect(h.sagemaker.pids).toHaveLength(2);

    const events = endpointEvents('churn', since);
    const deployment = events.filter(
      (e) => e['detail-type'] === 'SageMaker Endpoint Deployment State Change',
    );
    const steps = deployment.map(
      (e) =>
        (
          e.detail.PendingDeploymentSummary as
            | { ProductionVariants: { VariantStatus: { Status: string }[] }[] }
            | undefined
        )?.ProductionVariants[0]?.VariantStatus[0]?.Status ?? String(e.detail.EndpointStatus),
    );
    expect(steps).toEqual(['Creating', 'ActivatingTraffic', 'Baking', 'Deleting', 'IN_SERVICE']);
    const last = events.at(-1)!;
    expect(last['detail-type']).toBe('SageMaker Endpoint State Change');
    expect(parseEndpointStateChange(last)).toMatchObject({
      status: 'InService',
      endpointConfigName: config1,
      failureReason: after.FailureReason,
    });
    expect(events[0]!.detail.EndpointStatus).toBe('UPDATING');
  });

  it('shifts all traffic to the new config when the alarms stay OK', { timeout: 30_000 }, async () => {
    const ctx3 = churnContext(bucket, runtime, 3, 'c3'.repeat(32));
    const config3 = await deployable(h.sagemaker, ctx3);
    const update = buildUpdateEndpoint(ctx3, config3, [ALARM]);
    const policy = update.DeploymentConfig!.BlueGreenUpdatePolicy!;
    policy.TrafficRoutingConfiguration!.WaitIntervalInSeconds = 30;
    policy.TerminationWaitInSeconds = 20;
    const since = h.events.length;
    await h.sagemaker.updateEndpoint(update);
    const after = await waitFor(
      () => described('churn'),
      (d) => d.EndpointStatus === 'InService',
    );
    expect(after.EndpointConfigName).toBe(config3);
    expect(after.FailureReason).toBeUndefined();
    expect(after.LastDeploymentConfig).toEqual(update.DeploymentConfig);
    expect(new Set(await invokeMany(10))).toEqual(new Set([config3]));
    expect(h.sagemaker.pids).toHaveLength(2); // the old fleet is gone
    const statuses = endpointEvents('churn', since)
      .filter((e) => e['detail-type'] === 'SageMaker Endpoint Deployment State Change')
      .map(
        (e) =>
          (
            e.detail.PendingDeploymentSummary as
              | { ProductionVariants: { VariantStatus: { Status: string; StatusMessage: string }[] }[] }
              | undefined
          )?.ProductionVariants[0]?.VariantStatus[0]?.StatusMessage ?? String(e.detail.EndpointStatus),
      );
    expect(statuses).toEqual([
      'Launching 2 instance(s).',
      'Activating traffic on canary capacity of 1 instance(s).',
      'Baking for 30 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity of 1 instance(s).',
      'Activating traffic on full capacity of 2 instance(s).',
      'Baking for 30 seconds (WaitIntervalInSeconds) with traffic enabled on full capacity of 2 instance(s).',
      'Baking for 20 seconds (TerminationWaitInSeconds) with traffic enabled on full capacity of 2 instance(s).',
      'Terminating 2 instance(s) of the old fleet.',
      'IN_SERVICE',
    ]);
  });

  it('answers duplicates and missing resources with SageMaker-shaped errors', async () => {
    const ctx = churnContext(bucket, runtime, 1, 'a1'.repeat(32));
    const model = buildCreateModel(ctx, { artifactUri });
    await expect(h.sagemaker.createModel(model)).rejects.toMatchObject({
      name: 'ValidationException',
      message:
        'Cannot create already existing model "arn:aws:sagemaker:us-east-1:000000000000:model/churn-v1".',
    });
    await expect(h.sagemaker.createEndpointConfig(buildCreateEndpointConfig(ctx))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(
        /^Cannot create already existing endpoint configuration "arn:.*:endpoint-config\//,
      ),
    });
    const duplicate = await h.sagemaker
      .createEndpoint(buildCreateEndpoint(ctx, config1))
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({
      name: 'ValidationException',
      message:
        'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn".',
    });
    expect(classifyAwsError(duplicate).kind).toBe('already-exists');
    const missing = await h.sagemaker
      .createEndpoint({ EndpointName: 'other', EndpointConfigName: 'no-such-config' })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({
      message:
        'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/no-such-config".',
    });
    expect(classifyAwsError(missing).kind).toBe('not-found');
    expect(await h.sagemaker.describeEndpoint('no-such-endpoint')).toBeUndefined();
    expect(await h.sagemaker.describeModel('no-such-model')).toBeUndefined();
    expect((await h.sagemaker.describeModel('churn-v1'))?.PrimaryContainer?.ModelDataUrl).toBe(artifactUri);
    await expect(h.sagemaker.invokeEndpoint('no-such-endpoint', ROWS, 'text/csv')).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Endpoint no-such-endpoint of account 000000000000 not found.',
    });
  });

  it('fails an endpoint whose model cannot load, with the reason, and leaves no process behind', async () => {
    const key = 'versions/broken/v1/training/job/output/model.tar.gz';
    const { gzipSync } = await import('node:zlib');
    await store.put(
      { bucket, key },
      gzipSync(
        tarArchive([
          { path: 'README.txt', type: 'file', mode: 0o644, mtime: 0, data: Buffer.from('no code') },
        ]),
      ),
    );
    await h.sagemaker.createModel({
      ModelName: 'broken-v1',
      PrimaryContainer: { Image: 'local/none:1', ModelDataUrl: `s3://${bucket}/${key}` },
      ExecutionRoleArn: 'arn:aws:iam::000000000000:role/nbops-sagemaker',
    });
    await h.sagemaker.createEndpointConfig({
      EndpointConfigName: 'broken-v1-cfg',
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: 'broken-v1',
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
        },
      ],
    });
    const before = h.sagemaker.pids.length;
    await h.sagemaker.createEndpoint({ EndpointName: 'broken', EndpointConfigName: 'broken-v1-cfg' });
    const endpoint = await waitFor(
      () => described('broken'),
      (d) => d.EndpointStatus !== 'Creating',
    );
    expect(endpoint.EndpointStatus).toBe('Failed');
    expect(endpoint.FailureReason).toMatch(
      /^The primary container for production variant AllTraffic did not pass the ping health check: the model failed to load: ModelError: no inference\.py/,
    );
    expect(endpointEvents('broken').map((e) => e.detail.EndpointStatus)).toEqual(['CREATING', 'FAILED']);
    expect(h.sagemaker.pids).toHaveLength(before);
    await expect(
      h.sagemaker.updateEndpoint({ EndpointName: 'broken', EndpointConfigName: config1 }),
    ).rejects.toThrow('is in Failed state; only DeleteEndpoint is allowed');
    await h.sagemaker.deleteEndpoint('broken');
    await h.sagemaker.settle();
    expect(await h.sagemaker.describeEndpoint('broken')).toBeUndefined();
  });

  it('serves its endpoints again after the local host restarts on the same work folder', {
    timeout: 30_000,
  }, async () => {
    const config = (await described('churn')).EndpointConfigName;
    await h.sagemaker.close();
    expect(h.sagemaker.pids).toEqual([]);
    const restarted = await LocalSageMaker.create({
      store,
      workDir: h.workDir,
      timeScale: 0.01,
      log: () => {},
      onEvent: (e) => h.events.push(e),
    });
    h = { ...h, sagemaker: restarted };
    const endpoint = await waitFor(
      () => described('churn'),
      (d) => d.EndpointStatus === 'InService',
    );
    expect(endpoint.EndpointConfigName).toBe(config);
    const answer = await restarted.invokeEndpoint('churn', ROWS, 'text/csv', 'text/csv');
    expect(answer.status).toBe(200);

    await restarted.deleteEndpoint('churn');
    expect((await described('churn')).EndpointStatus).toBe('Deleting');
    await restarted.settle();
    expect(await restarted.describeEndpoint('churn')).toBeUndefined();
    expect(restarted.pids).toEqual([]);
    expect(endpointEvents('churn').at(-1)!.detail.EndpointStatus).toBe('DELETING');
  });
});
