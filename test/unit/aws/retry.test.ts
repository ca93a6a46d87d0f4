import { SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, createIdempotently, NameCollisionError, withRetry } from '#core/aws/retry';

const awsError = (name: string, message: string, status = 400) =>
  new SageMakerServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });

const throttled = () => awsError('ThrottlingException', 'Rate exceeded');

describe('withRetry', () => {
  it('retries retryable errors with exponential backoff and full jitter', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw throttled();
        return 'done';
      },
      {
        attempts: 5,
        baseMs: 100,
        maxMs: 10_000,
        sleep: async (ms) => void waits.push(ms),
        random: () => 0.999,
      },
    );
    expect(result).toBe('done');
    expect(calls).toBe(4);
    // Just under the cap of each retry: 100, 200, 400.
    expect(waits).toEqual([99, 199, 399]);
  });

  it('gives up after `attempts` tries and rethrows the last error unchanged', async () => {
    const errors = [throttled(), awsError('InternalFailure', 'x', 500), throttled()];
    let calls = 0;
    const run = withRetry(
      async () => {
        throw errors[calls++];
      },
      { attempts: 3, baseMs: 1, maxMs: 1, sleep: async () => {} },
    );
    await expect(run).rejects.toBe(errors[2]);
    expect(calls).toBe(3);
  });

  it('does not retry errors that will not change', async () => {
    for (const err of [
      awsError('ValidationException', 'bad field'),
      awsError('AccessDeniedException', 'no'),
      awsError(
        'ResourceLimitExceeded',
        "The account-level service limit 'ml.g5.xlarge for training job usage' is 0",
      ),
    ]) {
      let calls = 0;
      const sleeps: number[] = [];
      await expect(
        withRetry(
          async () => {
            calls++;
            throw err;
          },
          { attempts: 5, baseMs: 1, maxMs: 1, sleep: async (ms) => void sleeps.push(ms) },
        ),
      ).rejects.toBe(err);
      expect(calls).toBe(1);
      expect(sleeps).toEqual([]);
    }
  });

  it('keeps every wait within [0, min(maxMs, baseMs * 2^(retry-1)))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 0.9999999, noNaN: true }),
        (retry, baseMs, maxMs, r) => {
          const delay = backoffDelay(retry, { baseMs, maxMs, random: () => r });
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(maxMs, baseMs * 2 ** (retry - 1)));
        },
      ),
    );
  });
});

describe('createIdempotently', () => {
  const input = {
    ModelName: 'churn-v1',
    PrimaryContainer: { Image: 'img:1', ModelDataUrl: 's3://b/m.tar.gz', Environment: { A: '1' } },
    Tags: [{ Key: 'nbops:model', Value: 'churn' }],
  };
  const exists = () =>
    awsError(
      'ValidationException',
      'Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/churn-v1".',
    );

  it('creates when the name is free, without describing', async () => {
    let described = false;
    const result = await createIdempotently(
      async () => ({ ModelArn: 'arn:m' }),
      async () => {
        described = true;
        return {};
      },
      { resource: 'model churn-v1', input },
    );
    expect(result).toEqual({ created: true, output: { ModelArn: 'arn:m' } });
    expect(described).toBe(false);
  });

  it('treats "already exists" from the same inputs as success (Describe adds defaults, omits tags)', async () => {
    const description = {
      ModelName: 'churn-v1',
      ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/churn-v1',
      PrimaryContainer: {
        Image: 'img:1',
        ModelDataUrl: 's3://b/m.tar.gz',
        Environment: { A: '1' },
        Mode: 'SingleModel',
      },
      CreationTime: new Date(0),
    };
    const result = await createIdempotently(
      async () => {
        throw exists();
      },
      async () => description,
      { resource: 'model churn-v1', input },
    );
    expect(result).toEqual({ created: false, existing: description });
  });

  it('throws a NameCollisionError naming the resource and both values when inputs differ', async () => {
    const run = createIdempotently(
      async () => {
        throw exists();
      },
      async () => ({
        ModelName: 'churn-v1',
        ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/churn-v1',
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/r',
        PrimaryContainer: { Image: 'img:2', ModelDataUrl: 's3://b/m.tar.gz', Environment: { A: '1' } },
      }),
      { resource: 'model churn-v1', input },
    );
    await expect(run).rejects.toBeInstanceOf(NameCollisionError);
    await expect(run).rejects.toThrow(
      /model churn-v1 already exists \(arn:aws:sagemaker:us-east-1:123456789012:model\/churn-v1\) but .*PrimaryContainer\.Image is "img:2" there but "img:1" in this request/,
    );
  });

  it('passes other errors through untouched', async () => {
    const denied = awsError('AccessDeniedException', 'not authorized to perform: sagemaker:CreateModel');
    await expect(
      createIdempotently(
        async () => {
          throw denied;
        },
        async () => ({}),
        { resource: 'model churn-v1', input },
      ),
    ).rejects.toBe(denied);
  });
});
