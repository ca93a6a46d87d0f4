// The registry table, defined once as data: the DynamoDB adapter creates it from this (tests, local
// host) and the CDK stack declares it from this, so the two can never disagree.
import type { Status } from './lifecycle';

export type KeyAttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /** Every index projects all attributes: the items are small and readers need whole records. */
  readonly projection: 'ALL';
  readonly purpose: string;
}

export interface RegistryTableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly billingMode: 'PAY_PER_REQUEST';
  readonly globalSecondaryIndexes: readonly GlobalIndexDefinition[];
}

export const REGISTRY_TABLE: RegistryTableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  billingMode: 'PAY_PER_REQUEST',
  globalSecondaryIndexes: [
    {
      indexName: 'GSI1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
      purpose: 'List all models: META items carry gsi1pk = MODELS, gsi1sk = <model name>.',
    },
    {
      indexName: 'GSI2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
      projection: 'ALL',
      purpose:
        'Versions by status across models (e.g. the sweep for versions stuck in TRAINING past their ' +
        'max runtime): VERSION items carry gsi2pk = STATUS#<status>, gsi2sk = <updatedAt>#<model>#<version>.',
    },
  ],
};

/** All key attribute names with their types (CreateTable's AttributeDefinitions). */
export function keyAttributes(table: RegistryTableDefinition = REGISTRY_TABLE): KeyAttribute[] {
  const all = [
    table.partitionKey,
    table.sortKey,
    ...table.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return all.filter((attribute, i) => all.findIndex((other) => other.name === attribute.name) === i);
}

export const GSI1 = 'GSI1';
export const GSI2 = 'GSI2';
export const MODELS_PARTITION = 'MODELS';

/** Versions are zero-padded to 6 digits so sort keys order numerically. */
export const MAX_VERSION = 999_999;

export const keys = {
  model: (model: string) => `MODEL#${model}`,
  meta: () => 'META',
  version: (version: number) => `VERSION#${padVersion(version)}`,
  versionPrefix: () => 'VERSION#',
  event: (at: string, id: string) => `EVENT#${at}#${id}`,
  eventPrefix: () => 'EVENT#',
  approval: (version: number, at: string) => `APPROVAL#${padVersion(version)}#${at}`,
  approvalPrefix: (version?: number) =>
    version === undefined ? 'APPROVAL#' : `APPROVAL#${padVersion(version)}#`,
  drift: (at: string) => `DRIFT#${at}`,
  driftPrefix: () => 'DRIFT#',
  incident: (at: string, id: string) => `INCIDENT#${at}#${id}`,
  incidentPrefix: () => 'INCIDENT#',
  upload: (uploadId: string) => `UPLOAD#${uploadId}`,
  statusPartition: (status: Status) => `STATUS#${status}`,
  statusSort: (updatedAt: string, model: string, version: number) =>
    `${updatedAt}#${model}#${padVersion(version)}`,
} as const;

export function padVersion(version: number): string {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new RangeError(`version must be an integer from 1 to ${MAX_VERSION}; got ${version}`);
  }
  return String(version).padStart(6, '0');
}

export function versionFromSortKey(sk: string): number | undefined {
  const match = /^VERSION#(\d{6})$/.exec(sk);
  return match ? Number(match[1]) : undefined;
}
