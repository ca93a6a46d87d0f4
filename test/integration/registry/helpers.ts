// Each test gets its own table on the shared dynalite, so test files run concurrently.
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { DynamoRegistry, type DynamoRegistryOptions } from '#adapters/dynamodb/registry';
import { createRegistryTable } from '#adapters/dynamodb/table';
import { localDynamoClient } from '#adapters/local/emulators';
import type { Status } from '#core/registry/lifecycle';
import type { Registry } from '#core/registry/registry';
import type { AuditEvent, RegisterUploadInput } from '#core/registry/types';

export interface TestRegistry {
  registry: DynamoRegistry;
  client: DynamoDBClient;
  tableName: string;
  /** Commands sent through `client` since the last reset, by name (GetItem, Query, ...). */
  sent: Map<string, number>;
  /** Another registry on the same table, e.g. with different options. */
  withOptions(options: Partial<DynamoRegistryOptions>): DynamoRegistry;
}

export async function freshRegistry(options: Partial<DynamoRegistryOptions> = {}): Promise<TestRegistry> {
  const client = localDynamoClient(inject('emulators').dynamodbEndpoint);
  const sent = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      sent.set(name, (sent.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const tableName = `registry-${randomUUID()}`;
  await createRegistryTable(client, tableName);
  const withOptions = (more: Partial<DynamoRegistryOptions>) =>
    new DynamoRegistry({ client, tableName, ...options, ...more });
  return { registry: withOptions({}), client, tableName, sent, withOptions };
}

let counter = 0;

/** A plausible upload of `model`; `n` makes the upload (and its event) distinct. */
export function upload(
  model: string,
  n = ++counter,
  overrides: Partial<RegisterUploadInput> = {},
): RegisterUploadInput {
  return {
    model,
    uploadId: `nbops-uploads/notebooks/${model}/train.ipynb#etag-${n}`,
    owner: 'team-churn',
    uploader: 'alice@example.com',
    notebook: {
      bucket: 'nbops-uploads',
      key: `notebooks/${model}/train.ipynb`,
      sha256: `sha-${n}`,
      etag: `etag-${n}`,
    },
    manifestHash: `manifest-${n}`,
    sourceEventId: `s3-event-${n}`,
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, n % 60)).toISOString(),
    ...overrides,
  };
}

/** ISO time `minutes` after a fixed start, so test timelines are readable and ordered. */
export function minute(minutes: number): string {
  return new Date(Date.UTC(2025, 0, 2, 0, minutes)).toISOString();
}

/** Audit events as short steps: the status reached, or `champion=2` for an alias move. */
export function auditSteps(events: AuditEvent[]): string[] {
  return events.map((event) => (event.kind === 'alias' ? `${event.alias}=${event.version}` : event.to));
}

export const PATH_TO_PENDING: Status[] = [
  'VALIDATED',
  'TRAINING',
  'TRAINED',
  'GATES_PASSED',
  'PENDING_APPROVAL',
];
export const PATH_TO_DEPLOYED: Status[] = [...PATH_TO_PENDING, 'APPROVED', 'DEPLOYING', 'DEPLOYED'];

/** Move a version along `path`, one event per step; approvals come from bob@example.com. */
export async function walk(
  registry: Registry,
  model: string,
  version: number,
  path: Status[],
): Promise<void> {
  for (const [i, to] of path.entries()) {
    const step = { reason: 'test', sourceEventId: `${model}-${version}-${to}`, at: minute(i + 1) };
    if (to === 'APPROVED' && (await registry.getVersion(model, version))?.status === 'PENDING_APPROVAL') {
      await registry.recordApproval(model, version, {
        ...step,
        approver: 'bob@example.com',
        decision: 'approve',
      });
    } else {
      await registry.transition(model, version, { ...step, to, actor: 'pipeline' });
    }
  }
}
