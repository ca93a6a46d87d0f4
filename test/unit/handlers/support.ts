// What the handler tests share: a Lambda context, deps with real Powertools objects writing to a
// captured console, and a stand-in Services object the stub use cases must receive unchanged.
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import type { Services } from '#core/ports';
import type { HandlerName } from '#core/wiring';
import type { HandlerDeps } from '../../../functions/commons/handler';
import type { IdempotencySetup } from '../../../functions/commons/idempotency';
import { observability } from '../../../functions/commons/observability';

export function lambdaContext(functionName = 'nbops-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(16).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/03/02/[$LATEST]abc',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The handler only passes Services through; the stub use cases check they got this object. */
export const SERVICES = { marker: 'test services' } as unknown as Services;

export interface Captured {
  /** Structured log lines (Powertools Logger), parsed. */
  logs: Record<string, unknown>[];
  /** EMF documents (Powertools Metrics), parsed. */
  emf: Record<string, unknown>[];
}

/**
 * Deps for a handler under test. Powertools runs in dev mode (POWERTOOLS_DEV) so it writes to the
 * global console, which is captured; metrics are on only when asked for.
 */
export function testDeps(
  name: HandlerName,
  options: { metrics?: boolean; idempotency?: IdempotencySetup } = {},
): HandlerDeps & { captured: Captured } {
  // Powertools reads these when its objects are built; they are restored right after.
  const env = {
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: options.metrics ? 'false' : 'true',
    POWERTOOLS_IDEMPOTENCY_DISABLED: options.idempotency ? 'false' : 'true',
  };
  const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  const captured: Captured = { logs: [], emf: [] };
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const)
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      for (const arg of args) {
        if (typeof arg !== 'string') continue;
        try {
          const parsed = JSON.parse(arg) as Record<string, unknown>;
          ('_aws' in parsed ? captured.emf : captured.logs).push(parsed);
        } catch {
          // not a Powertools line
        }
      }
    });
  const obs = observability(name);
  for (const [key, value] of Object.entries(previous))
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  return {
    observability: obs,
    services: () => SERVICES,
    idempotency: options.idempotency ?? { kind: 'disabled' },
    captured,
  };
}

/** Metric names and values of the captured EMF documents, e.g. `{ Training: 1 }`. */
export function metricValues(captured: Captured): Record<string, number> {
  const values: Record<string, number> = {};
  for (const doc of captured.emf) {
    const aws = doc._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
    for (const directive of aws.CloudWatchMetrics)
      for (const { Name } of directive.Metrics) values[Name] = (values[Name] ?? 0) + Number(doc[Name]);
  }
  return values;
}

export function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
