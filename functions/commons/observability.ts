/**
 * Powertools Logger, Metrics and Tracer for one handler: structured JSON logs with the Lambda
 * context, EMF metrics in namespace `nbops` with the handler's name as service, and X-Ray traces.
 * Built at module load (cheap), once per function instance.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { HandlerName } from '#core/wiring';

export const METRICS_NAMESPACE = 'nbops';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

export function observability(handler: HandlerName): Observability {
  return {
    logger: new Logger({ serviceName: handler }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: handler }),
    tracer: new Tracer({ serviceName: handler }),
  };
}
