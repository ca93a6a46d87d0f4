/**
 * Powertools idempotency for the handlers: a redelivered event (EventBridge and S3 deliver at least
 * once) returns the stored outcome instead of running the use case again. The use cases are
 * idempotent on their own (deterministic names, conditional registry writes); this layer saves the
 * repeated work and keeps duplicate side effects such as notifications from happening twice.
 */

import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The event's stable identity, as a JMESPath over the raw event: the EventBridge `id` (the same on
 * every redelivery of one event), or for classic S3 notifications the bucket, key and sequencer of
 * each record (the same for a redelivered write, different for a new write of the same key).
 * Events with neither (a raw Scheduler input) yield null: idempotency is skipped for them.
 */
export const IDEMPOTENCY_KEY_PATH = 'id || Records[*].[s3.bucket.name, s3.object.key, s3.object.sequencer]';

/** How long an outcome is remembered: EventBridge retries a delivery for up to 24 hours. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export type IdempotencySetup =
  | { kind: 'disabled' }
  | { kind: 'enabled'; persistenceStore: BasePersistenceLayer; config: IdempotencyConfig }
  | { kind: 'misconfigured'; message: string };

export function idempotencyConfig(): IdempotencyConfig {
  return new IdempotencyConfig({
    eventKeyJmesPath: IDEMPOTENCY_KEY_PATH,
    expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
  });
}

/** From the environment: POWERTOOLS_IDEMPOTENCY_DISABLED, NBOPS_IDEMPOTENCY_TABLE, AWS_REGION. */
export function idempotencyFromEnv(env: Record<string, string | undefined> = process.env): IdempotencySetup {
  if (isTruthy(env.POWERTOOLS_IDEMPOTENCY_DISABLED)) return { kind: 'disabled' };
  const tableName = env.NBOPS_IDEMPOTENCY_TABLE?.trim();
  if (!tableName)
    return {
      kind: 'misconfigured',
      message:
        'nbops cannot start: NBOPS_IDEMPOTENCY_TABLE (the DynamoDB table for idempotency records, partition key `id`) is not set. ' +
        'Set it, or set POWERTOOLS_IDEMPOTENCY_DISABLED=true to run without it (tests, local host).',
    };
  return {
    kind: 'enabled',
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: new DynamoDBClient(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    }),
    config: idempotencyConfig(),
  };
}

/** Powertools' reading of boolean variables: 1, y, yes, t, true, on (any case). */
function isTruthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|y|yes|t|true|on)$/i.test(value.trim());
}
