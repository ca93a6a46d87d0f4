/**
 * Inputs and outcomes of the core use cases. Handlers (functions/*) parse raw events into these
 * inputs with layers/core/events/*, call the use case with the host's Services, and return the
 * outcome (idempotency records store it). The local host calls the same use cases.
 */
import type { GateResult } from '../registry/types';

export type { GateResult };

/** A notebook (or sidecar manifest) that arrived under notebooks/<model>/. */
export interface NotebookUpload {
  bucket: string;
  /** URL-decoded key (`+` is a space in classic S3 records). */
  key: string;
  versionId?: string;
  etag: string;
  size: number;
  /** Orders events for one key (S3 sequencer, hex). */
  sequencer?: string;
  /** Stable identity of the delivery source event (EventBridge id or S3 request id + key). */
  eventId: string;
  /** ISO-8601 time of the upload. */
  eventTime: string;
  /** Who uploaded: the S3 event's requester/principal; submit prefers object metadata `nbops-uploader`. */
  uploader: string;
}

export type SubmitOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'rejected'; model: string; version: number; reportUri: string; errors: number }
  | { kind: 'training'; model: string; version: number; trainingJobName: string; reportUri: string }
  /** Valid, but SageMaker refused the training job (quota, capacity, access, invalid request). */
  | { kind: 'training-failed'; model: string; version: number; reason: string; reportUri: string };

/** "SageMaker Training Job State Change" for a job nbops started. */
export interface TrainingJobStateChange {
  trainingJobName: string;
  /** TrainingJobStatus: InProgress | Completed | Failed | Stopping | Stopped. */
  status: string;
  secondaryStatus?: string;
  failureReason?: string;
  eventId: string;
  eventTime: string;
}

export type TrainingOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'training-failed'; model: string; version: number; reason: string; hint?: string }
  | { kind: 'gates-failed'; model: string; version: number; failed: GateResult[] }
  | { kind: 'pending-approval'; model: string; version: number }
  | { kind: 'approved'; model: string; version: number };

/** A version approved by an operator or the auto policy ("Version Approved" nbops event). */
export interface VersionApproved {
  model: string;
  version: number;
  approvedBy: string;
  eventId: string;
  eventTime: string;
}

export type DeployOutcome =
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'deploying';
      model: string;
      version: number;
      endpointName: string;
      endpointConfigName: string;
      firstDeployment: boolean;
    }
  | { kind: 'deploy-failed'; model: string; version: number; reason: string };

/** "SageMaker Endpoint State Change" / "SageMaker Endpoint Deployment State Change", normalised. */
export interface EndpointStateChange {
  endpointName: string;
  /** The config the endpoint runs now (after a rollback: the old one). */
  endpointConfigName?: string;
  /** API spelling (InService, Updating, Failed, ...), normalised from the events' UPPER_SNAKE. */
  status: string;
  /** Which event type this came from. */
  source: 'endpoint' | 'deployment';
  failureReason?: string;
  /** For deployment events: the config being rolled out, when one is pending. */
  pendingEndpointConfigName?: string;
  eventId: string;
  eventTime: string;
}

export type EndpointOutcome =
  | { kind: 'ignored'; reason: string }
  | { kind: 'deployed'; model: string; version: number }
  | { kind: 'rolled-back'; model: string; version: number; restoredVersion?: number; reason: string }
  | { kind: 'deploy-failed'; model: string; version: number; reason: string }
  | { kind: 'in-progress'; model: string; version: number; status: string };

export interface ApprovalRequest {
  model: string;
  version: number;
  /** The caller's identity (IAM ARN for the ops API, the user for the local host). */
  actor: string;
  decision: 'approve' | 'decline';
  reason: string;
  /** Stable id of the request, so a retried call is a no-op. */
  requestId: string;
  at: string;
}

export type ApprovalOutcome = {
  kind: 'approved' | 'declined';
  model: string;
  version: number;
  /** Who decided (the request's actor). */
  decidedBy: string;
  /** False when the same request was already applied (a retried call). */
  changed: boolean;
};

/** The scheduled sweep's own event (EventBridge Scheduler or rule), for the audit trail. */
export interface SweepRequest {
  eventId: string;
  eventTime: string;
}

export interface SweepOutcome {
  /** Versions marked failed because they were stuck past their limits. */
  marked: { model: string; version: number; from: string; to: string; reason: string }[];
  /** Versions whose finishing event was lost: SageMaker had finished, so they were moved on as that event would have. */
  resolved: { model: string; version: number; from: string; to: string }[];
  /** Versions waiting in DEPLOYING with the deployment unsent, whose approval was published again. */
  resent: { model: string; version: number; waitedSeconds: number }[];
  /** Versions the sweep could not handle this time (retried on the next run). */
  errors: { model: string; version: number; error: string }[];
}

/** A CloudWatch alarm state value. */
export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** "CloudWatch Alarm State Change" (source aws.cloudwatch), normalised. */
export interface AlarmStateChange {
  alarmName: string;
  state: AlarmStateValue;
  /** ISO time of this state (state.timestamp): with the name, the identity of the change. */
  stateAt: string;
  /** CloudWatch's sentence, e.g. "Threshold Crossed: 1 out of the last 1 datapoints [...]". */
  reason: string;
  /** state.reasonData, parsed (the event carries it as a JSON string); absent when missing or unreadable. */
  reasonData?: Record<string, unknown>;
  previousState?: AlarmStateValue;
  /** Composite alarms carry no metrics in their configuration. */
  composite: boolean;
  eventId: string;
  eventTime: string;
}

/** What the alarm policy did about an alarm (docs/alarms.md). */
export type PolicyAction =
  | { action: 'none'; reason: string }
  | { action: 'rollback'; fromVersion: number; toVersion: number; reason: string }
  | { action: 'retrain'; version: number; reason: string };

export type AlarmOutcome =
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'incident';
      model: string;
      alarmName: string;
      /** The champion when the alarm fired, if any. */
      version?: number;
      incidentId: string;
      /** False for a repeat of a change already recorded (a redelivery or duplicate). */
      created: boolean;
      notified: boolean;
      policy: PolicyAction;
    }
  /** OK: the incidents it closed (none for a duplicate, or an OK older than the ALARM it follows). */
  | { kind: 'resolved'; model: string; alarmName: string; incidents: string[] };

/** A scheduled (or operator-requested) drift evaluation of a model's endpoint. */
export interface DriftEvaluationRequest {
  model: string;
  /** The endpoint whose capture is read (nbops names it after the model). */
  endpoint: string;
  /** ISO end of the evaluated window: the time the run was due. One evaluation per model and time. */
  scheduledTime: string;
  eventId: string;
}

export type DriftOutcome =
  | { kind: 'ignored'; reason: string }
  /** The evaluation for this model and time exists (a redelivery): nothing was redone. */
  | { kind: 'already-evaluated'; model: string; at: string; reportUri?: string }
  | { kind: 'no-baseline'; model: string; version: number; reason: string }
  | {
      kind: 'evaluated';
      model: string;
      version: number;
      at: string;
      drifted: boolean;
      share: number;
      driftedFeatures: string[];
      records: number;
      reportUri: string;
    }
  | {
      kind: 'insufficient-data';
      model: string;
      version: number;
      at: string;
      records: number;
      minRecords: number;
      reportUri: string;
    };

export type RetrainOutcome =
  | { kind: 'ignored'; reason: string }
  /**
   * The version's notebook was uploaded again (with its manifest) under notebooks/<model>/, so the
   * ordinary submit path validates, registers and trains it as a new version.
   */
  | { kind: 'retrain-submitted'; model: string; retrainOf: number; notebookUri: string; created: boolean };

/** An operator retires a model: its endpoint, alarms and schedule go; its history stays. */
export interface RetireRequest {
  model: string;
  actor: string;
  reason: string;
  /** Stable id of the request, so a retried call is a no-op. */
  requestId: string;
  at: string;
}

export type RetireOutcome =
  | { kind: 'refused'; model: string; reason: string }
  | {
      kind: 'retired';
      model: string;
      endpointDeleted: boolean;
      /** Versions moved to RETIRED by this request. */
      retired: number[];
      /** Versions that stay as they are (already RETIRED, or RECEIVED and never validated). */
      unchanged: { version: number; status: string }[];
    };
