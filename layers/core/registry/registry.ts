// The Registry port: what handlers and the CLI need from the model registry. The DynamoDB adapter
// (layers/adapters/dynamodb/registry.ts) implements it; docs/registry.md describes the table.
//
// Every write is idempotent for a given sourceEventId, because every event arrives at least once:
// a redelivered, late or duplicated event changes nothing twice and appends no second audit record.
import type { Status } from './lifecycle';
import type {
  AliasName,
  ApprovalInput,
  AuditEvent,
  DriftInput,
  DriftRecord,
  IncidentInput,
  IncidentRecord,
  ListVersionsOptions,
  ModelRecord,
  ProductionSummary,
  RecordFactsResult,
  RegisterUploadInput,
  RegisterUploadResult,
  SetAliasInput,
  SetAliasResult,
  TransitionInput,
  TransitionResult,
  VersionFacts,
  VersionRecord,
} from './types';

export interface Registry {
  /**
   * Register an uploaded notebook as the model's next version (RECEIVED), creating the model on its
   * first upload. Atomic and idempotent: the same uploadId always gets the same version; different
   * uploads racing get distinct, gap-free versions.
   */
  registerUpload(input: RegisterUploadInput): Promise<RegisterUploadResult>;

  /** Write facts once. Same value again: no-op. Different value: ImmutableFactError. */
  recordFacts(model: string, version: number, facts: VersionFacts): Promise<RecordFactsResult>;

  /**
   * Move a version along the lifecycle (conditional update) and append one audit event.
   * Throws IllegalTransitionError (naming both states) or NotFoundError.
   */
  transition(model: string, version: number, input: TransitionInput): Promise<TransitionResult>;

  /**
   * Approve or decline a PENDING_APPROVAL version, recording who and why.
   * Throws SelfApprovalError when the approver uploaded the version, unless allowSelfApproval.
   */
  recordApproval(model: string, version: number, input: ApprovalInput): Promise<TransitionResult>;

  /**
   * Point an alias at a version. Moving the champion also copies the version's facts and approval onto
   * the model record, so productionSummary needs one read. Throws AliasConflictError when
   * expectedCurrent does not match, IllegalAliasError when the version's status does not fit the alias.
   */
  setAlias(model: string, alias: AliasName, version: number, input: SetAliasInput): Promise<SetAliasResult>;

  getModel(model: string): Promise<ModelRecord | undefined>;
  getVersion(model: string, version: number): Promise<VersionRecord | undefined>;
  listVersions(model: string, options?: ListVersionsOptions): Promise<VersionRecord[]>;
  listModels(): Promise<ModelRecord[]>;
  /** Oldest first. */
  auditTrail(model: string, options?: { version?: number }): Promise<AuditEvent[]>;
  /** Across models, least recently updated first; updatedBefore finds versions stuck in a state. */
  versionsByStatus(status: Status, options?: { updatedBefore?: string }): Promise<VersionRecord[]>;
  /** What is in production for a model, from which notebook and data, approved by whom: one read. */
  productionSummary(model: string): Promise<ProductionSummary | undefined>;

  /** One drift evaluation per model and window end (`at`); a repeat is a no-op. */
  putDrift(model: string, input: DriftInput): Promise<{ created: boolean }>;
  /** Newest first. */
  listDrift(model: string, options?: { since?: string; limit?: number }): Promise<DriftRecord[]>;
  /** Opens an incident; the same sourceEventId again is a no-op. */
  putIncident(model: string, input: IncidentInput): Promise<{ id: string; created: boolean }>;
  resolveIncident(
    model: string,
    incident: { at: string; id: string },
    input: { actor: string; resolution: string; at: string },
  ): Promise<{ changed: boolean }>;
  /** Oldest first. */
  openIncidents(model: string): Promise<IncidentRecord[]>;
  /** Every incident of the model, open and resolved, oldest first. */
  listIncidents(model: string): Promise<IncidentRecord[]>;
}
