/**
 * What each handler may do, as data: the stack turns each entry into that handler's IAM policy,
 * and the infra tests check the policies against it. Keep an entry to what the handler's use case
 * calls (layers/core/service/*, through the ports in layers/core/ports.ts); nothing is granted
 * "just in case".
 */
import type { HandlerName } from '#core/wiring';

/** SageMaker resource types nbops creates; ARNs are `arn:<partition>:sagemaker:<region>:<account>:<type>/*`. */
export type SageMakerResourceType = 'training-job' | 'model' | 'endpoint-config' | 'endpoint';

export interface HandlerAccess {
  /** Registry table (and its indexes): read, or read and write. */
  registry: 'read' | 'write';
  /** Powertools idempotency records (the idempotency table). */
  idempotency: boolean;
  /** Artifact bucket key patterns (IAM wildcards) the handler reads / writes. */
  s3?: {
    read?: readonly string[];
    write?: readonly string[];
    /**
     * s3:ListBucket on the artifact bucket. Needed where a handler asks whether an object exists:
     * without it S3 answers 403 instead of 404 for a missing key.
     */
    list?: boolean;
  };
  sagemaker?: { actions: readonly string[]; resources: readonly SageMakerResourceType[] };
  /** iam:PassRole of the SageMaker execution role, only to sagemaker.amazonaws.com. */
  passExecutionRole?: boolean;
  /**
   * kms:CreateGrant on the platform key for AWS resources only: SageMaker encrypts training and
   * endpoint volumes with the key through a grant made with the caller's permissions.
   */
  volumeKeyGrants?: boolean;
  /** CloudWatch actions on `nbops-*` alarms. */
  alarms?: readonly string[];
  /** events:PutEvents on the nbops bus. */
  publishEvents?: boolean;
  /** sns:Publish on the page and ticket topics. */
  notify: boolean;
  /** Function defaults (the config file's `functions` section overrides them). */
  memoryMB: number;
  timeoutSeconds: number;
  /** Reserved concurrency; undefined for none. */
  reservedConcurrency?: number;
}

/** Key patterns in the artifact bucket (layout.ts PREFIXES; `*` is IAM's wildcard). */
export const KEYS = {
  notebooks: 'notebooks/*',
  versions: 'versions/*',
  notebookCopies: 'versions/*/*/notebook/*',
  trainingOutputs: 'versions/*/*/training/*',
  checkpoints: 'versions/*/*/checkpoints/*',
  runtime: 'runtime/*',
  capture: 'capture/*',
  drift: 'drift/*',
} as const;

const DESCRIBE_ENDPOINT = ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig'];

export const HANDLER_ACCESS: Record<HandlerName, HandlerAccess> = {
  // S3 upload -> validate -> register -> report -> CreateTrainingJob; also retrains from the
  // version's notebook copy. Looks up sidecar manifests that may not exist (hence list).
  submit: {
    registry: 'write',
    idempotency: true,
    s3: { read: [KEYS.notebooks, KEYS.versions], write: [KEYS.versions], list: true },
    sagemaker: {
      actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:AddTags'],
      resources: ['training-job'],
    },
    passExecutionRole: true,
    volumeKeyGrants: true,
    notify: true,
    // Validating a 50 MB notebook parses it whole: memory is also CPU on Lambda.
    memoryMB: 1024,
    timeoutSeconds: 300,
  },
  // Training finished: describe, gates, approval (auto approval publishes "Version Approved").
  'training-state': {
    registry: 'write',
    idempotency: true,
    sagemaker: { actions: ['sagemaker:DescribeTrainingJob'], resources: ['training-job'] },
    publishEvents: true,
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 60,
  },
  // Approved: model, endpoint config (data capture), rollback alarms, create/update endpoint.
  deploy: {
    registry: 'write',
    idempotency: true,
    sagemaker: {
      actions: [
        'sagemaker:CreateModel',
        'sagemaker:DescribeModel',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:CreateEndpoint',
        'sagemaker:UpdateEndpoint',
        'sagemaker:DescribeEndpoint',
        // SageMaker only lets a Failed endpoint be deleted; deploy recreates it.
        'sagemaker:DeleteEndpoint',
        'sagemaker:AddTags',
      ],
      resources: ['model', 'endpoint-config', 'endpoint'],
    },
    passExecutionRole: true,
    volumeKeyGrants: true,
    alarms: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:TagResource'],
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 120,
  },
  // Endpoint (deployment) state: deployed / rolled back / failed; reads which rollback alarm fired.
  'endpoint-state': {
    registry: 'write',
    idempotency: true,
    sagemaker: { actions: DESCRIBE_ENDPOINT, resources: ['endpoint', 'endpoint-config'] },
    alarms: ['cloudwatch:DescribeAlarms'],
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 60,
  },
  // Every 15 minutes: versions stuck in TRAINING/DEPLOYING past their limits. One at a time.
  sweeper: {
    registry: 'write',
    idempotency: true,
    sagemaker: {
      actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', ...DESCRIBE_ENDPOINT],
      resources: ['training-job', 'endpoint', 'endpoint-config'],
    },
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 300,
    reservedConcurrency: 1,
  },
  // Arrives with drift: reads capture and the training baseline, writes drift reports, may ask
  // for a retrain. Gets a function once it has a route (or a schedule) in the wiring table.
  drift: {
    registry: 'write',
    idempotency: true,
    s3: { read: [KEYS.capture, KEYS.trainingOutputs], write: [KEYS.drift], list: true },
    alarms: ['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource'],
    publishEvents: true,
    notify: true,
    memoryMB: 1024,
    timeoutSeconds: 900,
  },
  // Arrives with SLO alarms: incident records, notifications, rollback or retrain requests.
  alarm: {
    registry: 'write',
    idempotency: true,
    sagemaker: {
      actions: ['sagemaker:UpdateEndpoint', ...DESCRIBE_ENDPOINT],
      resources: ['endpoint', 'endpoint-config'],
    },
    alarms: ['cloudwatch:DescribeAlarms'],
    publishEvents: true,
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 60,
  },
  // Arrives with the operator API: registry reads, approvals ("Version Approved" events).
  'ops-api': {
    registry: 'write',
    idempotency: false,
    sagemaker: {
      actions: ['sagemaker:DescribeTrainingJob', ...DESCRIBE_ENDPOINT],
      resources: ['training-job', 'endpoint', 'endpoint-config'],
    },
    publishEvents: true,
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 30,
  },
};

/** DynamoDB actions the registry adapter uses (GetItem, PutItem, UpdateItem, Query: no scans, no transactions). */
export const REGISTRY_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  write: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
} as const;

/** What Powertools' DynamoDB persistence layer calls. */
export const IDEMPOTENCY_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;
