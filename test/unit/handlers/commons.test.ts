import { search } from '@aws-lambda-powertools/jmespath';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REQUIRED_ENV } from '#adapters/aws/services';
import { metricName } from '../../../functions/commons/handler';
import { IDEMPOTENCY_KEY_PATH, idempotencyFromEnv } from '../../../functions/commons/idempotency';
import { observability } from '../../../functions/commons/observability';
import { lazyAwsServices } from '../../../functions/commons/services';
import { loadEvent } from '../../fixtures/events';
import { lambdaContext } from './support';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('idempotency key', () => {
  it('is the EventBridge id, or bucket, raw key and sequencer of each classic record', () => {
    expect(search(IDEMPOTENCY_KEY_PATH, loadEvent('sagemaker-training-completed'))).toBe(
      '2d7e6f9a-6b4f-4f7e-9c5a-0f0e8d1b2c3d',
    );
    expect(search(IDEMPOTENCY_KEY_PATH, loadEvent('s3-classic-records'))).toEqual([
      ['nbops-artifacts', 'notebooks/churn/Churn+model%2Bv2+%C3%9C.ipynb', '0055AED6DCD90281E5'],
      ['nbops-artifacts', 'notebooks/churn/old.ipynb', '0055AED6DCD90281E6'],
      ['nbops-artifacts', 'notebooks/fraud/fraud.nbops.yaml', '0055AED6DCD90281E7'],
    ]);
  });

  it('is null for a raw Scheduler input, so such events are not deduplicated', () => {
    expect(search(IDEMPOTENCY_KEY_PATH, { endpoint: 'churn-prod' })).toBeNull();
  });
});

describe('idempotencyFromEnv', () => {
  it('is off when POWERTOOLS_IDEMPOTENCY_DISABLED is true, on with a table, and a clear error without one', () => {
    expect(
      idempotencyFromEnv({ POWERTOOLS_IDEMPOTENCY_DISABLED: 'true', NBOPS_IDEMPOTENCY_TABLE: 't' }),
    ).toEqual({
      kind: 'disabled',
    });
    expect(
      idempotencyFromEnv({ NBOPS_IDEMPOTENCY_TABLE: 'nbops-idempotency', AWS_REGION: 'eu-west-1' }).kind,
    ).toBe('enabled');
    const missing = idempotencyFromEnv({ POWERTOOLS_IDEMPOTENCY_DISABLED: 'false' });
    expect(missing).toMatchObject({ kind: 'misconfigured' });
    expect(missing.kind === 'misconfigured' && missing.message).toMatch(
      /NBOPS_IDEMPOTENCY_TABLE .* is not set\. Set it, or set POWERTOOLS_IDEMPOTENCY_DISABLED=true/,
    );
  });
});

describe('metricName', () => {
  it('names one metric per outcome kind in PascalCase', () => {
    expect(['training', 'training-failed', 'pending-approval', 'rolled-back'].map(metricName)).toEqual([
      'Training',
      'TrainingFailed',
      'PendingApproval',
      'RolledBack',
    ]);
  });
});

describe('deployed wiring', () => {
  it('builds the AWS services once and reuses them on warm invocations', () => {
    for (const name of Object.keys(REQUIRED_ENV)) vi.stubEnv(name, 'x');
    const services = lazyAwsServices(observability('deploy'));
    expect(services()).toBe(services());
  });

  it('imports without configuration and reports every missing variable on the first event', async () => {
    for (const name of Object.keys(REQUIRED_ENV)) vi.stubEnv(name, '');
    vi.stubEnv('POWERTOOLS_IDEMPOTENCY_DISABLED', 'true');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const { handler } = await import('../../../functions/deploy/index');
    await expect(handler(loadEvent('nbops-version-approved'), lambdaContext())).rejects.toThrow(
      /^nbops cannot start: AWS_REGION \(.*\), NBOPS_BUCKET \(.*NBOPS_RUNTIME_HASH \(.*\) are not set\./,
    );
    expect(errors.join('\n')).toContain('nbops cannot start');
  });
});
