/**
 * The AWS Services for the handlers: built on the first invocation that needs them (not at import,
 * so a cold start pays only for module loading and a misconfigured function reports its missing
 * variables as a clear error), then kept in module scope and reused by every warm invocation.
 */
import { awsServicesFromEnv } from '#adapters/aws/services';
import type { Services } from '#core/ports';
import type { Observability } from './observability';

/** Services from the environment, with every SDK client traced by the handler's Tracer. */
export function lazyAwsServices(obs: Observability): () => Services {
  let cached: Services | undefined;
  return () => {
    cached ??= awsServicesFromEnv(process.env, {
      instrument: (client) => obs.tracer.captureAWSv3Client(client),
      log: (message, fields) => obs.logger.info(message, { notification: fields }),
    });
    return cached;
  };
}
