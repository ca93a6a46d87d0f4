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
     * s3:ListBucket on the artifact bucket. `true`: on the whole bucket, needed where a handler asks
     * whether an object exists (without it S3 answers 403 instead of 404 for a missing key). A list
     * of key patterns: only listings under those prefixes (an `s3:prefix` condition), for handlers
     * that list but never look up a key that may be missing.
     */
    list?: true | readonly string[];
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
  /**
   * Schedules in the nbops schedule group (the per-model drift schedules). `manage`: get, create,
   * update and delete them, and pass the scheduler role to EventBridge Scheduler only; `delete`:
   * delete only. Either way the function gets the scheduler environment (NBOPS_SCHEDULE_*).
   */
  schedules?: 'manage' | 'delete';
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
  /** The drift handler's copy of a version's training baseline (nbops-baseline.json). */
  baselines: 'versions/*/*/baseline/*',
  /** Validation reports and the HTML version report (versions/<model>/v<n>/reports/). */
  reports: 'versions/*/*/reports/*',
  checkpoints: 'versions/*/*/checkpoints/*',
  runtime: 'runtime/*',
  capture: 'capture/*',
  drift: 'drift/*',
} as const;

export const HANDLER_ACCESS: Record<HandlerName, HandlerAccess> = {
  // S3 upload -> validate -> register -> report -> CreateTrainingJob. "Retrain Requested": the
  // version's notebook copy is uploaded again under notebooks/<model>/ (service/retrain.ts), after
  // looking up whether that upload exists yet (hence list) and listing the model's retrain uploads.
  submit: {
    registry: 'write',
    idempotency: true,
    s3: { read: [KEYS.notebooks, KEYS.versions], write: [KEYS.versions, KEYS.notebooks], list: true },
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
  // Approved: model, endpoint config (data capture), the endpoint's alarms (metric and composite
  // SLO alarms, tagged; stale ones described and deleted), create/update endpoint.
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
    alarms: [
      'cloudwatch:PutMetricAlarm',
      'cloudwatch:PutCompositeAlarm',
      'cloudwatch:DescribeAlarms',
      'cloudwatch:DeleteAlarms',
      'cloudwatch:TagResource',
    ],
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 120,
  },
  // Endpoint (deployment) state: deployed / rolled back / failed; reads which rollback alarm
  // fired; a version that becomes DEPLOYED gets its model's drift schedule (syncDriftSchedule).
  'endpoint-state': {
    registry: 'write',
    idempotency: true,
    sagemaker: { actions: ['sagemaker:DescribeEndpoint'], resources: ['endpoint'] },
    alarms: ['cloudwatch:DescribeAlarms'],
    schedules: 'manage',
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 60,
  },
  // Every 15 minutes: versions stuck in TRAINING/DEPLOYING past their limits. One at a time. A
  // finished training job goes through the training-state path (auto approval publishes
  // "Version Approved"); a settled deployment through the endpoint-state path (rollback alarms,
  // drift schedule).
  sweeper: {
    registry: 'write',
    idempotency: true,
    sagemaker: {
      actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:DescribeEndpoint'],
      resources: ['training-job', 'endpoint'],
    },
    alarms: ['cloudwatch:DescribeAlarms'],
    publishEvents: true,
    schedules: 'manage',
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 300,
    reservedConcurrency: 1,
  },
  // "Drift Evaluation Due": reads capture and the champion's training baseline (model.tar.gz under
  // training/, then its cached copy under baseline/, which it writes; a missing cached copy must
  // answer 404, hence list), writes drift reports, records the DRIFT item. Its metrics are EMF
  // lines on stdout: no CloudWatch API, no SageMaker.
  drift: {
    registry: 'write',
    idempotency: true,
    s3: {
      read: [KEYS.capture, KEYS.trainingOutputs, KEYS.baselines],
      write: [KEYS.drift, KEYS.baselines],
      list: true,
    },
    notify: false,
    memoryMB: 1024,
    timeoutSeconds: 900,
  },
  // An nbops-* alarm changed state: incident records, notifications, the alarm's current state;
  // a rollback is a "Version Approved" for the deploy handler, a retrain a "Retrain Requested"
  // (after listing the model's retrain uploads under notebooks/<model>/). No SageMaker.
  alarm: {
    registry: 'write',
    idempotency: true,
    s3: { read: [KEYS.notebooks], list: [KEYS.notebooks] },
    alarms: ['cloudwatch:DescribeAlarms'],
    publishEvents: true,
    notify: true,
    memoryMB: 512,
    timeoutSeconds: 60,
  },
  // The operator API (functions/ops-api, layers/core/ops): registry reads and decisions, "Version
  // Approved" events for approvals and rollbacks, training output listings and the validation report
  // for `show`/`logs`/`report`, the HTML report written beside the version, a retrain (the version's
  // notebook copy uploaded again under notebooks/<model>/ after a lookup, hence list), and retiring
  // a model (service/retire.ts: delete its drift schedule and alarms, DeleteEndpoint).
  'ops-api': {
    registry: 'write',
    idempotency: false,
    s3: { read: [KEYS.notebooks, KEYS.versions], write: [KEYS.notebooks, KEYS.reports], list: true },
    sagemaker: {
      actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'],
      resources: ['training-job', 'endpoint'],
    },
    alarms: ['cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
    publishEvents: true,
    schedules: 'delete',
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
