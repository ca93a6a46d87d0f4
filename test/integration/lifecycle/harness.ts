/**
 * One nbops deployment per test, wired as the AWS host wires it: real S3 (s3rver) and DynamoDB
 * (dynalite) through the production adapters; SageMaker, CloudWatch, EventBridge and SNS through
 * their production adapters over SDK clients mocked with aws-sdk-client-mock (every request is
 * still checked against the API model by the adapters).
 *
 * Events reach the use cases the way the Lambda handlers pass them: built in the formats AWS sends
 * (docs: shared reference aws.md section 3) and parsed by layers/core/events.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type DeleteScheduleCommandInput,
  GetScheduleCommand,
  type GetScheduleCommandInput,
  SchedulerClient,
  UpdateScheduleCommand,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { inject } from 'vitest';
import { AwsAlarms } from '#adapters/aws/cloudwatch-alarms';
import { AwsEvents } from '#adapters/aws/eventbridge-events';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import { AwsSageMaker } from '#adapters/aws/sagemaker';
import { AwsSchedules } from '#adapters/aws/scheduler';
import { SnsNotifier } from '#adapters/aws/sns-notifier';
import type { DynamoRegistryOptions } from '#adapters/dynamodb/registry';
import { localS3Client } from '#adapters/local/emulators';
import { parseVersionApproved } from '#core/events/nbops';
import { parseNotebookUploads } from '#core/events/s3';
import { parseEndpointStateChange, parseTrainingJobStateChange } from '#core/events/sagemaker';
import { parseScheduledTick } from '#core/events/schedule';
import { type Policy, resolvePolicy } from '#core/policy/policy';
import type { AlarmState, Notification, Services } from '#core/ports';
import { decideApproval } from '#core/service/approvals';
import type {
  ApprovalOutcome,
  DeployOutcome,
  EndpointOutcome,
  SubmitOutcome,
  SweepOutcome,
  TrainingOutcome,
} from '#core/service/contracts';
import { deployVersion } from '#core/service/deploy';
import { onEndpointStateChange } from '#core/service/endpoint';
import { isRetryLater } from '#core/service/errors';
import { submitNotebook } from '#core/service/submit';
import { sweepStuckVersions } from '#core/service/sweeper';
import { onTrainingJobStateChange } from '#core/service/training';
import { freshRegistry, type TestRegistry } from '../registry/helpers';
import { ACCOUNT, FakeSageMaker, REGION } from './fake-sagemaker';

export const START = new Date('2025-03-01T09:00:00.000Z');
export const UPLOADER = 'alice@example.com';
export const APPROVER = 'lead@example.com';
export const EXAMPLE_NOTEBOOK = readFileSync('examples/churn/churn.ipynb');
const noWait = { retry: { sleep: async () => {}, random: () => 0 } };

/** A fresh copy of the churn example notebook (safe to edit). */
// biome-ignore lint/suspicious/noExplicitAny: notebooks are edited field by field in tests
export function churnNotebook(edit: (nb: any) => void = () => {}): Uint8Array {
  const nb = JSON.parse(EXAMPLE_NOTEBOOK.toString('utf8'));
  edit(nb);
  return new TextEncoder().encode(`${JSON.stringify(nb, null, 1)}\n`);
}

export const TEST_POLICY: Policy = {
  aws: {
    accountId: ACCOUNT,
    region: REGION,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/nbops-sagemaker-execution`,
  },
  approval: { approvers: [APPROVER, `arn:aws:iam::${ACCOUNT}:role/ml-release`], allowSelfApproval: false },
};

export interface Harness {
  services: Services;
  bucket: string;
  db: TestRegistry;
  cloud: FakeSageMaker;
  /** AWS operations that changed something, in order (SageMaker creates/updates, PutMetricAlarm). */
  log: string[];
  /** S3 commands sent by the object store, in order. */
  s3Sent: { command: string; key?: string }[];
  notifications: Notification[];
  /** nbops events published since the last takePublished(). */
  takePublished(): object[];
  alarmStates: Map<string, AlarmState['state']>;
  alarmInputs: PutMetricAlarmCommandInput[];
  /** EventBridge Scheduler schedules that exist, by name (the last Create/UpdateSchedule input). */
  schedules: Map<string, CreateScheduleCommandInput>;
  tick(seconds: number): void;
  now(): Date;
  nextId(prefix: string): string;

  upload(key: string, body: Uint8Array | string, uploader?: string): Promise<object>;
  trainingEvent(jobName: string): object;
  endpointEvent(name: string, kind?: 'endpoint' | 'deployment'): object;

  submit(event: object): Promise<SubmitOutcome>;
  training(event: object): Promise<TrainingOutcome>;
  deploy(event: object): Promise<DeployOutcome>;
  endpoint(event: object): Promise<EndpointOutcome>;
  approve(
    model: string,
    version: number,
    actor?: string,
    decision?: 'approve' | 'decline',
    requestId?: string,
  ): Promise<ApprovalOutcome>;
  sweep(): Promise<SweepOutcome>;
  /** Deploys every "Version Approved" event published so far. */
  deployPublished(): Promise<DeployOutcome[]>;
}

export async function harness(
  options: { policy?: Policy; registry?: Partial<DynamoRegistryOptions> } = {},
): Promise<Harness> {
  let now = START.getTime();
  let ids = 0;
  const nextId = (prefix: string) => `${prefix}-${String(++ids).padStart(4, '0')}`;
  // Time moves on by a millisecond per reading, as it does between real calls, so records made
  // one after another have distinct, ordered times.
  const clock = { now: () => new Date(now++) };
  const log: string[] = [];

  const s3 = localS3Client(inject('emulators').s3Endpoint);
  const s3Sent: Harness['s3Sent'] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string };
      s3Sent.push({ command: String(context.commandName).replace(/Command$/, ''), key: input.Key });
      return next(args);
    },
    { step: 'initialize', name: 'recordS3Commands' },
  );
  const bucket = `nbops-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const db = await freshRegistry(options.registry);
  const cloud = new FakeSageMaker(clock.now, log);

  const cloudwatch = new CloudWatchClient({
    region: REGION,
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  const alarmStates = new Map<string, AlarmState['state']>();
  const alarmInputs: PutMetricAlarmCommandInput[] = [];
  const cw = mockClient(cloudwatch);
  cw.on(PutMetricAlarmCommand).callsFake(async (input: PutMetricAlarmCommandInput) => {
    alarmInputs.push(input);
    if (!alarmStates.has(input.AlarmName!)) alarmStates.set(input.AlarmName!, 'INSUFFICIENT_DATA');
    log.push(`PutMetricAlarm ${input.AlarmName}`);
    return {};
  });
  cw.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => ({
    MetricAlarms: (input.AlarmNames ?? [])
      .filter((name) => alarmStates.has(name))
      .map((name) => ({ AlarmName: name, StateValue: alarmStates.get(name) })),
    CompositeAlarms: [],
  }));

  const eventbridge = new EventBridgeClient({
    region: REGION,
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  let published: object[] = [];
  mockClient(eventbridge)
    .on(PutEventsCommand)
    .callsFake(async (input: PutEventsCommandInput) => {
      const entries = input.Entries ?? [];
      for (const entry of entries)
        published.push({
          version: '0',
          id: nextId('evb'),
          'detail-type': entry.DetailType,
          source: entry.Source,
          account: ACCOUNT,
          time: clock.now().toISOString(),
          region: REGION,
          resources: entry.Resources ?? [],
          detail: JSON.parse(entry.Detail ?? '{}'),
        });
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) };
    });

  const sns = new SNSClient({ region: REGION, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  const notifications: Notification[] = [];
  mockClient(sns)
    .on(PublishCommand)
    .callsFake(async (input: PublishCommandInput) => {
      const attrs = input.MessageAttributes ?? {};
      notifications.push({
        severity: attrs.severity?.StringValue as Notification['severity'],
        subject: input.Subject ?? '',
        message: input.Message ?? '',
        ...(attrs.model?.StringValue ? { model: attrs.model.StringValue } : {}),
        ...(attrs.version?.StringValue ? { version: Number(attrs.version.StringValue) } : {}),
      });
      return { MessageId: randomUUID() };
    });

  const scheduler = new SchedulerClient({
    region: REGION,
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  const schedules = new Map<string, CreateScheduleCommandInput>();
  const notFound = (name: string) =>
    Object.assign(new Error(`Schedule ${name} does not exist.`), { name: 'ResourceNotFoundException' });
  mockClient(scheduler)
    .on(GetScheduleCommand)
    .callsFake(async (input: GetScheduleCommandInput) => {
      const found = schedules.get(input.Name!);
      if (!found) throw notFound(input.Name!);
      return { ...found, Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/nbops/${input.Name}` };
    })
    .on(CreateScheduleCommand)
    .callsFake(async (input: CreateScheduleCommandInput) => {
      if (schedules.has(input.Name!))
        throw Object.assign(new Error(`Schedule ${input.Name} already exists.`), {
          name: 'ConflictException',
        });
      schedules.set(input.Name!, input);
      log.push(`CreateSchedule ${input.Name}`);
      return { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/nbops/${input.Name}` };
    })
    .on(UpdateScheduleCommand)
    .callsFake(async (input: UpdateScheduleCommandInput) => {
      if (!schedules.has(input.Name!)) throw notFound(input.Name!);
      schedules.set(input.Name!, input as CreateScheduleCommandInput);
      log.push(`UpdateSchedule ${input.Name}`);
      return { ScheduleArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/nbops/${input.Name}` };
    })
    .on(DeleteScheduleCommand)
    .callsFake(async (input: DeleteScheduleCommandInput) => {
      if (!schedules.delete(input.Name!)) throw notFound(input.Name!);
      log.push(`DeleteSchedule ${input.Name}`);
      return {};
    });

  const topic = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
  const services: Services = {
    config: {
      bucket,
      policy: resolvePolicy(options.policy ?? TEST_POLICY),
      runtimeHash: 'ab'.repeat(32),
    },
    store: new S3ObjectStore(s3, { dialect: 's3rver' }),
    registry: db.registry,
    sagemaker: new AwsSageMaker(cloud.client, noWait),
    alarms: new AwsAlarms(cloudwatch, noWait),
    events: new AwsEvents(eventbridge, 'nbops-bus', noWait),
    notifier: new SnsNotifier(
      sns,
      { pageTopicArn: topic('page'), ticketTopicArn: topic('ticket'), infoTopicArn: topic('info') },
      () => {},
      noWait,
    ),
    schedules: new AwsSchedules(
      scheduler,
      {
        eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/nbops-bus`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/nbops-scheduler`,
      },
      noWait,
    ),
    clock,
  };

  let sequencer = 0x617f08299329d189n;
  const h: Harness = {
    services,
    bucket,
    db,
    cloud,
    log,
    s3Sent,
    notifications,
    takePublished() {
      const out = published;
      published = [];
      return out;
    },
    alarmStates,
    alarmInputs,
    schedules,
    tick(seconds) {
      now += seconds * 1000;
    },
    now: clock.now,
    nextId,

    async upload(key, body, uploader = UPLOADER) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      sequencer += 1n;
      return {
        version: '0',
        id: nextId('s3'),
        'detail-type': 'Object Created',
        source: 'aws.s3',
        account: ACCOUNT,
        time: clock.now().toISOString(),
        region: REGION,
        resources: [`arn:aws:s3:::${bucket}`],
        detail: {
          version: '0',
          bucket: { name: bucket },
          object: {
            key,
            size: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
            etag: (put.ETag ?? '').replace(/"/g, ''),
            sequencer: sequencer.toString(16).toUpperCase(),
          },
          'request-id': nextId('req'),
          requester: uploader,
          'source-ip-address': '192.0.2.10',
          reason: 'PutObject',
        },
      };
    },

    trainingEvent(jobName) {
      const job = cloud.jobs.get(jobName);
      if (!job) throw new Error(`no job ${jobName}`);
      const i = job.input;
      const ms = (d: Date | undefined) => (d ? String(d.getTime()) : undefined);
      return {
        version: '0',
        id: nextId('sm'),
        'detail-type': 'SageMaker Training Job State Change',
        source: 'aws.sagemaker',
        account: ACCOUNT,
        time: clock.now().toISOString(),
        region: REGION,
        resources: [cloud.arn('training-job', jobName)],
        detail: {
          TrainingJobName: jobName,
          TrainingJobArn: cloud.arn('training-job', jobName),
          TrainingJobStatus: job.status,
          SecondaryStatus: job.secondary,
          ...(job.failureReason ? { FailureReason: job.failureReason } : {}),
          HyperParameters: i.HyperParameters ?? {},
          AlgorithmSpecification: i.AlgorithmSpecification,
          RoleArn: i.RoleArn,
          InputDataConfig: i.InputDataConfig,
          OutputDataConfig: i.OutputDataConfig,
          ResourceConfig: i.ResourceConfig,
          StoppingCondition: i.StoppingCondition,
          CreationTime: ms(job.created),
          TrainingStartTime: ms(job.created),
          TrainingEndTime: ms(job.ended),
          LastModifiedTime: ms(job.ended ?? job.created),
          SecondaryStatusTransitions: [],
          Tags: {},
        },
      };
    },

    endpointEvent(name, kind = 'endpoint') {
      const d = cloud.describeEndpoint(name);
      const upper = (s: string) => s.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
      const detail: Record<string, unknown> = {
        EndpointName: name,
        EndpointArn: d.EndpointArn,
        EndpointConfigName: d.EndpointConfigName,
        ProductionVariants: d.ProductionVariants,
        EndpointStatus: upper(d.EndpointStatus ?? ''),
        CreationTime: d.CreationTime!.getTime(),
        LastModifiedTime: d.LastModifiedTime!.getTime(),
        Tags: {},
      };
      if (d.FailureReason) detail.FailureReason = d.FailureReason;
      if (kind === 'deployment' && d.PendingDeploymentSummary)
        detail.PendingDeploymentSummary = {
          ...d.PendingDeploymentSummary,
          StartTime: d.PendingDeploymentSummary.StartTime?.getTime(),
        };
      return {
        version: '0',
        id: nextId('ep'),
        'detail-type':
          kind === 'endpoint'
            ? 'SageMaker Endpoint State Change'
            : 'SageMaker Endpoint Deployment State Change',
        source: 'aws.sagemaker',
        account: ACCOUNT,
        time: clock.now().toISOString(),
        region: REGION,
        resources: [cloud.arn('endpoint', name)],
        detail,
      };
    },

    async submit(event) {
      const uploads = parseNotebookUploads(event);
      if (uploads.length !== 1) throw new Error(`expected one upload, got ${uploads.length}`);
      return submitNotebook(services, uploads[0]!);
    },
    training: (event) => onTrainingJobStateChange(services, parseTrainingJobStateChange(event)),
    deploy: (event) => deployVersion(services, parseVersionApproved(event)),
    endpoint: (event) => onEndpointStateChange(services, parseEndpointStateChange(event)),
    approve: (model, version, actor = APPROVER, decision = 'approve', requestId = nextId('req')) =>
      decideApproval(services, {
        model,
        version,
        actor,
        decision,
        reason: decision === 'approve' ? 'metrics look good' : 'not this one',
        requestId,
        at: clock.now().toISOString(),
      }),
    async sweep() {
      const tick = parseScheduledTick({
        version: '0',
        id: nextId('sched'),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ACCOUNT,
        time: clock.now().toISOString(),
        region: REGION,
        resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/nbops-stuck-sweep`],
        detail: {},
      });
      return sweepStuckVersions(services, { eventId: tick.eventId, eventTime: tick.eventTime });
    },
    async deployPublished() {
      const out: DeployOutcome[] = [];
      for (const event of h.takePublished()) out.push(await h.deploy(event));
      return out;
    },
  };
  return h;
}

/**
 * Delivers one event several times at once, as at-least-once delivery may. Deliveries that ask to
 * be retried (RetryLaterError: another delivery is mid-step) are delivered again, as Lambda's
 * retries would, until none asks; any other failure fails the test.
 */
export async function deliverConcurrently<T>(times: number, deliver: () => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(Array.from({ length: times }, deliver));
  const results: T[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      results.push(s.value);
      continue;
    }
    if (!isRetryLater(s.reason)) throw s.reason;
    let retried: T | undefined;
    for (let attempt = 0; attempt < 5 && retried === undefined; attempt++) {
      try {
        retried = await deliver();
      } catch (err) {
        if (!isRetryLater(err)) throw err;
      }
    }
    if (retried === undefined) throw new Error('a redelivery kept asking to be retried');
    results.push(retried);
  }
  return results;
}

/** Happy path to PENDING_APPROVAL: upload, submit, complete the job, deliver its event. */
export async function trainVersion(
  h: Harness,
  body: Uint8Array,
  metrics: Record<string, number>,
  key = 'notebooks/churn/churn.ipynb',
): Promise<{ version: number; jobName: string; training: TrainingOutcome }> {
  const submitted = await h.submit(await h.upload(key, body));
  if (submitted.kind !== 'training') throw new Error(`submit: ${JSON.stringify(submitted)}`);
  h.tick(600);
  h.cloud.completeJob(submitted.trainingJobName, metrics);
  const training = await h.training(h.trainingEvent(submitted.trainingJobName));
  return { version: submitted.version, jobName: submitted.trainingJobName, training };
}

/** Approve, deploy, and let the endpoint finish: the version is DEPLOYED and champion. */
export async function shipVersion(h: Harness, version: number): Promise<DeployOutcome> {
  await h.approve('churn', version);
  const [deployed] = await h.deployPublished();
  if (deployed?.kind !== 'deploying') throw new Error(`deploy: ${JSON.stringify(deployed)}`);
  h.tick(300);
  h.cloud.finishEndpoint('churn');
  const outcome = await h.endpoint(h.endpointEvent('churn'));
  if (outcome.kind !== 'deployed') throw new Error(`endpoint: ${JSON.stringify(outcome)}`);
  return deployed;
}

/**
 * The registry's view of a model without times, event ids and the per-test bucket name: what two
 * runs of the same story must agree on, however their events were delivered.
 */
export async function registrySnapshot(h: Harness, model = 'churn'): Promise<unknown> {
  const registry = h.services.registry;
  const meta = await registry.getModel(model);
  const versions = await registry.listVersions(model);
  const trail = await registry.auditTrail(model);
  const snapshot = {
    aliases: meta?.aliases,
    champion: meta?.champion && {
      version: meta.champion.version,
      notebook: meta.champion.notebook,
      approval: meta.champion.approval && {
        approver: meta.champion.approval.approver,
        decision: meta.champion.approval.decision,
      },
    },
    versions: versions.map((v) => ({
      version: v.version,
      status: v.status,
      uploader: v.uploader,
      owner: v.owner,
      facts: v.facts,
      approval: v.approval && { approver: v.approval.approver, decision: v.approval.decision },
    })),
    audit: trail.map((e) => ({
      kind: e.kind,
      version: e.version,
      ...('from' in e ? { from: e.from } : {}),
      ...('to' in e ? { to: e.to } : {}),
      actor: e.actor,
      reason: e.reason,
    })),
  };
  // Endpoint config names hash the config, which names the bucket (data capture destination).
  let text = JSON.stringify(snapshot).replaceAll(h.bucket, '<bucket>');
  for (const v of versions) {
    const config = v.facts.deployment?.endpointConfigName;
    if (config) text = text.replaceAll(config, `<endpoint config of v${v.version}>`);
  }
  return JSON.parse(text);
}
