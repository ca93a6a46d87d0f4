/**
 * What an AWS SDK error means for nbops: whether to retry it, and what to tell the user. Works
 * from the error's `name` (the AWS error code), `$metadata.httpStatusCode`, `$fault` and message,
 * so it covers SageMaker, CloudWatch, S3 and DynamoDB errors without importing their classes, and
 * also SageMaker FailureReason texts (passed as a string or `{message}`).
 */

export type AwsErrorKind =
  | 'throttled'
  | 'quota'
  | 'capacity'
  | 'access-denied'
  | 'validation'
  | 'already-exists'
  | 'not-found'
  | 'in-use'
  | 'transient'
  | 'unknown';

export interface AwsErrorClass {
  kind: AwsErrorKind;
  /** Worth retrying with backoff (throttling, capacity, 5xx and network errors). */
  retryable: boolean;
  /** What happened and what to do, for a person. */
  message: string;
}

interface ErrorFacts {
  name: string;
  message: string;
  status?: number;
  fault?: string;
  code?: string;
}

function facts(err: unknown): ErrorFacts {
  if (typeof err === 'string') return { name: '', message: err };
  if (err === null || typeof err !== 'object') return { name: '', message: String(err) };
  const e = err as Record<string, unknown>;
  const metadata = (e.$metadata ?? {}) as Record<string, unknown>;
  const status =
    typeof metadata.httpStatusCode === 'number'
      ? metadata.httpStatusCode
      : typeof e.statusCode === 'number'
        ? e.statusCode
        : undefined;
  const message =
    typeof e.message === 'string' && e.message !== ''
      ? e.message
      : typeof e.Message === 'string'
        ? e.Message
        : '';
  const out: ErrorFacts = {
    name:
      typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.Code === 'string' ? e.Code : '',
    message,
  };
  if (status !== undefined) out.status = status;
  if (typeof e.$fault === 'string') out.fault = e.$fault;
  if (typeof e.code === 'string') out.code = e.code;
  return out;
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceededException',
  'BandwidthLimitExceeded',
  'PriorLimitExceeded',
  'EC2ThrottledException',
  'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set([
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
  'IDPCommunicationError',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
const ACCESS_NAMES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'NotAuthorized',
]);
const NOT_FOUND_NAMES = new Set([
  'ResourceNotFound',
  'ResourceNotFoundException',
  'NoSuchKey',
  'NoSuchBucket',
  'NotFound',
  'NoSuchEntity',
]);
const VALIDATION_NAMES = new Set([
  'ValidationException',
  'ValidationError',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameterException',
  'MissingParameter',
  'MissingRequiredParameter',
  'SerializationException',
  'InvalidInputException',
]);

const CAPACITY_TEXT =
  /InsufficientCapacity|InsufficientInstanceCapacity|CapacityError|insufficient capacity|Unable to provision requested ML compute capacity/i;
const ALREADY_EXISTS_TEXT = /already exist|must be unique|ResourceAlreadyExists|AlreadyExists/i;
// DescribeTrainingJob answers a missing job with "Requested resource not found" (aws/aws-sdk#165).
const NOT_FOUND_TEXT = /could not find|requested resource not found/i;
const IN_USE_TEXT = /in-progress|in progress|in use|currently being|is updating|cannot update/i;
const ASSUME_ROLE_TEXT = /could not assume role|unable to assume|not authorized to perform|iam:PassRole/i;

/** The first ml.* instance type a message mentions. */
function instanceTypeIn(text: string): string | undefined {
  return /\bml\.[a-z0-9-]+\.[a-z0-9]+\b/.exec(text)?.[0];
}

/** The quota name SageMaker quotes in ResourceLimitExceeded: `The account-level service limit '<name>' is ...`. */
function quotaNameIn(text: string): string | undefined {
  return /service limit '([^']+)'/i.exec(text)?.[1];
}

function quotaMessage(f: ErrorFacts): string {
  const quota = quotaNameIn(f.message);
  const instance = instanceTypeIn(quota ?? f.message);
  if (instance) {
    const usage = quota ? /for (.+?) usage/i.exec(quota)?.[1] : undefined;
    const what = usage ? `${usage.replace(/ job$/i, '')} instances` : 'instances';
    const quotaLabel = quota ?? `${instance} for ${usage ?? 'training job'} usage`;
    return `your account's quota for ${instance} ${what} is exhausted; request an increase in Service Quotas (SageMaker, '${quotaLabel}') or choose another instance type. AWS said: ${f.message}`;
  }
  if (quota)
    return `your account has reached the SageMaker quota '${quota}'; request an increase in Service Quotas (SageMaker) or remove unused resources. AWS said: ${f.message}`;
  return `an AWS service quota or limit was reached; request an increase in Service Quotas or remove unused resources. AWS said: ${f.message || f.name}`;
}

function result(kind: AwsErrorKind, retryable: boolean, message: string): AwsErrorClass {
  return { kind, retryable, message };
}

/** Classifies an SDK error (or a FailureReason text) into what nbops does about it. */
export function classifyAwsError(err: unknown): AwsErrorClass {
  const f = facts(err);
  // AWS messages often end with a period; drop it so "${said}." does not print "..".
  const said = f.message ? `: ${f.message.replace(/[.\s]+$/, '')}` : '';
  const name = f.name;

  if (THROTTLING_NAMES.has(name) || f.status === 429 || /rate exceeded|throttl/i.test(f.message))
    return result(
      'throttled',
      true,
      `AWS throttled the request (${name || 'HTTP 429'})${said}; nbops retries with backoff. If it keeps happening, lower the request rate or ask for a higher API rate limit.`,
    );

  if (CAPACITY_TEXT.test(f.message) || /InsufficientCapacity/i.test(name)) {
    const instance = instanceTypeIn(f.message);
    return result(
      'capacity',
      true,
      `AWS has no spare capacity for ${instance ?? 'the requested instance type'} in this Region right now${said}. Retry later, choose another instance type, or (for training) enable spot with a longer maxWait.`,
    );
  }

  if (
    name === 'ResourceLimitExceeded' ||
    name === 'LimitExceededException' ||
    name === 'LimitExceeded' ||
    name === 'ServiceQuotaExceededException' ||
    /service limit|quota/i.test(f.message)
  )
    return result('quota', false, quotaMessage(f));

  if (
    ALREADY_EXISTS_TEXT.test(f.message) ||
    name === 'ResourceAlreadyExistsException' ||
    name === 'AlreadyExistsException'
  )
    return result(
      'already-exists',
      false,
      `the resource already exists${said}. Creates are idempotent: nbops compares it with the request instead of creating it again.`,
    );

  if (ACCESS_NAMES.has(name) || f.status === 403 || ASSUME_ROLE_TEXT.test(f.message))
    return result(
      'access-denied',
      false,
      `access denied${said}. Grant the missing permission named there to the calling role (for "could not assume role" or iam:PassRole: fix the SageMaker execution role's trust policy or the caller's iam:PassRole permission).`,
    );

  if (
    NOT_FOUND_NAMES.has(name) ||
    f.status === 404 ||
    (VALIDATION_NAMES.has(name) && NOT_FOUND_TEXT.test(f.message))
  )
    return result('not-found', false, `the resource does not exist${said}.`);

  if (
    name === 'ResourceInUse' ||
    name === 'ResourceInUseException' ||
    name === 'ConflictException' ||
    name === 'ConcurrentModificationException' ||
    (VALIDATION_NAMES.has(name) && IN_USE_TEXT.test(f.message))
  )
    return result(
      'in-use',
      false,
      `the resource is busy or in a state that does not allow this change${said}. Wait until its current operation finishes (e.g. the endpoint is InService again), then retry.`,
    );

  if (VALIDATION_NAMES.has(name) || f.status === 400)
    return result(
      'validation',
      false,
      `AWS rejected the request as invalid${said}. Fix the value it names (usually a manifest or policy field); retrying the same request fails the same way.`,
    );

  if (
    TRANSIENT_NAMES.has(name) ||
    (f.status !== undefined && f.status >= 500) ||
    f.fault === 'server' ||
    (f.code !== undefined && NETWORK_CODES.has(f.code)) ||
    /socket hang up|ECONNRESET|ETIMEDOUT/.test(f.message)
  )
    return result(
      'transient',
      true,
      `AWS or the network failed temporarily (${name || f.code || `HTTP ${f.status ?? '?'}`})${said}; nbops retries with backoff.`,
    );

  return result('unknown', false, `unexpected error${name ? ` ${name}` : ''}${said}.`);
}
