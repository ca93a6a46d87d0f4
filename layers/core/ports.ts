/**
 * Ports: what the core needs from the host it runs on. The AWS host implements them with SDK
 * clients (layers/adapters/aws), the local host with s3rver/dynalite and local processes
 * (layers/adapters/local). Use cases receive a Services object built once at start, so a handler
 * never knows which host it runs on.
 *
 * Errors: adapters throw errors shaped like AWS SDK errors (`name` = the AWS error code, e.g.
 * `ValidationException`, `ResourceLimitExceeded`, `ResourceNotFound`, `ThrottlingException`) so
 * core/aws/errors.ts classifies them the same way on both hosts.
 */
import type { PutCompositeAlarmCommandInput, PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import type {
  CreateEndpointCommandInput,
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  CreateTrainingJobCommandInput,
  DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommandOutput,
  DescribeModelCommandOutput,
  DescribeTrainingJobCommandOutput,
  UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import type { Policy } from './policy/policy.generated';
import type { Registry } from './registry/registry';

export interface ObjectHead {
  size: number;
  etag: string;
  versionId?: string;
  contentType?: string;
  /** User metadata (`x-amz-meta-*`), keys lower-case without the prefix. */
  metadata: Record<string, string>;
  lastModified?: Date;
}

/** An ETag without its quotes (and weak prefix): S3 quotes them in some places and not others. */
export function unquoteEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^(W\/)?"(.*)"$/, '$2');
}

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface ObjectStore {
  /** undefined when the object (or that version) does not exist. */
  head(ref: ObjectRef): Promise<ObjectHead | undefined>;
  /** Whole object; throws ObjectTooLargeError past maxBytes without reading the rest. */
  getBytes(ref: ObjectRef, opts: { maxBytes: number }): Promise<Uint8Array>;
  /** Streams an object (drift reads capture files this way, never whole windows in memory). */
  getStream(ref: ObjectRef): Promise<AsyncIterable<Uint8Array>>;
  put(
    ref: Omit<ObjectRef, 'versionId'>,
    body: Uint8Array | string,
    opts?: { contentType?: string; metadata?: Record<string, string> },
  ): Promise<{ etag: string; versionId?: string }>;
  copy(from: ObjectRef, to: Omit<ObjectRef, 'versionId'>): Promise<void>;
  /**
   * A URL that lets whoever holds it upload this one object, with exactly this content type and
   * metadata (signed: the uploader cannot change them), until it expires. `headers` must be sent
   * with the PUT as given.
   */
  presignPut(
    ref: Omit<ObjectRef, 'versionId'>,
    opts: { contentType: string; metadata: Record<string, string>; expiresInSeconds: number },
  ): Promise<{ url: string; headers: Record<string, string> }>;
  /** Keys under a prefix, in key order, paginating as needed. */
  list(bucket: string, prefix: string): AsyncIterable<{ key: string; size: number; lastModified?: Date }>;
}

export class ObjectTooLargeError extends Error {
  readonly code = 'OBJECT_TOO_LARGE';
  constructor(
    readonly ref: ObjectRef,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`s3://${ref.bucket}/${ref.key} is ${size} bytes; the limit is ${maxBytes}`);
    this.name = 'ObjectTooLargeError';
  }
}

/**
 * The SageMaker operations nbops calls, with SDK input/output types. Describe* return undefined
 * for a resource that does not exist (instead of throwing), because "does it exist yet" is a
 * normal question for idempotent handlers.
 */
export interface SageMakerPort {
  createTrainingJob(input: CreateTrainingJobCommandInput): Promise<{ TrainingJobArn: string }>;
  describeTrainingJob(name: string): Promise<DescribeTrainingJobCommandOutput | undefined>;
  stopTrainingJob(name: string): Promise<void>;
  createModel(input: CreateModelCommandInput): Promise<{ ModelArn: string }>;
  describeModel(name: string): Promise<DescribeModelCommandOutput | undefined>;
  deleteModel(name: string): Promise<void>;
  createEndpointConfig(input: CreateEndpointConfigCommandInput): Promise<{ EndpointConfigArn: string }>;
  describeEndpointConfig(name: string): Promise<DescribeEndpointConfigCommandOutput | undefined>;
  deleteEndpointConfig(name: string): Promise<void>;
  createEndpoint(input: CreateEndpointCommandInput): Promise<{ EndpointArn: string }>;
  updateEndpoint(input: UpdateEndpointCommandInput): Promise<{ EndpointArn: string }>;
  describeEndpoint(name: string): Promise<DescribeEndpointCommandOutput | undefined>;
  deleteEndpoint(name: string): Promise<void>;
}

export interface AlarmState {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
}

export interface AlarmsPort {
  putMetricAlarm(input: PutMetricAlarmCommandInput): Promise<void>;
  putCompositeAlarm(input: PutCompositeAlarmCommandInput): Promise<void>;
  deleteAlarms(names: string[]): Promise<void>;
  describeAlarms(names: string[]): Promise<AlarmState[]>;
}

/** nbops's own events on the bus (source `nbops`, detail-types in core/wiring.ts NBOPS_EVENTS). */
export interface EventsPort {
  publish(
    detailType: string,
    detail: Record<string, unknown>,
    opts?: { resources?: string[] },
  ): Promise<void>;
}

export interface Notification {
  /** page: wake someone; ticket: look today; info: for the record. */
  severity: 'page' | 'ticket' | 'info';
  subject: string;
  message: string;
  model?: string;
  version?: number;
}

export interface NotifierPort {
  notify(n: Notification): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/**
 * A recurring schedule that puts one of nbops's own events (source `nbops`) on the bus, where the
 * wiring table routes it like any other event. Every run adds `scheduledTime` (ISO-8601, the time
 * the run was due) and `executionId` (unique per run, the same on retries of a run) to `detail`.
 */
export interface EventSchedule {
  /** Unique name: letters, digits, `-`, `_`, `.`, at most 64 characters (EventBridge Scheduler's rule). */
  name: string;
  /** `rate(...)` or `cron(...)`, UTC. */
  expression: string;
  description?: string;
  /** detail-type of the event each run puts on the bus (core/wiring.ts NBOPS_EVENTS). */
  detailType: string;
  detail: Record<string, string | number | boolean>;
}

/** Schedules that live as long as what they serve (a model's drift evaluation). Both calls are idempotent. */
export interface SchedulesPort {
  /** Creates the schedule, or replaces its definition when it exists. */
  upsertSchedule(schedule: EventSchedule): Promise<void>;
  /** Deleting a schedule that does not exist is not an error. */
  deleteSchedule(name: string): Promise<void>;
}

/** Deployment configuration every use case shares: where things live and what policy applies. */
export interface ServiceConfig {
  /** The artifact bucket (notebooks, versions, runtime, capture, drift). */
  bucket: string;
  /** The resolved platform policy (limits, approvals, AWS target). */
  policy: Policy;
  /** Hash of the published Python runtime (layout runtimePrefix). */
  runtimeHash: string;
  /**
   * SNS topics CloudWatch itself notifies when an SLO alarm fires (AlarmActions/OKActions): page
   * alarms to the page topic, ticket alarms to the ticket topic. Optional: without them only the
   * alarm handler notifies, with context (docs/alarms.md).
   */
  pageTopicArn?: string;
  ticketTopicArn?: string;
}

export interface Services {
  config: ServiceConfig;
  store: ObjectStore;
  registry: Registry;
  sagemaker: SageMakerPort;
  alarms: AlarmsPort;
  events: EventsPort;
  notifier: NotifierPort;
  schedules: SchedulesPort;
  clock: Clock;
}
