/**
 * How every checked AWS call in the adapters is made: the request is checked against the official
 * API model first (core/aws/api-model.ts), so a bad manifest or policy value fails with the field
 * path and the rule instead of an AWS ValidationException, and nothing is sent; then it is sent
 * through withRetry, so throttling and transient faults are retried with backoff and jitter.
 *
 * A wrapper rather than an SDK middleware: it is explicit at each call site, it checks the plain
 * input object before the SDK serialises it, and tests using aws-sdk-client-mock (which replaces
 * `send` and so bypasses the middleware stack) exercise it too.
 */

import { type AwsService, assertValidRequest } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { type RetryOptions, withRetry } from '#core/aws/retry';

/** Backoff for control-plane calls: SageMaker's Create and Describe limits are a few calls a second. */
export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseMs: 250, maxMs: 5_000 };

export interface AdapterOptions {
  /** Overrides of the retry policy (tests pass a no-op `sleep`). */
  retry?: Partial<RetryOptions>;
}

export function retryOptions(options: AdapterOptions = {}): RetryOptions {
  return { ...DEFAULT_RETRY, ...options.retry };
}

export async function checkedCall<T>(
  service: AwsService,
  operation: string,
  input: object,
  send: () => Promise<T>,
  retry: RetryOptions,
): Promise<T> {
  assertValidRequest(service, operation, input);
  return withRetry(send, retry);
}

/**
 * "The resource does not exist", as SageMaker says it: ResourceNotFound, a ValidationException
 * "Could not find ..." (DescribeEndpoint, DescribeModel, DescribeEndpointConfig), or a
 * ValidationException "Requested resource not found." (DescribeTrainingJob, see aws/aws-sdk#165).
 */
export function isNotFound(err: unknown): boolean {
  if (classifyAwsError(err).kind === 'not-found') return true;
  const e = err as { name?: unknown; message?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.name === 'ValidationException' &&
    typeof e.message === 'string' &&
    /requested resource not found/i.test(e.message)
  );
}
