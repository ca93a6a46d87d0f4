/**
 * The AWS host's Services: every port on its AWS adapter, configured from environment variables
 * (docs/configuration.md lists them). Each SDK client is built once here; the Lambda handlers keep
 * the result in module scope so warm invocations reuse clients and their connections.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoRegistry } from '#adapters/dynamodb/registry';
import { loadPolicy, type Policy, resolvePolicy } from '#core/policy/policy';
import type { SchedulesPort, ServiceConfig, Services } from '#core/ports';
import { systemClock } from './clock';
import { AwsAlarms } from './cloudwatch-alarms';
import { AwsEvents } from './eventbridge-events';
import { S3ObjectStore } from './s3-store';
import { AwsSageMaker } from './sagemaker';
import { AwsSchedules, DEFAULT_SCHEDULE_GROUP } from './scheduler';
import { type NotificationLog, SnsNotifier } from './sns-notifier';

export type Env = Record<string, string | undefined>;

/** Variables every handler needs, with what each is for (used in the startup error). */
export const REQUIRED_ENV = {
  AWS_REGION: 'the AWS Region of the deployment (set by Lambda)',
  NBOPS_BUCKET: 'the artifact bucket',
  NBOPS_TABLE: 'the registry DynamoDB table',
  NBOPS_EVENT_BUS: 'the EventBridge bus nbops publishes its events to',
  NBOPS_PAGE_TOPIC_ARN: 'the SNS topic for notifications that page someone',
  NBOPS_TICKET_TOPIC_ARN: 'the SNS topic for notifications that open a ticket',
  NBOPS_RUNTIME_HASH: 'the hash of the published Python runtime (runtime/<hash>/ in the bucket)',
} as const;

/**
 * Variables for the per-model drift schedules (EventBridge Scheduler puts a "Drift Evaluation Due"
 * event on the nbops bus). Optional at start: only the handlers that create or delete schedules
 * (deploy outcomes, retire) need them, and they fail with this list when one is missing.
 */
export const SCHEDULER_ENV = {
  NBOPS_EVENT_BUS_ARN: 'the ARN of the nbops event bus (the target of drift schedules)',
  NBOPS_SCHEDULER_ROLE_ARN: 'the role EventBridge Scheduler assumes to put events on that bus',
} as const;

/** The deployment is misconfigured: a handler cannot start until the variables are fixed. */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface AwsServicesOptions {
  /** Wraps each SDK client after it is built (the Lambda handlers pass Tracer.captureAWSv3Client). */
  instrument?: <C extends object>(client: C) => C;
  /** Where info notifications go when there is no info topic. */
  log?: NotificationLog;
}

export function awsServicesFromEnv(env: Env = process.env, options: AwsServicesOptions = {}): Services {
  const missing = Object.entries(REQUIRED_ENV).filter(([name]) => !env[name]?.trim());
  if (missing.length > 0)
    throw new ConfigError(
      `nbops cannot start: ${missing.map(([name, what]) => `${name} (${what})`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. ` +
        'Set them in the function configuration; the CDK stack sets all of them (docs/configuration.md).',
    );
  const value = (name: keyof typeof REQUIRED_ENV) => env[name]!.trim();
  const region = value('AWS_REGION');
  const policy = policyFromEnv(env);
  const instrument = options.instrument ?? (<C>(client: C) => client);

  const s3 = instrument(
    new S3Client({
      region,
      // s3rver (and other S3 stand-ins without DNS per bucket) need path-style addressing.
      forcePathStyle: isTrue(env.NBOPS_S3_FORCE_PATH_STYLE),
    }),
  );
  const dynamodb = instrument(new DynamoDBClient({ region }));
  const sagemaker = instrument(new SageMakerClient({ region }));
  const cloudwatch = instrument(new CloudWatchClient({ region }));
  const eventbridge = instrument(new EventBridgeClient({ region }));
  const sns = instrument(new SNSClient({ region }));
  const scheduler = instrument(new SchedulerClient({ region }));

  const topics: ConstructorParameters<typeof SnsNotifier>[1] = {
    pageTopicArn: value('NBOPS_PAGE_TOPIC_ARN'),
    ticketTopicArn: value('NBOPS_TICKET_TOPIC_ARN'),
  };
  const infoTopic = env.NBOPS_INFO_TOPIC_ARN?.trim();
  if (infoTopic) topics.infoTopicArn = infoTopic;

  const config: ServiceConfig = {
    bucket: value('NBOPS_BUCKET'),
    policy,
    runtimeHash: value('NBOPS_RUNTIME_HASH'),
  };
  // CloudWatch's own alarm notifications are opt-in: the alarm handler already notifies, with context.
  if (isTrue(env.NBOPS_ALARM_ACTIONS)) {
    config.pageTopicArn = topics.pageTopicArn;
    config.ticketTopicArn = topics.ticketTopicArn;
  }

  return {
    config,
    store: new S3ObjectStore(s3),
    registry: new DynamoRegistry({ client: dynamodb, tableName: value('NBOPS_TABLE') }),
    sagemaker: new AwsSageMaker(sagemaker),
    alarms: new AwsAlarms(cloudwatch),
    events: new AwsEvents(eventbridge, value('NBOPS_EVENT_BUS')),
    notifier: new SnsNotifier(sns, topics, options.log),
    schedules: schedulesFromEnv(env, scheduler),
    clock: systemClock,
  };
}

/** Drift schedules on EventBridge Scheduler, or a port that names the missing variables when used. */
function schedulesFromEnv(env: Env, client: SchedulerClient): SchedulesPort {
  const missing = Object.entries(SCHEDULER_ENV).filter(([name]) => !env[name]?.trim());
  if (missing.length > 0) {
    const fail = async (): Promise<never> => {
      throw new ConfigError(
        `nbops cannot manage drift schedules: ${missing.map(([name, what]) => `${name} (${what})`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. ` +
          'Set them in the function configuration; the CDK stack sets them (docs/configuration.md).',
      );
    };
    return { upsertSchedule: fail, deleteSchedule: fail };
  }
  const dlq = env.NBOPS_SCHEDULE_DLQ_ARN?.trim();
  return new AwsSchedules(client, {
    eventBusArn: env.NBOPS_EVENT_BUS_ARN!.trim(),
    roleArn: env.NBOPS_SCHEDULER_ROLE_ARN!.trim(),
    groupName: env.NBOPS_SCHEDULE_GROUP?.trim() || DEFAULT_SCHEDULE_GROUP,
    ...(dlq ? { deadLetterArn: dlq } : {}),
  });
}

/**
 * NBOPS_POLICY: the platform policy as JSON (schemas/policy.schema.json), resolved over the
 * defaults; unset or empty means the default policy. An invalid policy stops the handler with every
 * problem listed, each with its fix.
 */
export function policyFromEnv(env: Env = process.env): Policy {
  const text = env.NBOPS_POLICY?.trim();
  if (!text) return resolvePolicy();
  const loaded = loadPolicy(text, 'NBOPS_POLICY.json');
  const errors = loaded.findings.filter((f) => f.severity === 'error');
  if (!loaded.policy || errors.length > 0)
    throw new ConfigError(
      'nbops cannot start: the policy in NBOPS_POLICY is invalid:\n' +
        errors
          .map((f) => `  - ${sentence(f.message.replaceAll('NBOPS_POLICY.json', 'NBOPS_POLICY'))} ${f.fix}`)
          .join('\n'),
    );
  return resolvePolicy(loaded.policy);
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}
