// The submit handler's own job: parse both S3 event shapes, call the use case once per upload in
// order, ignore poison events, and rethrow what a retry can fix. The use case is a stub here: the
// seam under test is the handler.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NotebookUpload, SubmitOutcome } from '#core/service/contracts';
import { RetryLaterError } from '#core/service/errors';
import { makeHandler } from '../../../functions/submit/index';
import { loadEvent } from '../../fixtures/events';
import { awsError, lambdaContext, metricValues, SERVICES, testDeps } from './support';

const training = (upload: NotebookUpload): SubmitOutcome => ({
  kind: 'training',
  model: upload.key.split('/')[1]!,
  version: 1,
  trainingJobName: 'churn-v1-1a2b3c4d',
  reportUri: 's3://nbops-artifacts/versions/churn/v1/reports/validation.json',
});

function setup(submit: (upload: NotebookUpload) => Promise<SubmitOutcome> = async (u) => training(u)) {
  const deps = testDeps('submit', { metrics: true });
  const submitNotebook = vi.fn(async (services: unknown, upload: NotebookUpload) => {
    expect(services).toBe(SERVICES);
    return submit(upload);
  });
  const handler = makeHandler({ ...deps, submitNotebook });
  return { handler, submitNotebook, captured: deps.captured };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('submit handler', () => {
  it('submits the upload an EventBridge "Object Created" event reports, with its key as sent', async () => {
    const { handler, submitNotebook, captured } = setup();
    const result = await handler(loadEvent('s3-eventbridge-object-created'), lambdaContext());
    expect(submitNotebook).toHaveBeenCalledTimes(1);
    expect(submitNotebook.mock.calls[0]?.[1]).toMatchObject({
      bucket: 'nbops-artifacts',
      key: 'notebooks/churn/Churn model+v2 Ü.ipynb',
      eventId: '17793124-05d4-b198-2fde-7ededc63b103',
    });
    expect(result).toMatchObject({ kind: 'training', trainingJobName: 'churn-v1-1a2b3c4d' });
    expect(metricValues(captured)).toEqual({ Training: 1 });
    expect(captured.emf[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'nbops', Dimensions: [['service']] }] },
      service: 'submit',
    });
    expect(captured.logs.map((l) => l.message)).toContain(
      'Submitting s3://nbops-artifacts/notebooks/churn/Churn model+v2 Ü.ipynb',
    );
    expect(captured.logs.find((l) => l.message === 'Outcome: training')).toMatchObject({
      level: 'INFO',
      service: 'submit',
      outcome: { kind: 'training' },
    });
  });

  it('submits each created object of a classic notification in record order, skipping deletions', async () => {
    const { handler, submitNotebook, captured } = setup(async (upload) =>
      upload.key.endsWith('.yaml')
        ? { kind: 'ignored', reason: 'sidecar stored; waiting for its notebook' }
        : training(upload),
    );
    const result = await handler(loadEvent('s3-classic-records'), lambdaContext());
    expect(submitNotebook.mock.calls.map((call) => call[1].key)).toEqual([
      'notebooks/churn/Churn model+v2 Ü.ipynb',
      'notebooks/fraud/fraud.nbops.yaml',
    ]);
    expect(result).toEqual({
      kind: 'batch',
      outcomes: [expect.objectContaining({ kind: 'training' }), expect.objectContaining({ kind: 'ignored' })],
    });
    expect(metricValues(captured)).toEqual({ Training: 1, Ignored: 1 });
  });

  it('stops at the first failing upload of a batch, so the redelivery retries from there', async () => {
    const { handler, submitNotebook } = setup(async (upload) => {
      if (upload.key.endsWith('.ipynb')) throw awsError('ThrottlingException', 'Rate exceeded');
      return training(upload);
    });
    await expect(handler(loadEvent('s3-classic-records'), lambdaContext())).rejects.toThrow('Rate exceeded');
    expect(submitNotebook).toHaveBeenCalledTimes(1);
  });

  it('answers an event with no created objects as ignored, without calling the use case', async () => {
    const { handler, submitNotebook } = setup();
    const event = loadEvent('s3-classic-records');
    event.Records = [event.Records[1]];
    expect(await handler(event, lambdaContext())).toEqual({
      kind: 'ignored',
      reason: 'the event reports no created objects',
    });
    expect(submitNotebook).not.toHaveBeenCalled();
  });

  it('logs a poison event with the reason, counts it, and returns ignored instead of throwing', async () => {
    const { handler, submitNotebook, captured } = setup();
    const event = loadEvent('s3-eventbridge-object-created');
    delete event.detail.object.key;
    const result = await handler(event, lambdaContext());
    expect(result).toEqual({
      kind: 'ignored',
      reason: 'S3 object created event: detail.object.key is missing',
    });
    expect(submitNotebook).not.toHaveBeenCalled();
    expect(captured.logs.find((l) => l.level === 'WARN')).toMatchObject({
      reason: 'S3 object created event: detail.object.key is missing',
      field: 'detail.object.key',
    });
    expect(metricValues(captured)).toEqual({ PoisonEvent: 1 });
    for (const junk of [null, 'hello', [], { Records: 'x' }])
      expect(await handler(junk, lambdaContext())).toMatchObject({ kind: 'ignored' });
  });

  it('rethrows retryable AWS errors and RetryLaterError so the event is delivered again', async () => {
    for (const error of [
      awsError('ThrottlingException', 'Rate exceeded'),
      awsError('InternalServerError', 'oops', 500),
      new RetryLaterError('another delivery is registering this upload'),
    ]) {
      const { handler, captured } = setup(async () => {
        throw error;
      });
      await expect(handler(loadEvent('s3-eventbridge-object-created'), lambdaContext())).rejects.toBe(error);
      expect(captured.logs.find((l) => l.level === 'WARN')?.message).toMatch(/redelivered/);
      expect(Object.keys(metricValues(captured))).toEqual([
        error instanceof RetryLaterError ? 'RetryLater' : 'RetryableError',
      ]);
    }
  });

  it('rethrows an unexpected error after logging it with its classification', async () => {
    const error = awsError('AccessDeniedException', 'not authorized to perform s3:GetObject', 403);
    const { handler, captured } = setup(async () => {
      throw error;
    });
    await expect(handler(loadEvent('s3-eventbridge-object-created'), lambdaContext())).rejects.toBe(error);
    const logged = captured.logs.find((l) => l.level === 'ERROR');
    expect(logged).toMatchObject({ kind: 'access-denied' });
    expect(logged?.message).toMatch(/^Failed: access denied: not authorized to perform s3:GetObject/);
    expect(metricValues(captured)).toEqual({ Error: 1 });
  });

  it('routes Retrain Requested to the retrain use case, or ignores it when there is none', async () => {
    const deps = testDeps('submit');
    const submitNotebook = vi.fn();
    const event = loadEvent('nbops-retrain-requested');
    const without = makeHandler({ ...deps, submitNotebook });
    expect(await without(event, lambdaContext())).toEqual({
      kind: 'ignored',
      reason: 'retrain of churn requested, but retraining is not available yet',
    });
    const retrain = vi.fn(async () => ({ kind: 'ignored' as const, reason: 'champion already training' }));
    const withRetrain = makeHandler({ ...deps, submitNotebook, retrain });
    await withRetrain(event, lambdaContext());
    expect(retrain).toHaveBeenCalledWith(
      SERVICES,
      expect.objectContaining({ model: 'churn', requestedBy: 'drift' }),
    );
    expect(submitNotebook).not.toHaveBeenCalled();
  });

  it('refuses to run without an idempotency table, naming the variable and the alternative', async () => {
    const deps = testDeps('submit');
    const submitNotebook = vi.fn();
    const handler = makeHandler({
      ...deps,
      idempotency: {
        kind: 'misconfigured',
        message: 'nbops cannot start: NBOPS_IDEMPOTENCY_TABLE is not set.',
      },
      submitNotebook,
    });
    await expect(handler(loadEvent('s3-eventbridge-object-created'), lambdaContext())).rejects.toThrow(
      'NBOPS_IDEMPOTENCY_TABLE is not set',
    );
    expect(submitNotebook).not.toHaveBeenCalled();
  });
});
