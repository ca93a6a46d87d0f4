/**
 * Calling AWS safely under at-least-once delivery: retries with exponential backoff and full
 * jitter for errors worth retrying, and creates that are no-ops when a previous attempt (a
 * duplicate event, a lost response) already made the same resource.
 */
import { type AwsErrorClass, classifyAwsError } from './errors';

export interface RetryOptions {
  /** Total tries, the first included (>= 1). */
  attempts: number;
  /** Backoff cap before jitter for the first retry; doubles each retry. */
  baseMs: number;
  /** Upper bound of any single wait. */
  maxMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
  /** Called before each wait, e.g. to log the retry. */
  onRetry?: (info: { attempt: number; delayMs: number; error: AwsErrorClass }) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `retry` (1-based): uniform in [0, min(maxMs, baseMs * 2^(retry-1))). */
export function backoffDelay(
  retry: number,
  options: Pick<RetryOptions, 'baseMs' | 'maxMs' | 'random'>,
): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** (retry - 1));
  return Math.floor((options.random ?? Math.random)() * cap);
}

/**
 * Runs `fn` until it succeeds, the error is not retryable (classifyAwsError), or `attempts` tries
 * are used up; then rethrows the last error unchanged.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts));
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const error = classifyAwsError(err);
      if (!error.retryable || attempt >= attempts) throw err;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

export interface Difference {
  /** Field path in the request, e.g. `HyperParameters.epochs`. */
  path: string;
  requested: unknown;
  existing: unknown;
}

/** A deterministic name is taken by a resource made from different inputs. */
export class NameCollisionError extends Error {
  constructor(
    readonly resource: string,
    readonly differences: Difference[],
    readonly existingId: string | undefined,
  ) {
    const shown = differences
      .slice(0, 5)
      .map((d) => `${d.path} is ${show(d.existing)} there but ${show(d.requested)} in this request`)
      .join('; ');
    const more = differences.length > 5 ? ` (and ${differences.length - 5} more differences)` : '';
    super(
      `${resource} already exists${existingId ? ` (${existingId})` : ''} but was created from different inputs than this request: ${shown}${more}. ` +
        'nbops derives names from the model, version and content, so this means the same version was submitted twice with different settings, or the name was created outside nbops. ' +
        'Delete the existing resource if it is unused, or submit the change as a new version.',
    );
    this.name = 'NameCollisionError';
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'absent';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Where `requested` differs from `existing`. Describe calls add defaults the request did not set
 * (e.g. a channel's CompressionType), so `existing` may have extra object members; everything the
 * request sets must be there with the same value, and lists must have the same length.
 */
export function differences(requested: unknown, existing: unknown, path = ''): Difference[] {
  if (Array.isArray(requested)) {
    if (!Array.isArray(existing) || existing.length !== requested.length)
      return [{ path: path || '(value)', requested, existing }];
    return requested.flatMap((item, i) => differences(item, existing[i], `${path}[${i}]`));
  }
  if (requested !== null && typeof requested === 'object' && !(requested instanceof Date)) {
    if (existing === null || typeof existing !== 'object' || Array.isArray(existing))
      return [{ path: path || '(value)', requested, existing }];
    return Object.entries(requested as Record<string, unknown>).flatMap(([key, value]) =>
      value === undefined
        ? []
        : differences(value, (existing as Record<string, unknown>)[key], path ? `${path}.${key}` : key),
    );
  }
  return Object.is(requested, existing) ? [] : [{ path: path || '(value)', requested, existing }];
}

/** Request members Describe calls never return, so they cannot be compared. */
export const UNCOMPARABLE_MEMBERS = ['Tags', 'ClientToken', 'DeploymentConfig', 'RetainAllVariantProperties'];

export interface ExpectedResource {
  /** What is being created, for messages: `training job churn-v1-1a2b3c4d`. */
  resource: string;
  /** The create request; its members (less UNCOMPARABLE_MEMBERS and `ignore`) are compared with the description. */
  input: object;
  ignore?: readonly string[];
}

export type IdempotentResult<O, D> = { created: true; output: O } | { created: false; existing: D };

/**
 * Creates a resource, treating "already exists" as success when the existing resource was made
 * from the same inputs (compared through `describe`). A name taken by different inputs throws a
 * NameCollisionError naming the resource and each differing field with both values. Any other
 * error is rethrown.
 */
export async function createIdempotently<O, D extends object>(
  create: () => Promise<O>,
  describe: () => Promise<D>,
  expected: ExpectedResource,
): Promise<IdempotentResult<O, D>> {
  try {
    return { created: true, output: await create() };
  } catch (err) {
    if (classifyAwsError(err).kind !== 'already-exists') throw err;
  }
  const existing = await describe();
  const skip = new Set([...UNCOMPARABLE_MEMBERS, ...(expected.ignore ?? [])]);
  const compared = Object.fromEntries(Object.entries(expected.input).filter(([key]) => !skip.has(key)));
  const diff = differences(compared, existing);
  if (diff.length > 0) throw new NameCollisionError(expected.resource, diff, arnOf(existing));
  return { created: false, existing };
}

/** The described resource's own ARN (`TrainingJobArn`, `ModelArn`, ...), not a role's. */
function arnOf(description: object): string | undefined {
  for (const [key, value] of Object.entries(description))
    if (key.endsWith('Arn') && !key.includes('Role') && typeof value === 'string' && value.startsWith('arn:'))
      return value;
  return undefined;
}
