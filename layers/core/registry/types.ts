// What the registry stores and returns, independent of DynamoDB.
import type { Status } from './lifecycle';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type AliasName = 'champion' | 'challenger';
export const ALIAS_NAMES: readonly AliasName[] = ['champion', 'challenger'];

export interface NotebookRef {
  bucket: string;
  key: string;
  /** Present when the bucket is versioned (AWS); s3rver has no versioning. */
  versionId?: string;
  sha256: string;
  etag?: string;
}

export interface DataRef {
  uri: string;
  versionId?: string;
  etag?: string;
  sha256?: string;
}

export interface ObjectRef {
  uri: string;
  sha256?: string;
}

/** Counts and where the full report lives: findings themselves stay in S3 (items are capped at 400 KB). */
export interface ValidationSummary {
  errors: number;
  warnings: number;
  notices?: number;
  reportUri: string;
  sarifUri?: string;
  summaryUri?: string;
}

export interface GateResult {
  gate: string;
  passed: boolean;
  value?: number;
  threshold?: number;
  detail?: string;
}

/**
 * Immutable facts about a version. Each fact is written once: writing it again with the same value
 * is a no-op, with a different value is refused (ImmutableFactError).
 */
export interface VersionFacts {
  notebook?: NotebookRef;
  manifestHash?: string;
  /** The manifest as validated (small; lets later handlers work without refetching the notebook). */
  manifest?: JsonObject;
  dataRefs?: DataRef[];
  trainingImage?: string;
  trainingJob?: { name: string; arn?: string };
  artifact?: ObjectRef;
  /** Per-feature distribution of the training data, for drift evaluation. */
  baseline?: ObjectRef;
  metrics?: Record<string, number>;
  gates?: { passed: boolean; results: GateResult[] };
  validation?: ValidationSummary;
  reportUris?: Record<string, string>;
  billableSeconds?: number;
  servingImage?: string;
  deployment?: { modelName: string; endpointConfigName: string; endpointName: string };
}

export type FactName = keyof VersionFacts;

export interface ApprovalRecord {
  version: number;
  approver: string;
  decision: 'approve' | 'decline';
  reason: string;
  at: string;
  sourceEventId: string;
  /** True when the approver is the uploader and policy allowed it. */
  selfApproved: boolean;
}

export interface LastChange {
  from: Status;
  to: Status;
  at: string;
  actor: string;
  reason: string;
  sourceEventId: string;
}

export interface VersionRecord {
  model: string;
  version: number;
  status: Status;
  uploadId: string;
  uploader: string;
  owner: string;
  createdAt: string;
  updatedAt: string;
  facts: VersionFacts;
  approval?: ApprovalRecord;
  lastChange?: LastChange;
}

/** The champion's facts, copied onto the model's META item when the alias moves (see productionSummary). */
export interface ChampionSnapshot {
  version: number;
  /** Status when it became champion. */
  status: Status;
  uploader: string;
  notebook?: NotebookRef;
  manifestHash?: string;
  dataRefs?: DataRef[];
  trainingImage?: string;
  servingImage?: string;
  trainingJob?: { name: string; arn?: string };
  artifact?: ObjectRef;
  metrics?: Record<string, number>;
  approval?: ApprovalRecord;
  promotedAt: string;
  promotedBy: string;
  promotionReason: string;
}

export interface ModelRecord {
  model: string;
  /** Owner named by the latest version's manifest. */
  owner: string;
  createdAt: string;
  updatedAt: string;
  latestVersion: number;
  aliases: Partial<Record<AliasName, number>>;
  champion?: ChampionSnapshot;
}

export interface ProductionSummary {
  model: string;
  owner: string;
  latestVersion: number;
  aliases: Partial<Record<AliasName, number>>;
  /** Undefined while nothing is in production. */
  champion?: ChampionSnapshot;
}

interface AuditBase {
  /** Derived from the source event, so a redelivered event cannot append a second record. */
  id: string;
  model: string;
  at: string;
  actor: string;
  reason: string;
  sourceEventId: string;
}

export type AuditEvent =
  | (AuditBase & { kind: 'registered'; version: number; to: 'RECEIVED' })
  | (AuditBase & { kind: 'transition'; version: number; from: Status; to: Status })
  | (AuditBase & { kind: 'alias'; alias: AliasName; version: number; previousVersion?: number });

export interface RegisterUploadInput {
  model: string;
  /** Stable identity of the upload across redeliveries: bucket + key + versionId, or etag + sequencer. */
  uploadId: string;
  /** Owner named by the manifest. */
  owner: string;
  /** Who uploaded (S3 principal); they may not approve this version unless policy allows. */
  uploader: string;
  notebook: NotebookRef;
  manifestHash: string;
  sourceEventId: string;
  at: string;
  /** Further facts known at upload time (e.g. the manifest); written with the version. */
  facts?: VersionFacts;
}

export interface RegisterUploadResult {
  version: number;
  /** True only for the call that created the version. A redelivery gets false and should resume
   * from `status` (an earlier delivery may have crashed after registering). */
  created: boolean;
  status: Status;
}

export interface TransitionInput {
  to: Status;
  /** Refuse unless the version is currently in one of these states (on top of the lifecycle rule). */
  expectedFrom?: Status[];
  actor: string;
  reason: string;
  sourceEventId: string;
  at: string;
  /** Facts learnt with this transition, written atomically with it (write-once rules apply). */
  facts?: VersionFacts;
}

export interface TransitionResult {
  changed: boolean;
  status: Status;
  record: VersionRecord;
}

export interface RecordFactsResult {
  written: FactName[];
  unchanged: FactName[];
}

export interface ApprovalInput {
  approver: string;
  decision: 'approve' | 'decline';
  reason: string;
  sourceEventId: string;
  at: string;
  /** Platform policy: may the uploader approve their own version? */
  allowSelfApproval?: boolean;
}

export interface SetAliasInput {
  /** Move only if the alias currently points here (null = currently unset). */
  expectedCurrent?: number | null;
  actor: string;
  reason: string;
  sourceEventId: string;
  at: string;
}

export interface SetAliasResult {
  changed: boolean;
  previous?: number;
}

export interface ListVersionsOptions {
  status?: Status;
  /** Stop after this many versions. */
  limit?: number;
  newestFirst?: boolean;
}

export interface FeatureDrift {
  statistic: number;
  /** What `drifted` compared with: the statistic (distances) or the p-value (tests). */
  threshold: number;
  drifted: boolean;
  /** The method applied to this feature (under `auto` each feature gets its own). */
  method?: string;
  /** Tests (ks, chi2, z): the p-value; the feature drifted when it fell below the threshold. */
  pValue?: number;
}

export interface DriftInput {
  /** End of the evaluated window (ISO time); one evaluation per window. */
  at: string;
  version: number;
  method: string;
  drifted: boolean;
  features?: Record<string, FeatureDrift>;
  reportUri?: string;
  sourceEventId: string;
  /** The window held fewer than minRecords records: no verdict was given. */
  insufficientData?: boolean;
  /** Records evaluated in the window. */
  records?: number;
  minRecords?: number;
  /** Share of evaluated features that drifted. */
  datasetShare?: number;
  evaluatedFeatures?: number;
}

export interface DriftRecord extends DriftInput {
  model: string;
}

export interface IncidentInput {
  at: string;
  alarmName: string;
  version?: number;
  reason: string;
  sourceEventId: string;
  runbook?: string;
}

export interface IncidentRecord extends IncidentInput {
  model: string;
  id: string;
  state: 'OPEN' | 'RESOLVED';
  resolvedAt?: string;
  resolvedBy?: string;
  resolution?: string;
}
