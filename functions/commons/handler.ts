/**
 * The one middy stack every nbops handler uses, and the error policy around the use case.
 *
 * Order (engineering.md): Tracer (captureLambdaHandler), Logger (injectLambdaContext), Metrics
 * (logMetrics), then Idempotency (makeHandlerIdempotent) innermost, so a replayed event still gets
 * its trace, logs and metrics flushed while the use case does not run again.
 *
 * Error policy:
 * - an event the parser cannot read (EventParseError) is a poison event: retrying delivers the
 *   same bytes, so it is logged with the reason and answered `{kind: 'ignored'}`;
 * - an error classified retryable (throttling, capacity, 5xx, network) or a RetryLaterError from
 *   the use case is rethrown, so Lambda's async retries (and then the DLQ) take the event;
 * - anything else that escapes the use case (the use cases record the failures they expect) is
 *   logged with its classification and rethrown too: losing an event silently is worse than an
 *   entry in the DLQ that can be redriven once the cause is fixed.
 */
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from '#adapters/aws/services';
import { classifyAwsError } from '#core/aws/errors';
import { EventParseError } from '#core/events/parse';
import type { Services } from '#core/ports';
import { isRetryLater } from '#core/service/errors';
import type { HandlerName } from '#core/wiring';
import { type IdempotencySetup, idempotencyFromEnv } from './idempotency';
import { type Observability, observability } from './observability';
import { lazyAwsServices } from './services';

/** A core use case: `(services, input) => outcome` (layers/core/service). */
export type UseCase<I, O> = (services: Services, input: I) => Promise<O>;

export interface Outcome {
  kind: string;
}

export interface Ignored {
  kind: 'ignored';
  reason: string;
}

export interface HandlerSpec<I, O extends Outcome> {
  name: HandlerName;
  /** Raw event -> use-case input; throws EventParseError for an event it cannot read. */
  parse(event: unknown): I;
  /** Runs the use case(s) for the input. */
  run(services: Services, input: I, logger: Logger): Promise<O>;
  /** Metrics to count for an outcome; by default one named after its kind (`training-failed` -> `TrainingFailed`). */
  metrics?(outcome: O): Record<string, number>;
}

/** What a handler is built from; tests pass their own. */
export interface HandlerDeps {
  /** The ports, built on first use and reused (see services.ts). */
  services: () => Services;
  observability: Observability;
  idempotency: IdempotencySetup;
}

export type EventHandler<O> = MiddyfiedHandler<unknown, O | Ignored, Error, Context>;

/** The deployed configuration: Powertools for `name`, AWS services and idempotency from the environment. */
export function defaultDeps(name: HandlerName): HandlerDeps {
  const obs = observability(name);
  return { observability: obs, services: lazyAwsServices(obs), idempotency: idempotencyFromEnv() };
}

export function makeEventHandler<I, O extends Outcome>(
  spec: HandlerSpec<I, O>,
  deps: HandlerDeps,
): EventHandler<O> {
  const { logger, metrics, tracer } = deps.observability;

  const handle = async (event: unknown): Promise<O | Ignored> => {
    let input: I;
    try {
      input = spec.parse(event);
    } catch (err) {
      if (!(err instanceof EventParseError)) throw err;
      logger.warn('Ignored an event that cannot be processed; redelivering it would fail the same way', {
        reason: err.message,
        field: err.field,
      });
      count(metrics, { PoisonEvent: 1 });
      return { kind: 'ignored', reason: err.message };
    }
    let outcome: O;
    try {
      outcome = await spec.run(deps.services(), input, logger);
    } catch (err) {
      reportFailure(logger, metrics, err);
      throw err;
    }
    logger.info(`Outcome: ${outcome.kind}`, { outcome });
    tracer.putAnnotation('outcome', outcome.kind);
    count(metrics, spec.metrics?.(outcome) ?? { [metricName(outcome.kind)]: 1 });
    return outcome;
  };

  const handler = middy<unknown, O | Ignored, Error, Context>(handle)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
  const idempotency = deps.idempotency;
  if (idempotency.kind === 'enabled')
    handler.use(
      makeHandlerIdempotent({ persistenceStore: idempotency.persistenceStore, config: idempotency.config }),
    );
  else if (idempotency.kind === 'misconfigured')
    handler.use({
      before: () => {
        logger.error(idempotency.message);
        throw new ConfigError(idempotency.message);
      },
    });
  return handler;
}

/** `training-failed` -> `TrainingFailed`: one CloudWatch metric per outcome kind. */
export function metricName(kind: string): string {
  return kind
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

function count(metrics: Metrics, counts: Record<string, number>): void {
  for (const [name, value] of Object.entries(counts)) metrics.addMetric(name, MetricUnit.Count, value);
}

function reportFailure(logger: Logger, metrics: Metrics, err: unknown): void {
  if (err instanceof ConfigError) {
    logger.error(err.message);
    count(metrics, { ConfigError: 1 });
    return;
  }
  if (isRetryLater(err)) {
    logger.warn(`Not yet, the event will be redelivered: ${err.message}`);
    count(metrics, { RetryLater: 1 });
    return;
  }
  const classified = classifyAwsError(err);
  const fields = { kind: classified.kind, error: err as Error };
  if (classified.retryable) {
    logger.warn(`Retryable failure, the event will be redelivered: ${classified.message}`, fields);
    count(metrics, { RetryableError: 1 });
  } else {
    logger.error(
      `Failed: ${classified.message} The event goes to the dead-letter queue after Lambda's retries.`,
      fields,
    );
    count(metrics, { Error: 1 });
  }
}
