// Local SageMaker training against s3rver with the real Python runtime: the churn example trains
// from the request the core builds, and failures, timeouts and stops end the way SageMaker ends them.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSageMaker } from '#adapters/local/sagemaker';
import { extractTarGz } from '#adapters/local/tar';
import { checkResponse } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { parseTrainingJobStateChange } from '#core/events/sagemaker';
import { parseS3Uri } from '#core/layout';
import { buildCreateTrainingJob } from '#core/sagemaker/requests';
import { routesFor } from '#core/wiring';
import {
  CHURN_NOTEBOOK,
  churnContext,
  type Harness,
  localSageMaker,
  newBucket,
  notebookOf,
  publishRuntime,
  uploadNotebook,
  waitFor,
  withoutMetadata,
} from './helpers';

const python = process.env.NBOPS_PYTHON ?? 'python3';
const TERMINAL = ['Completed', 'Failed', 'Stopped'];

let bucket: string;
let store: Awaited<ReturnType<typeof newBucket>>['store'];
let runtime: string;
let h: Harness;

beforeAll(async () => {
  ({ bucket, store } = await newBucket());
  runtime = await publishRuntime(store, bucket);
  h = await localSageMaker(store);
});

afterAll(async () => {
  await h?.sagemaker.close();
  if (h) await rm(h.workDir, { recursive: true, force: true });
});

function finished(name: string): Promise<DescribeTrainingJobCommandOutput> {
  return waitFor(
    async () => (await h.sagemaker.describeTrainingJob(name))!,
    (d) => TERMINAL.includes(d.TrainingJobStatus ?? ''),
    60_000,
  );
}

function eventsFor(name: string) {
  return h.events.filter(
    (e) => e['detail-type'] === 'SageMaker Training Job State Change' && e.detail.TrainingJobName === name,
  );
}

describe.concurrent('local training jobs', () => {
  it('trains the churn example from the request the core builds, like SageMaker', {
    timeout: 60_000,
  }, async () => {
    const ctx = churnContext(bucket, runtime, 1, 'a1'.repeat(32));
    await uploadNotebook(store, ctx, readFileSync(CHURN_NOTEBOOK));
    const request = buildCreateTrainingJob(ctx);
    const name = request.TrainingJobName!;

    const { TrainingJobArn } = await h.sagemaker.createTrainingJob(request);
    expect(TrainingJobArn).toBe(`arn:aws:sagemaker:us-east-1:000000000000:training-job/${name}`);
    const described = await finished(name);

    expect(described.TrainingJobStatus, described.FailureReason).toBe('Completed');
    expect(described.SecondaryStatus).toBe('Completed');
    expect(checkResponse('sagemaker', 'DescribeTrainingJob', withoutMetadata(described))).toEqual([]);
    const metrics = Object.fromEntries(
      (described.FinalMetricDataList ?? []).map((m) => [m.MetricName, m.Value]),
    );
    expect(Object.keys(metrics).sort()).toEqual(['train:loss', 'validation:accuracy', 'validation:auc']);
    expect(metrics['validation:auc']).toBeGreaterThan(0.75);
    expect(described.FinalMetricDataList![0]!.Timestamp).toBeInstanceOf(Date);
    expect(described.TrainingTimeInSeconds).toBeGreaterThanOrEqual(1);
    expect(described.BillableTimeInSeconds).toBe(described.TrainingTimeInSeconds);
    expect(described.CreationTime).toBeInstanceOf(Date);
    expect(described.SecondaryStatusTransitions!.map((t) => t.Status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);

    // model.tar.gz where SageMaker puts it, readable by Python's tarfile
    const artifact = described.ModelArtifacts!.S3ModelArtifacts!;
    expect(artifact).toBe(`s3://${bucket}/versions/churn/v1/training/${name}/output/model.tar.gz`);
    const work = await mkdtemp(join(tmpdir(), 'nbops-artifact-'));
    try {
      const archive = join(work, 'model.tar.gz');
      await writeFile(archive, await store.getBytes(parseS3Uri(artifact)!, { maxBytes: 50e6 }));
      const names = execFileSync(
        python,
        [
          '-c',
          'import sys, tarfile; print("\\n".join(sorted(tarfile.open(sys.argv[1]).getnames())))',
          archive,
        ],
        { encoding: 'utf8' },
      ).trim();
      expect(names.split('\n')).toEqual(['inference.py', 'model.json', 'nbops-baseline.json']);

      // the executed notebook (output.tar.gz) ran with the manifest's parameters as hyperparameters
      const output = artifact.replace(/model\.tar\.gz$/, 'output.tar.gz');
      await extractTarGz(await store.getBytes(parseS3Uri(output)!, { maxBytes: 50e6 }), join(work, 'out'));
      const executed = JSON.parse(await readFile(join(work, 'out', 'churn.ipynb'), 'utf8'));
      expect(executed.metadata.papermill.parameters).toEqual({
        epochs: 200,
        learning_rate: 0.1,
        seed: 42,
        n_rows: 5000,
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }

    // events: EventBridge envelopes, epoch-ms string timestamps, the terminal one routed to training-state
    const events = eventsFor(name);
    expect(events[0]!.detail.TrainingJobStatus).toBe('InProgress');
    const last = events.at(-1)!;
    expect(last).toMatchObject({
      version: '0',
      source: 'aws.sagemaker',
      account: '000000000000',
      region: 'us-east-1',
      resources: [TrainingJobArn],
      detail: { TrainingJobName: name, TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' },
    });
    expect(last.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(last.detail.CreationTime).toMatch(/^\d{13}$/);
    expect(last.detail.TrainingEndTime).toMatch(/^\d{13}$/);
    expect(routesFor(last, { bucketName: bucket }).map((r) => r.handler)).toEqual(['training-state']);
    expect(parseTrainingJobStateChange(last)).toMatchObject({ trainingJobName: name, status: 'Completed' });
    // the log SageMaker would stream to CloudWatch, with the metric lines the regexes matched
    const log = await readFile(join(h.workDir, 'jobs', name, 'algo-1.log'), 'utf8');
    expect(log).toMatch(/^\[nbops\] metric validation:auc=0\.\d+$/m);
  });

  it('fails a notebook that raises with the cell and error as FailureReason', async () => {
    const ctx = churnContext(bucket, runtime, 2, 'b2'.repeat(32));
    await uploadNotebook(
      store,
      ctx,
      notebookOf('epochs = 1', 'x = epochs + 1', 'raise ValueError(f"bad value {x}")', 'print("never")'),
    );
    const request = buildCreateTrainingJob(ctx);
    await h.sagemaker.createTrainingJob(request);
    const described = await finished(request.TrainingJobName!);

    expect(described.TrainingJobStatus).toBe('Failed');
    expect(described.SecondaryStatus).toBe('Failed');
    // epochs comes from the manifest's parameters (200), injected after the parameters cell
    expect(described.FailureReason).toMatch(/^cell 2: ValueError: bad value 201\n/);
    expect(described.FailureReason!.length).toBeLessThanOrEqual(1024);
    expect(checkResponse('sagemaker', 'DescribeTrainingJob', withoutMetadata(described))).toEqual([]);
    const failedEvent = eventsFor(request.TrainingJobName!).at(-1)!;
    expect(failedEvent.detail).toMatchObject({
      TrainingJobStatus: 'Failed',
      FailureReason: described.FailureReason,
    });
  });

  it('stops a job at MaxRuntimeInSeconds: Stopped / MaxRuntimeExceeded', { timeout: 30_000 }, async () => {
    const ctx = churnContext(bucket, runtime, 3, 'c3'.repeat(32));
    await uploadNotebook(store, ctx, notebookOf('epochs = 1', 'import time\ntime.sleep(60)'));
    const request = buildCreateTrainingJob(ctx);
    request.StoppingCondition = { MaxRuntimeInSeconds: 1, MaxWaitTimeInSeconds: 1 };
    const started = Date.now();
    await h.sagemaker.createTrainingJob(request);
    const described = await finished(request.TrainingJobName!);

    expect(described.TrainingJobStatus).toBe('Stopped');
    expect(described.SecondaryStatus).toBe('MaxRuntimeExceeded');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(described.SecondaryStatusTransitions!.at(-1)!.StatusMessage).toMatch(
      // the runner's own account of the stop (the cell it was in depends on how fast Python started)
      /exceeded MaxRuntimeInSeconds provided \(1 s\)\. stopped: SIGTERM received \(max runtime reached or job stopped\) during /,
    );
    // what the notebook saved before the stop is kept, as SageMaker does
    expect(await store.head(parseS3Uri(described.ModelArtifacts!.S3ModelArtifacts!)!)).toBeDefined();
  });

  it('stops a running job on StopTrainingJob and refuses to stop it twice', { timeout: 30_000 }, async () => {
    const ctx = churnContext(bucket, runtime, 4, 'd4'.repeat(32));
    await uploadNotebook(store, ctx, notebookOf('epochs = 1', 'import time\ntime.sleep(60)'));
    const request = buildCreateTrainingJob(ctx);
    const name = request.TrainingJobName!;
    await h.sagemaker.createTrainingJob(request);
    await waitFor(
      async () => (await h.sagemaker.describeTrainingJob(name))!.SecondaryStatus,
      (s) => s === 'Training',
    );
    await h.sagemaker.stopTrainingJob(name);
    expect((await h.sagemaker.describeTrainingJob(name))!.TrainingJobStatus).toBe('Stopping');
    const described = await finished(name);
    expect([described.TrainingJobStatus, described.SecondaryStatus]).toEqual(['Stopped', 'Stopped']);
    expect(eventsFor(name).map((e) => e.detail.TrainingJobStatus)).toContain('Stopping');
    await expect(h.sagemaker.stopTrainingJob(name)).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'The request was rejected because the training job is in status Stopped.',
    });
    await expect(h.sagemaker.stopTrainingJob('no-such-job')).rejects.toMatchObject({
      name: 'ResourceNotFound',
    });
  });

  it('answers a duplicate CreateTrainingJob with the error SageMaker gives', async () => {
    const ctx = churnContext(bucket, runtime, 5, 'e5'.repeat(32));
    await uploadNotebook(store, ctx, notebookOf('epochs = 1', 'print(epochs)'));
    const request = buildCreateTrainingJob(ctx);
    const { TrainingJobArn } = await h.sagemaker.createTrainingJob(request);
    const duplicate = await h.sagemaker.createTrainingJob(request).catch((e: unknown) => e);
    expect(duplicate).toMatchObject({
      name: 'ResourceInUse',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${TrainingJobArn})`,
    });
    expect(classifyAwsError(duplicate).kind).toBe('already-exists');
    // a name that differs only in case is the same job to SageMaker
    await expect(
      h.sagemaker.createTrainingJob({ ...request, TrainingJobName: request.TrainingJobName!.toUpperCase() }),
    ).rejects.toMatchObject({ name: 'ResourceInUse' });
    expect((await finished(request.TrainingJobName!)).TrainingJobStatus).toBe('Completed');
  });

  it('checks every request against the API model before doing anything', async () => {
    const ctx = churnContext(bucket, runtime, 6, 'f6'.repeat(32));
    const request = { ...buildCreateTrainingJob(ctx), TrainingJobName: 'not_valid_name' };
    await expect(h.sagemaker.createTrainingJob(request)).rejects.toThrow(
      /TrainingJobName: "not_valid_name" does not match TrainingJobName pattern/,
    );
    expect(existsSync(join(h.workDir, 'jobs', 'not_valid_name'))).toBe(false);
    expect(await h.sagemaker.describeTrainingJob('not-valid-name')).toBeUndefined();
  });

  it('fails, with its event, a job a crashed host left running, when the next host starts', async () => {
    const name = 'churn-v99-crashed';
    const record = {
      request: {
        ...buildCreateTrainingJob(churnContext(bucket, runtime, 99, '99'.repeat(32))),
        TrainingJobName: name,
      },
      arn: `arn:aws:sagemaker:us-east-1:000000000000:training-job/${name}`,
      status: 'InProgress',
      secondaryStatus: 'Training',
      transitions: [
        { Status: 'Training', StartTime: Date.now() - 5000, StatusMessage: 'Training in progress.' },
      ],
      creationTime: Date.now() - 6000,
      lastModifiedTime: Date.now() - 5000,
      trainingStartTime: Date.now() - 5000,
      finalMetrics: [],
      modelArtifacts: `s3://${bucket}/x/model.tar.gz`,
      logFile: 'algo-1.log',
    };
    // the work folder of the host that crashed (not the one the other tests share)
    const workDir = await mkdtemp(join(tmpdir(), 'nbops-crashed-'));
    await mkdir(join(workDir, 'jobs', name), { recursive: true });
    await writeFile(join(workDir, 'jobs', name, 'job.json'), JSON.stringify(record));

    const next = await localSageMaker(store, { workDir });
    try {
      const described = (await next.sagemaker.describeTrainingJob(name))!;
      expect(described.TrainingJobStatus).toBe('Failed');
      expect(described.FailureReason).toMatch(
        /^InternalServerError: the local host stopped while this job was running/,
      );
      expect(next.events.map((e) => [e.detail.TrainingJobName, e.detail.TrainingJobStatus])).toEqual([
        [name, 'Failed'],
      ]);
    } finally {
      await next.sagemaker.close();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('fails a job, saying what to do, when the interpreter cannot be started', async () => {
    const ctx = churnContext(bucket, runtime, 8, '08'.repeat(32));
    await uploadNotebook(store, ctx, notebookOf('epochs = 1'));
    const workDir = await mkdtemp(join(tmpdir(), 'nbops-nopython-'));
    // the constructor does not check the interpreter (create() does): the job reports it instead
    const sagemaker = new LocalSageMaker({ store, workDir, python: join(workDir, 'python3'), log: () => {} });
    try {
      const request = buildCreateTrainingJob(ctx);
      await sagemaker.createTrainingJob(request);
      await sagemaker.settle();
      const described = (await sagemaker.describeTrainingJob(request.TrainingJobName!))!;
      expect(described.TrainingJobStatus).toBe('Failed');
      expect(described.FailureReason).toBe(
        `AlgorithmError: could not start the Python interpreter '${join(workDir, 'python3')}' (ENOENT); install Python 3.9+ or set NBOPS_PYTHON.`,
      );
    } finally {
      await sagemaker.close();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('fails a job whose channel has no objects, as SageMaker does', async () => {
    const ctx = churnContext(bucket, runtime, 7, '07'.repeat(32));
    const request = buildCreateTrainingJob(ctx); // nothing uploaded for v7
    await h.sagemaker.createTrainingJob(request);
    const described = await finished(request.TrainingJobName!);
    expect(described.TrainingJobStatus).toBe('Failed');
    expect(described.FailureReason).toMatch(
      /^ClientError: No S3 objects found under S3 URL "s3:\/\/.*\/versions\/churn\/v7\/notebook\/"/,
    );
  });
});
