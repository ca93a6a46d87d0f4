/**
 * What the operations answer: plain JSON objects, the same from the ops API (AWS) and the local
 * host. Registry records are reshaped for people and scripts: the reason a version is in its
 * status, whether it is the champion, its lineage in one place.
 */
import type { Status } from '#core/registry/lifecycle';
import type {
  ApprovalRecord,
  AuditEvent,
  DataRef,
  DriftRecord,
  GateResult,
  IncidentRecord,
  LastChange,
  NotebookRef,
  ObjectRef,
  ValidationSummary,
} from '#core/registry/types';

export interface Caller {
  /** Who asks: an IAM principal ARN (ops API) or a local user name (local host). Recorded on every action. */
  identity: string;
  /** Stable id of the request: the same id again is a retry, a no-op. */
  requestId: string;
}

export interface EndpointView {
  name: string;
  /** SageMaker's EndpointStatus (InService, Updating, Failed, ...). */
  status: string;
  endpointConfigName?: string;
  /** The version whose endpoint config serves. */
  version?: number;
  /** The config being rolled out, during a deployment. */
  pendingVersion?: number;
  failureReason?: string;
}

export interface ModelSummary {
  model: string;
  owner: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  /** The version in production, with its status now. */
  champion?: { version: number; status?: Status; promotedAt: string; metrics?: Record<string, number> };
  challenger?: number;
  /** Undefined when the model has no endpoint (never deployed, or retired). */
  endpoint?: EndpointView;
  openIncidents: number;
}

export interface VersionSummary {
  model: string;
  version: number;
  status: Status;
  /** Why it is in this status (the reason of the transition that put it there). */
  reason?: string;
  /** Who made that transition. */
  changedBy?: string;
  uploader: string;
  owner: string;
  createdAt: string;
  updatedAt: string;
  /** True for the version the champion alias names (in production unless it was retired). */
  champion: boolean;
  metrics?: Record<string, number>;
  gatesPassed?: boolean;
  /** The version this one retrains, when it came from a retrain request. */
  retrainOf?: number;
  /** The uploaded notebook's key and ETag (lets `nbops submit --wait` find its version). */
  notebook?: { key: string; etag?: string };
}

/** One step of a version's way to and out of production. */
export interface DeploymentEvent {
  at: string;
  /** A status the version entered, or `champion` / `replaced` for the alias. */
  event: Status | 'champion' | 'replaced';
  actor: string;
  reason: string;
  /** For `replaced`: the version that took over. */
  by?: number;
}

export interface Lineage {
  notebook?: NotebookRef & { uri: string };
  manifestHash?: string;
  dataRefs: DataRef[];
  trainingImage?: string;
  servingImage?: string;
  trainingJob?: { name: string; arn?: string };
  artifact?: ObjectRef;
  baseline?: ObjectRef;
  retrainOf?: number;
}

export interface VersionDetail extends VersionSummary {
  lastChange?: LastChange;
  lineage: Lineage;
  /** How the manifest deploys this version. */
  deploymentPolicy?: { approval: string; strategy: string; bakeTime?: number | string };
  /** Gate results as evaluated after training (absent before). */
  gates?: { passed: boolean; results: GateResult[] };
  /** Gates the manifest declares, as `metric >= x` etc. (shown before training finished too). */
  declaredGates: string[];
  validation?: ValidationSummary;
  /** Report URIs by kind (validation json/sarif/text, and `version` for the HTML page). */
  reports: Record<string, string>;
  approval?: ApprovalRecord;
  billableSeconds?: number;
  /** SageMaker resource names, once deployed. */
  deployment?: { modelName: string; endpointConfigName: string; endpointName: string };
  deployments: DeploymentEvent[];
  /** Drift evaluations of this version, newest first. */
  drift: DriftRecord[];
  /** Incidents raised while this version served, newest first. */
  incidents: IncidentRecord[];
  /** Every change of this version, oldest first. */
  audit: AuditEvent[];
}

export interface IncidentList {
  incidents: IncidentRecord[];
}

export interface TrainingLogs {
  model: string;
  version: number;
  trainingJob?: {
    name: string;
    arn?: string;
    status?: string;
    secondaryStatus?: string;
    failureReason?: string;
    startedAt?: string;
    endedAt?: string;
    billableSeconds?: number;
  };
  /** The job's S3 output (model.tar.gz, output.tar.gz with the executed notebook) and what is there. */
  output: { prefix: string; objects: { uri: string; size: number }[] };
  /** Where SageMaker sends the job's stdout/stderr on AWS. */
  cloudWatch?: { region: string; logGroup: string; logStreamPrefix: string; consoleUrl: string };
}

export interface ApprovalResult {
  outcome: 'approved' | 'declined';
  model: string;
  version: number;
  decidedBy: string;
  changed: boolean;
  /** What happens next, in words. */
  next: string;
}

export interface RollbackResult {
  outcome: 'rolling-back';
  model: string;
  from: number;
  to: number;
  changed: boolean;
  next: string;
}

export interface RetrainResult {
  outcome: 'retrain-submitted';
  model: string;
  retrainOf: number;
  notebookUri: string;
  changed: boolean;
  next: string;
}

export interface RetireResult {
  outcome: 'retired';
  model: string;
  endpointDeleted: boolean;
  retired: number[];
  unchanged: { version: number; status: string }[];
  changed: boolean;
}
