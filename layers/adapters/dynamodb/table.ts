// CreateTable for the registry, from the one table definition in core (the CDK stack uses the same data).
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { keyAttributes, REGISTRY_TABLE, type RegistryTableDefinition } from '#core/registry/table';

export function createTableInput(
  tableName: string,
  table: RegistryTableDefinition = REGISTRY_TABLE,
): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: table.billingMode,
    KeySchema: [
      { AttributeName: table.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: table.sortKey.name, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: keyAttributes(table).map((attribute) => ({
      AttributeName: attribute.name,
      AttributeType: attribute.type,
    })),
    GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}

/**
 * Create the registry table and wait until it and its indexes are ACTIVE (tests and the local host;
 * on AWS the CDK stack owns the table). An existing table is left alone. The wait polls quickly instead
 * of using the SDK's waitUntilTableExists, whose minimum delay is 20 s: dynalite started with
 * createTableMs 0 turns a table ACTIVE on its next tick.
 */
export async function createRegistryTable(
  client: DynamoDBClient,
  tableName: string,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
  }
  await waitForActive(client, tableName, options.timeoutMs ?? 120_000);
}

async function waitForActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 5; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(`table ${tableName} is still ${table?.TableStatus ?? 'missing'} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
