/**
 * ops-api: the operator API behind a Lambda Function URL with IAM auth (infra addOpsApi). Lists
 * models and versions, shows a version with its lineage, approves and declines, rolls back,
 * retrains, retires, and answers drift history, incidents, training log locations and the HTML
 * version report. Routes and responses: http.ts and docs/operations.md.
 *
 * The same middy stack as the event handlers (Tracer, Logger, Metrics) without Powertools
 * idempotency: HTTP retries are recognised by their request id inside the operations instead. The
 * error policy differs: a caller waits for an answer, so every outcome is a response. Refusals
 * are 4xx with a code; failures are 5xx whose body never carries the error's details (the log does).
 * An invocation that is not a Function URL request is a poison event: logged, counted, ignored.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, LambdaFunctionURLResult } from 'aws-lambda';
import { ConfigError } from '#adapters/aws/services';
import { classifyAwsError } from '#core/aws/errors';
import { asOpsError } from '#core/ops/errors';
import type { HandlerDeps, Ignored } from '../commons/handler';
import { observability } from '../commons/observability';
import { lazyAwsServices } from '../commons/services';
import { errorReply, isFunctionUrlEvent, parseRequest, type Reply, route, toResult } from './http';

export type OpsApiResult = LambdaFunctionURLResult | Ignored;

export const makeHandler = (deps: HandlerDeps) => {
  const { logger, metrics, tracer } = deps.observability;

  const handle = async (event: unknown, context: Context): Promise<OpsApiResult> => {
    if (!isFunctionUrlEvent(event)) {
      const reason =
        'the ops API takes Lambda Function URL requests (payload format 2.0); this event is not one';
      logger.warn('Ignored an event that cannot be processed; redelivering it would fail the same way', {
        reason,
      });
      count(metrics, 'PoisonEvent');
      return { kind: 'ignored', reason };
    }
    const started = Date.now();
    let requestId = context.awsRequestId;
    let reply: Reply;
    let fields: Record<string, unknown> = {};
    try {
      const services = deps.services();
      const request = parseRequest(event, services.clock.now());
      requestId = request.requestId;
      fields = { method: request.method, path: request.path, caller: request.identity, requestId };
      reply = await route(services, request);
    } catch (err) {
      reply = failureReply(err, requestId, context.awsRequestId, logger);
    }
    const code = (reply.json as { code?: string } | undefined)?.code;
    logger.info(`${reply.status}${code ? ` ${code}` : ''}`, {
      ...fields,
      status: reply.status,
      code,
      ms: Date.now() - started,
    });
    tracer.putAnnotation('status', reply.status);
    count(metrics, 'OpsRequest');
    if (reply.status >= 500) count(metrics, 'OpsFailed');
    else if (reply.status >= 400) count(metrics, 'OpsRefused');
    return toResult(reply, requestId);
  };

  return middy<unknown, OpsApiResult, Error, Context>(handle)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
};

/** A refusal (4xx with its code) or a failure (5xx, details only in the log). */
function failureReply(err: unknown, requestId: string, invocationId: string, logger: Logger): Reply {
  const refusal = asOpsError(err);
  if (refusal) return errorReply(refusal.status, refusal.code, refusal.message, requestId);
  if (err instanceof ConfigError) {
    logger.error(err.message);
    return errorReply(500, 'MISCONFIGURED', err.message, requestId);
  }
  const classified = classifyAwsError(err);
  if (classified.retryable) {
    logger.warn(`Retryable failure: ${classified.message}`, { error: err as Error });
    return errorReply(503, 'RETRY_LATER', `${classified.message} Send the same request again.`, requestId);
  }
  logger.error('Ops request failed', { error: err as Error, kind: classified.kind });
  return errorReply(
    500,
    'INTERNAL',
    `nbops could not complete the request; the error is logged under invocation ${invocationId}. Retrying the same request is safe.`,
    requestId,
  );
}

function count(metrics: Metrics, name: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/** The deployed configuration: AWS services from the environment; no idempotency table needed. */
export function defaultOpsDeps(): HandlerDeps {
  const obs = observability('ops-api');
  return { observability: obs, services: lazyAwsServices(obs), idempotency: { kind: 'disabled' } };
}

export const handler = makeHandler(defaultOpsDeps());
