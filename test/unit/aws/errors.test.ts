import {
  ResourceInUse,
  ResourceLimitExceeded,
  ResourceNotFound,
  SageMakerServiceException,
} from '@aws-sdk/client-sagemaker';
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '#core/aws/errors';

const metadata = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: '5f2c1c9e-1d0a-4c1e-9d7b-2b6b0c6c1a11',
  attempts: 1,
  totalRetryDelay: 0,
});

/** An error the way the SDK builds it for codes without their own class (awsJson1_1 `__type`). */
function serviceError(name: string, message: string, status = 400, fault: 'client' | 'server' = 'client') {
  return new SageMakerServiceException({ name, $fault: fault, $metadata: metadata(status), message });
}

describe('classifyAwsError', () => {
  it('throttling: retryable', () => {
    const c = classifyAwsError(serviceError('ThrottlingException', 'Rate exceeded'));
    expect(c).toMatchObject({ kind: 'throttled', retryable: true });
    expect(c.message).toContain('retries with backoff');
    expect(classifyAwsError({ name: 'SlowDown', $metadata: metadata(503) }).kind).toBe('throttled');
  });

  it('instance quota: names the instance, the Service Quotas entry and the alternatives', () => {
    const err = new ResourceLimitExceeded({
      $metadata: metadata(400),
      message:
        "The account-level service limit 'ml.g5.xlarge for training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.",
    });
    const c = classifyAwsError(err);
    expect(c.kind).toBe('quota');
    expect(c.retryable).toBe(false);
    expect(c.message).toMatch(
      /^your account's quota for ml\.g5\.xlarge training instances is exhausted; request an increase in Service Quotas \(SageMaker, 'ml\.g5\.xlarge for training job usage'\) or choose another instance type/,
    );
    const endpoint = classifyAwsError(
      new ResourceLimitExceeded({
        $metadata: metadata(400),
        message: "The account-level service limit 'ml.g5.2xlarge for endpoint usage' is 0 Instances, ...",
      }),
    );
    expect(endpoint.message).toContain('quota for ml.g5.2xlarge endpoint instances');
  });

  it('other limits: quota, not retried', () => {
    const c = classifyAwsError(
      serviceError('LimitExceededException', 'The maximum number of alarms has been reached'),
    );
    expect(c).toMatchObject({ kind: 'quota', retryable: false });
  });

  it('capacity: retryable, suggests another instance type', () => {
    const c = classifyAwsError(
      'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.',
    );
    expect(c).toMatchObject({ kind: 'capacity', retryable: true });
    expect(c.message).toContain('another instance type');
    expect(
      classifyAwsError(serviceError('InsufficientCapacityError', 'no capacity for ml.p4d.24xlarge')).kind,
    ).toBe('capacity');
  });

  it('access denied, including a role SageMaker cannot assume', () => {
    const denied = serviceError(
      'AccessDeniedException',
      'User: arn:aws:sts::123456789012:assumed-role/nbops-submit/fn is not authorized to perform: sagemaker:CreateTrainingJob on resource: arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-v1-1a2b3c4d because no identity-based policy allows the sagemaker:CreateTrainingJob action',
    );
    expect(classifyAwsError(denied)).toMatchObject({ kind: 'access-denied', retryable: false });
    expect(classifyAwsError(denied).message).toContain('sagemaker:CreateTrainingJob');
    const role = serviceError(
      'ValidationException',
      'Could not assume role arn:aws:iam::123456789012:role/nbops-sagemaker-execution. Please ensure that the role exists and allows principal sagemaker.amazonaws.com to assume the role.',
    );
    expect(classifyAwsError(role).kind).toBe('access-denied');
  });

  it('already exists: the messages each create uses', () => {
    const cases = [
      serviceError(
        'ValidationException',
        'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn".',
      ),
      serviceError(
        'ValidationException',
        'Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/churn-v1".',
      ),
      serviceError('ValidationException', 'Cannot create already existing training job "churn-v1-1a2b3c4d".'),
      new ResourceInUse({
        $metadata: metadata(400),
        message:
          'Training job names must be unique within an AWS account and region, and a training job with this name already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-v1-1a2b3c4d)',
      }),
    ];
    for (const err of cases)
      expect(classifyAwsError(err), err.message).toMatchObject({ kind: 'already-exists', retryable: false });
  });

  it('not found: ResourceNotFound and "Could not find" validation errors', () => {
    expect(
      classifyAwsError(
        new ResourceNotFound({ $metadata: metadata(400), message: 'Requested resource not found.' }),
      ).kind,
    ).toBe('not-found');
    expect(
      classifyAwsError(
        serviceError(
          'ValidationException',
          'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn".',
        ),
      ).kind,
    ).toBe('not-found');
    // DescribeTrainingJob for a job that does not exist (aws/aws-sdk#165).
    expect(classifyAwsError(serviceError('ValidationException', 'Requested resource not found.')).kind).toBe(
      'not-found',
    );
  });

  it('in use: an endpoint still updating', () => {
    const c = classifyAwsError(
      serviceError(
        'ValidationException',
        'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn".',
      ),
    );
    expect(c).toMatchObject({ kind: 'in-use', retryable: false });
    expect(c.message).toContain('Wait until');
    expect(
      classifyAwsError(new ResourceInUse({ $metadata: metadata(400), message: 'Resource in use' })).kind,
    ).toBe('in-use');
  });

  it('validation: not retried, points at the field', () => {
    const c = classifyAwsError(
      serviceError(
        'ValidationException',
        "1 validation error detected: Value 'ml.g5.huge' at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set",
      ),
    );
    expect(c).toMatchObject({ kind: 'validation', retryable: false });
    expect(c.message).toContain('resourceConfig.instanceType');
  });

  it('5xx and network failures: transient, retryable', () => {
    expect(
      classifyAwsError(serviceError('InternalFailure', 'An internal error occurred', 500, 'server')),
    ).toMatchObject({
      kind: 'transient',
      retryable: true,
    });
    expect(classifyAwsError(serviceError('ServiceUnavailable', '', 503, 'server')).kind).toBe('transient');
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAwsError(reset).kind).toBe('transient');
    expect(
      classifyAwsError({ name: 'TimeoutError', message: 'Connection timed out after 5000 ms' }).kind,
    ).toBe('transient');
  });

  it('anything else: unknown, not retried, never throws', () => {
    for (const value of [new Error('boom'), null, undefined, 42, {}, { name: 7 }])
      expect(classifyAwsError(value)).toMatchObject({ kind: 'unknown', retryable: false });
  });
});
