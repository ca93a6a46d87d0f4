// Powertools idempotency as the handlers configure it, on a real DynamoDB protocol (dynalite): a
// redelivered event runs the use case once and gets the stored outcome back.
import { randomUUID } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { localDynamoClient } from '#adapters/local/emulators';
import type { DeployOutcome, NotebookUpload, SubmitOutcome, VersionApproved } from '#core/service/contracts';
import { idempotencyConfig } from '../../../functions/commons/idempotency';
import { makeHandler as deployHandler } from '../../../functions/deploy/index';
import { makeHandler as submitHandler } from '../../../functions/submit/index';
import { loadEvent } from '../../fixtures/events';
import { awsError, lambdaContext, testDeps } from '../../unit/handlers/support';

async function idempotencyTable() {
  const client = localDynamoClient(inject('emulators').dynamodbEndpoint);
  const tableName = `idempotency-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    kind: 'enabled' as const,
    persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client }),
    config: idempotencyConfig(),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('handlers with idempotency enabled (dynalite)', () => {
  it('run the use case once for an EventBridge event delivered twice, and again for a new event', async () => {
    const deps = testDeps('deploy', { idempotency: await idempotencyTable() });
    let deployments = 0;
    const deployVersion = vi.fn(
      async (_s: unknown, approved: VersionApproved): Promise<DeployOutcome> => ({
        kind: 'deploying',
        model: approved.model,
        version: approved.version,
        endpointName: 'churn-prod',
        endpointConfigName: `churn-prod-v7-run${++deployments}`,
        firstDeployment: false,
      }),
    );
    const handler = deployHandler({ ...deps, deployVersion });
    const event = loadEvent('nbops-version-approved');

    const first = await handler(event, lambdaContext());
    const second = await handler(loadEvent('nbops-version-approved'), lambdaContext());
    expect(deployVersion).toHaveBeenCalledTimes(1);
    expect(second).toEqual(first);

    await handler({ ...event, id: 'another-approval-event' }, lambdaContext());
    expect(deployVersion).toHaveBeenCalledTimes(2);
  });

  it('key classic S3 records by bucket, key and sequencer: a redelivery is a no-op, a rewrite is not', async () => {
    const deps = testDeps('submit', { idempotency: await idempotencyTable() });
    const submitNotebook = vi.fn(
      async (_s: unknown, upload: NotebookUpload): Promise<SubmitOutcome> => ({
        kind: 'ignored',
        reason: `seen ${upload.key}`,
      }),
    );
    const handler = submitHandler({ ...deps, submitNotebook });
    await handler(loadEvent('s3-classic-records'), lambdaContext());
    await handler(loadEvent('s3-classic-records'), lambdaContext());
    expect(submitNotebook).toHaveBeenCalledTimes(2); // two created records, once each

    const rewrite = loadEvent('s3-classic-records');
    rewrite.Records[0].s3.object.sequencer = '0055AED6DCD90281F0';
    await handler(rewrite, lambdaContext());
    expect(submitNotebook).toHaveBeenCalledTimes(4);
  });

  it('let a failed delivery run again: an error leaves no record behind', async () => {
    const deps = testDeps('submit', { idempotency: await idempotencyTable() });
    const submitNotebook = vi
      .fn<(s: unknown, u: NotebookUpload) => Promise<SubmitOutcome>>()
      .mockRejectedValueOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .mockResolvedValue({ kind: 'ignored', reason: 'done' });
    const handler = submitHandler({ ...deps, submitNotebook });
    const event = loadEvent('s3-eventbridge-object-created');
    await expect(handler(event, lambdaContext())).rejects.toThrow('Rate exceeded');
    expect(await handler(event, lambdaContext())).toEqual({ kind: 'ignored', reason: 'done' });
    expect(await handler(event, lambdaContext())).toEqual({ kind: 'ignored', reason: 'done' });
    expect(submitNotebook).toHaveBeenCalledTimes(2);
  });
});
