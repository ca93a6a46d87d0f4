/**
 * Nbops: the whole platform as one construct others can put in their own CDK apps.
 *
 * It creates (or takes, the `existing*` props) a KMS key, the artifact bucket, the registry and
 * idempotency tables, the nbops event bus and the page/ticket topics; the SageMaker execution
 * role; one function per handler that the wiring table routes to, each with a role scoped to
 * what that handler does (access.ts); an EventBridge rule or Scheduler schedule per route; the
 * Python runtime published to `runtime/<hash>/`; and a dashboard. Secure defaults live here, in
 * one place: TLS-only everything, KMS everywhere the service allows a customer key, no public access.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { ComparisonOperator, Alarm as CwAlarm, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IGrantable, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import {
  type FunctionUrl,
  FunctionUrlAuthType,
  type IFunction,
  Function as LambdaFn,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { CfnSchedule, CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { PREFIXES, runtimePrefix } from '#core/layout';
import type { Policy } from '#core/policy/policy';
import { REGISTRY_TABLE } from '#core/registry/table';
import {
  ALARM_NAME_PREFIX,
  type EventRoute,
  type HandlerName,
  NBOPS_EVENT_SOURCE,
  type Route,
  routes,
  type ScheduleRoute,
} from '#core/wiring';
import { HANDLER_ACCESS, type HandlerAccess, IDEMPOTENCY_ACTIONS, KEYS, REGISTRY_ACTIONS } from './access';
import { DEFAULT_RETENTION, type FunctionSettings, type RetentionSettings } from './config';
import { NbopsDashboard } from './dashboard';
import { NbopsFunction } from './function';
import { acknowledge, acknowledgeRoleWildcards, allow, flattenReference } from './nag';
import { RUNTIME_ASSET_EXCLUDE, runtimeHashOf } from './runtime-asset';

/** The checkout this module lives in: handlers, the runtime and package-lock.json are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NbopsProps {
  /** The platform policy, already validated (loadPolicy / the config file). The `aws` section is filled in here. */
  readonly policy?: Policy;
  /** E-mail addresses subscribed to the page and ticket topics. */
  readonly notifications?: { page?: readonly string[]; ticket?: readonly string[] };
  /** Schedule expression overrides by scheduled route id. */
  readonly schedules?: Readonly<Record<string, string>>;
  readonly retention?: Partial<RetentionSettings>;
  /** Per-handler memory, timeout and reserved concurrency. */
  readonly functions?: Partial<Record<HandlerName, FunctionSettings>>;
  /** Also deploy the operator API (see addOpsApi). Default false. */
  readonly opsApi?: boolean;
  /**
   * Let each model's CloudWatch alarms notify the page/ticket topics themselves
   * (NBOPS_ALARM_ACTIONS), besides the alarm handler's notification with context. Default false.
   */
  readonly alarmActions?: boolean;
  /**
   * Bring your own KMS key. Its key policy must let CloudWatch Logs, EventBridge, CloudWatch
   * alarms and SNS use it as docs/deploy.md describes; nbops adds nothing to an imported key.
   */
  readonly existingKey?: IKey;
  /**
   * Bring your own artifact bucket: versioned, EventBridge notifications on, encrypted with
   * `existingKey` (or SSE-S3). nbops cannot change an imported bucket's logging, lifecycle or policy.
   */
  readonly existingBucket?: IBucket;
  readonly existingPageTopic?: ITopic;
  readonly existingTicketTopic?: ITopic;
  /** Bring your own bus for nbops's own events (source `nbops`). */
  readonly existingEventBus?: IEventBus;
  /** Where functions/, layers/runtime and package-lock.json are. Default: this checkout. */
  readonly projectRoot?: string;
}

const SCHEDULE_INPUT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
};

/**
 * The longest policy JSON accepted. Lambda allows 4 KB for all environment variables together
 * (names and values). The rest takes up to about 1.9 KB: the stack's `aws` section of
 * NBOPS_POLICY and the other variables, which grow with the generated resource names (a 64-character
 * stack name) and the scheduler variables of the functions that manage drift schedules.
 */
export const MAX_POLICY_JSON = 2000;

export class Nbops extends Construct {
  readonly key: IKey;
  readonly bucket: IBucket;
  /** Server access logs of the artifact bucket (absent with existingBucket). */
  readonly accessLogBucket?: Bucket;
  readonly registryTable: Table;
  readonly idempotencyTable: Table;
  readonly eventBus: IEventBus;
  readonly pageTopic: ITopic;
  readonly ticketTopic: ITopic;
  /** The role SageMaker training jobs and endpoints run as. */
  readonly executionRole: Role;
  /** Events EventBridge or Scheduler could not deliver to a function. */
  readonly undeliveredEvents: Queue;
  /** Hash of the published Python runtime: `runtime/<hash>/nbops_runtime/`. */
  readonly runtimeHash: string;
  readonly functions = new Map<HandlerName, NbopsFunction>();
  /** One rule or schedule per wiring route, by route id. */
  readonly routeTargets = new Map<string, Rule | CfnSchedule>();
  /** The schedule group of nbops schedules: the sweep, and the per-model drift schedules handlers create. */
  readonly scheduleGroup: CfnScheduleGroup;
  /** The role EventBridge Scheduler assumes: invoke scheduled functions, put drift events on the nbops bus. */
  readonly schedulerRole: Role;
  readonly dashboard: NbopsDashboard;
  /** The operator API's URL (IAM auth), once addOpsApi ran. */
  opsApiUrl?: FunctionUrl;
  /** What an operator needs for the nbops CLI on AWS (attach it to your operators' roles or groups). */
  operatorPolicy?: ManagedPolicy;
  /** Alarms on the platform itself (functions, queues), all notifying the ticket topic. */
  readonly platformAlarms: Alarm[] = [];

  private readonly props: NbopsProps;
  private readonly root: string;
  private readonly retention: RetentionSettings;
  private readonly logGroupPrefix: string;
  private readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: NbopsProps = {}) {
    super(scope, id);
    this.props = props;
    this.root = props.projectRoot ?? PROJECT_ROOT;
    this.retention = { ...DEFAULT_RETENTION, ...props.retention };
    const stack = Stack.of(this);
    this.logGroupPrefix = `/nbops/${stack.stackName}/`;

    this.key = props.existingKey ?? this.createKey();
    if (!props.existingBucket) this.accessLogBucket = this.createAccessLogBucket();
    this.bucket = props.existingBucket ?? this.createBucket(this.accessLogBucket!);
    this.registryTable = this.createRegistryTable();
    this.idempotencyTable = this.createIdempotencyTable();
    this.eventBus =
      props.existingEventBus ??
      new EventBus(this, 'EventBus', { description: 'nbops: events nbops itself publishes (source nbops)' });
    this.pageTopic = props.existingPageTopic ?? this.createTopic('PageTopic', 'nbops page');
    this.ticketTopic = props.existingTicketTopic ?? this.createTopic('TicketTopic', 'nbops ticket');
    this.subscribe(props.notifications ?? {});
    this.undeliveredEvents = this.createDeadLetterQueue(
      'UndeliveredEvents',
      'events EventBridge or Scheduler could not deliver to an nbops function after its retries',
    );
    this.executionRole = this.createExecutionRole(props.policy ?? {});
    this.runtimeHash = this.publishRuntime();
    this.environment = this.functionEnvironment(props.policy ?? {});
    this.scheduleGroup = new CfnScheduleGroup(this, 'ScheduleGroup', {});
    this.schedulerRole = this.createSchedulerRole();

    const table = routes({ bucketName: this.bucket.bucketName });
    for (const handler of new Set(table.map((route) => route.handler))) this.addHandlerFunction(handler);
    for (const route of table) this.addRoute(route);
    if (props.opsApi) this.addOpsApi();

    this.dashboard = new NbopsDashboard(this, 'Dashboard', {
      functions: [...this.functions.values()],
      undeliveredEvents: this.undeliveredEvents,
      platformAlarms: this.platformAlarms,
    });
  }

  /** A handler's function (e.g. to grant it more in your own app). */
  functionFor(handler: HandlerName): NbopsFunction {
    const fn = this.functions.get(handler);
    if (!fn) throw new Error(`nbops has no ${handler} function: no wiring route targets that handler.`);
    return fn;
  }

  /**
   * The operator API: the ops-api handler behind a Lambda function URL with IAM auth (callers sign
   * requests with SigV4 and need lambda:InvokeFunctionUrl on it). Needs functions/ops-api/index.ts.
   */
  addOpsApi(): FunctionUrl {
    if (this.opsApiUrl) return this.opsApiUrl;
    const fn = this.addHandlerFunction('ops-api', 'The operator API: inspect, approve, reject, roll back.');
    this.opsApiUrl = fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    // What an operator needs, in one policy to attach: call the ops API. No direct S3 access:
    // `nbops submit` uploads with a URL the ops API presigns, which stamps the verified identity
    // as the uploader (layers/core/ops/uploads.ts), so the self-approval rule cannot be dodged.
    this.operatorPolicy = new ManagedPolicy(this, 'OperatorPolicy', {
      description: 'nbops CLI on AWS: call the operator API (uploads go through it).',
      statements: [
        new PolicyStatement({
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [fn.functionArn],
          conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
        }),
      ],
    });
    return this.opsApiUrl;
  }

  /**
   * Lets EventBridge Scheduler (the scheduler role) invoke `fn`: how a scheduled route (the sweep)
   * reaches its function.
   */
  allowSchedulerToInvoke(fn: IFunction): void {
    allow(this.schedulerRole, { actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] });
  }

  /**
   * Lets `grantee` manage the schedules in the nbops schedule group: the per-model drift
   * schedules, which put "Drift Evaluation Due" on the nbops bus as the scheduler role.
   * `manage` (the default): get, create, update and delete them, and pass the scheduler role, only
   * to EventBridge Scheduler; `delete`: delete only. A Lambda function also gets the variables the
   * scheduler adapter reads (schedulerEnvironment).
   */
  grantManageSchedules(grantee: IGrantable & IConstruct, mode: 'manage' | 'delete' = 'manage'): void {
    allow(grantee, {
      actions:
        mode === 'manage'
          ? [
              'scheduler:GetSchedule',
              'scheduler:CreateSchedule',
              'scheduler:UpdateSchedule',
              'scheduler:DeleteSchedule',
            ]
          : ['scheduler:DeleteSchedule'],
      resources: [
        Stack.of(this).formatArn({
          service: 'scheduler',
          resource: 'schedule',
          resourceName: `${this.scheduleGroup.ref}/*`,
        }),
      ],
      why: 'Drift schedules are named per model at run time (nbops-<model>-drift); the resource is limited to the nbops schedule group.',
    });
    if (mode === 'manage')
      allow(grantee, {
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      });
    if (grantee instanceof LambdaFn)
      for (const [name, value] of Object.entries(this.schedulerEnvironment()))
        grantee.addEnvironment(name, value);
  }

  /**
   * What the scheduler adapter (layers/adapters/aws/scheduler.ts) reads: the bus drift schedules
   * target, the role Scheduler assumes to put events on it, the group, and the dead-letter queue
   * for runs Scheduler could not deliver.
   */
  schedulerEnvironment(): Record<string, string> {
    return {
      NBOPS_EVENT_BUS_ARN: this.eventBus.eventBusArn,
      NBOPS_SCHEDULER_ROLE_ARN: this.schedulerRole.roleArn,
      NBOPS_SCHEDULE_GROUP: this.scheduleGroup.ref,
      NBOPS_SCHEDULE_DLQ_ARN: this.undeliveredEvents.queueArn,
    };
  }

  // ---------------------------------------------------------------- storage and encryption

  private createKey(): Key {
    const stack = Stack.of(this);
    const key = new Key(this, 'Key', {
      description: 'nbops: artifacts, registry, queues, topics and logs',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // Services that encrypt with the key on their own behalf, each only for its nbops use.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsForNbopsLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: `${this.logGroupPrefix}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeRulesToEncryptedDeadLetterQueues',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
          },
        },
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsToEncryptedTopics',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'SnsToEncryptedSubscriptionDeadLetterQueue',
        principals: [new ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    return key;
  }

  private createAccessLogBucket(): Bucket {
    const bucket = new Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to SSE-S3 buckets, not SSE-KMS.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(this.retention.accessLogDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // cdk-nag's S1 (server access logs) exempts buckets that receive access logs, as this one does.
    return bucket;
  }

  private createBucket(accessLogs: Bucket): Bucket {
    const r = this.retention;
    const bucket = new Bucket(this, 'Artifacts', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of per object: far fewer KMS requests (and their cost).
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-data-capture',
          prefix: PREFIXES.capture,
          expiration: Duration.days(r.captureDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'expire-drift-reports',
          prefix: PREFIXES.drift,
          expiration: Duration.days(r.driftReportDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          // Trained models and checkpoints live under versions/<model>/v<n>/{training,checkpoints}/;
          // lifecycle filters are key prefixes, so the rule covers versions/. Objects under
          // 128 KB (notebook copies, reports) are never transitioned, so in effect it moves
          // artifacts and checkpoints, which are read rarely once a newer version serves.
          id: 'tier-version-artifacts',
          prefix: PREFIXES.versions,
          transitions: [
            {
              storageClass: StorageClass.INTELLIGENT_TIERING,
              transitionAfter: Duration.days(r.versionsToInfrequentAccessDays),
            },
          ],
        },
        {
          id: 'expire-old-object-versions',
          noncurrentVersionExpiration: Duration.days(r.noncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    // EventBridge notifications through the bucket's own CloudFormation property: no custom
    // resource (and no Lambda function) is needed to switch them on.
    (bucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    return bucket;
  }

  private createRegistryTable(): Table {
    const type = (t: 'S' | 'N' | 'B') =>
      t === 'S' ? AttributeType.STRING : t === 'N' ? AttributeType.NUMBER : AttributeType.BINARY;
    const table = new Table(this, 'Registry', {
      partitionKey: { name: REGISTRY_TABLE.partitionKey.name, type: type(REGISTRY_TABLE.partitionKey.type) },
      sortKey: { name: REGISTRY_TABLE.sortKey.name, type: type(REGISTRY_TABLE.sortKey.type) },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of REGISTRY_TABLE.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: type(index.partitionKey.type) },
        sortKey: { name: index.sortKey.name, type: type(index.sortKey.type) },
        projectionType: ProjectionType.ALL,
      });
    }
    return table;
  }

  private createIdempotencyTable(): Table {
    return new Table(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Records live 24 hours and only save repeated work: nothing to keep after teardown.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  // ---------------------------------------------------------------- notifications and queues

  private createTopic(id: string, displayName: string): Topic {
    const topic = new Topic(this, id, { displayName, masterKey: this.key, enforceSSL: true });
    // A topic policy replaces SNS's default one: let this account's alarms publish explicitly.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return topic;
  }

  private subscribe(emails: { page?: readonly string[]; ticket?: readonly string[] }): void {
    const all = [...(emails.page ?? []), ...(emails.ticket ?? [])];
    if (all.length === 0) return;
    const dlq = this.createDeadLetterQueue('UndeliveredNotifications', 'notifications SNS could not deliver');
    for (const email of emails.page ?? [])
      this.pageTopic.addSubscription(new EmailSubscription(email, { deadLetterQueue: dlq }));
    for (const email of emails.ticket ?? [])
      this.ticketTopic.addSubscription(new EmailSubscription(email, { deadLetterQueue: dlq }));
  }

  /** A KMS-encrypted, TLS-only queue holding what could not be delivered, alarmed on depth. */
  private createDeadLetterQueue(id: string, what: string): Queue {
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      queue,
      'AwsSolutions-SQS3',
      `This queue is itself a dead-letter queue (${what}); a DLQ of a DLQ would only move the same messages.`,
    );
    acknowledge(
      queue,
      'Serverless-SQSRedrivePolicy',
      `Terminal dead-letter queue (${what}): operators inspect and redrive by hand (docs/deploy.md), so there is nothing to redrive it to.`,
    );
    const alarm = new CwAlarm(this, `${id}Alarm`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `nbops: ${what} are waiting in a dead-letter queue (docs/deploy.md, "When something fails").`,
    });
    alarm.addAlarmAction(new SnsAction(this.ticketTopic));
    this.platformAlarms.push(alarm);
    return queue;
  }

  // ---------------------------------------------------------------- SageMaker execution role

  private createExecutionRole(policy: Policy): Role {
    const stack = Stack.of(this);
    const role = new Role(this, 'SageMakerExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'nbops: what SageMaker training jobs and endpoints run as',
    });
    const objects = (pattern: string) => this.bucket.arnForObjects(pattern);

    allow(role, {
      actions: ['s3:GetObject'],
      resources: [objects(KEYS.notebookCopies), objects(KEYS.runtime), objects(KEYS.trainingOutputs)],
      why: 'Training reads the version’s notebook copy (versions/<model>/v<n>/notebook/) and the runtime (runtime/<hash>/); endpoints read the model artifact (versions/<model>/v<n>/training/). Model and version vary, so the keys carry wildcards within those prefixes.',
    });
    allow(role, {
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: [objects(KEYS.trainingOutputs), objects(KEYS.checkpoints), objects(KEYS.capture)],
      why: 'Training writes the model artifact and spot checkpoints under versions/<model>/v<n>/{training,checkpoints}/; endpoints write data capture under capture/<endpoint>/. Only these prefixes.',
    });
    allow(role, {
      actions: ['s3:GetObject'],
      resources: [objects(KEYS.checkpoints)],
      why: 'A resumed spot training job reads its checkpoints back from versions/<model>/v<n>/checkpoints/.',
    });
    allow(role, {
      actions: ['s3:ListBucket'],
      resources: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [KEYS.versions, KEYS.runtime] } },
    });

    this.grantDataLocations(role, policy.data?.allowedLocations ?? []);
    this.grantImagePull(role, policy);

    allow(role, {
      actions: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
      ],
      resources: [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '/aws/sagemaker/*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      why: 'SageMaker names its log groups /aws/sagemaker/TrainingJobs and /aws/sagemaker/Endpoints/<endpoint>, with one stream per instance; the resource is limited to /aws/sagemaker/.',
    });
    allow(role, {
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      why: 'cloudwatch:PutMetricData supports no resource-level permissions; the cloudwatch:namespace condition limits it to SageMaker’s own namespaces (training metrics from MetricDefinitions, endpoint instance metrics).',
    });
    allow(role, {
      actions: ['cloudwatch:DescribeAlarms'],
      resources: [this.alarmArn(`${ALARM_NAME_PREFIX}*`)],
      why: 'Blue/green deployments watch the rollback alarms (AutoRollbackConfiguration); nbops names all its alarms nbops-<model>-<kind>.',
    });
    allow(role, {
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [this.key.keyArn],
    });
    allow(role, {
      actions: ['kms:CreateGrant'],
      resources: [this.key.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
    if (policy.aws?.vpc) {
      allow(role, {
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
        why: 'policy.aws.vpc puts jobs and endpoints in the VPC: SageMaker creates their network interfaces with the execution role, and the EC2 describe and ENI-create actions support no resource-level permissions.',
      });
    }
    return role;
  }

  /** Read access to the data prefixes the policy allows training jobs to use. */
  private grantDataLocations(role: Role, locations: readonly string[]): void {
    if (locations.length === 0) {
      Annotations.of(this).addWarningV2(
        'nbops:no-data-locations',
        'policy.data.allowedLocations is empty, so the SageMaker execution role can read no training data outside the artifact bucket. List the S3 prefixes notebooks may train on (e.g. s3://ml-data/churn/).',
      );
      return;
    }
    const objects: string[] = [];
    const listByBucket = new Map<string, string[]>();
    for (const location of locations) {
      const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location)!;
      const bucket = match[1]!;
      const prefix = match[2]!.endsWith('/') || match[2] === '' ? match[2]! : `${match[2]}/`;
      objects.push(`arn:${Aws.PARTITION}:s3:::${bucket}/${prefix}*`);
      listByBucket.set(bucket, [...(listByBucket.get(bucket) ?? []), `${prefix}*`]);
    }
    allow(role, {
      actions: ['s3:GetObject'],
      resources: objects,
      why: 'Training data: every object under the prefixes policy.data.allowedLocations declares (the wildcard is the "under this prefix" of each location).',
    });
    for (const [bucket, prefixes] of listByBucket) {
      allow(role, {
        actions: ['s3:ListBucket'],
        resources: [`arn:${Aws.PARTITION}:s3:::${bucket}`],
        conditions: { StringLike: { 's3:prefix': prefixes } },
        why: 'S3Prefix input channels list the declared data prefixes; a glob in policy.data.allowedLocations becomes a wildcard in the bucket name.',
      });
    }
  }

  /** ECR pulls, scoped to the repositories of the policy's allowed images when it names them all. */
  private grantImagePull(role: Role, policy: Policy): void {
    const images = [policy.training?.allowedImages, policy.serving?.allowedImages];
    const repositories = images.every((list) => list && list.length > 0)
      ? images.flatMap((list) => list!.map(ecrRepositoryArn))
      : undefined;
    const scoped = repositories?.every((arn) => arn !== undefined) ?? false;
    if (!scoped)
      Annotations.of(this).addWarningV2(
        'nbops:unscoped-image-pull',
        'policy.training.allowedImages and policy.serving.allowedImages do not both list ECR images, so the SageMaker execution role may pull from any ECR repository. List the images (ECR URIs, globs allowed) to scope it.',
      );
    allow(role, {
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: scoped
        ? [...new Set(repositories as string[])]
        : [`arn:${Aws.PARTITION}:ecr:*:*:repository/*`],
      why: scoped
        ? 'The repositories of policy.training.allowedImages and policy.serving.allowedImages; a glob in an image URI (Region, repository, tag) stays a wildcard.'
        : 'The policy does not list allowed ECR images for both training and serving, so notebooks may name any image (AWS Deep Learning Containers live in AWS-owned accounts): pulling must work for any repository. Listing allowedImages scopes this.',
    });
    allow(role, {
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
      why: 'ecr:GetAuthorizationToken supports no resource-level permissions; it only returns a registry login token, the pull actions above are scoped.',
    });
  }

  // ---------------------------------------------------------------- runtime, functions, routes

  private publishRuntime(): string {
    const runtimeDir = join(this.root, 'layers', 'runtime', 'nbops_runtime');
    const hash = runtimeHashOf(runtimeDir);
    const logs = new LogGroup(this, 'RuntimeDeploymentLogs', {
      logGroupName: `${this.logGroupPrefix}runtime-deployment`,
      retention: logRetention(this.retention.logDays),
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The deployment gets the bucket without its key so CDK's grant adds no KMS wildcards; the
    // KMS use it needs is granted exactly below.
    const destination = Bucket.fromBucketAttributes(this, 'RuntimeDestination', {
      bucketArn: this.bucket.bucketArn,
      bucketName: this.bucket.bucketName,
    });
    const deployment = new BucketDeployment(this, 'RuntimeDeployment', {
      sources: [Source.asset(runtimeDir, { exclude: RUNTIME_ASSET_EXCLUDE })],
      destinationBucket: destination,
      destinationKeyPrefix: `${runtimePrefix(hash)}nbops_runtime/`,
      // Each runtime has its own prefix and running jobs may still read an old one: never delete.
      prune: false,
      retainOnDelete: true,
      memoryLimit: 256,
      logGroup: logs,
      outputObjectKeys: false,
    });
    allow(deployment.handlerRole as Role, {
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    });
    this.acknowledgeBucketDeployment(deployment);
    return hash;
  }

  /** The acknowledgements of CDK's BucketDeployment provider, whose function and role CDK owns. */
  private acknowledgeBucketDeployment(deployment: BucketDeployment): void {
    const stack = Stack.of(this);
    const provider = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!provider) throw new Error('The BucketDeployment provider function was not found.');
    const role = deployment.handlerRole as Role;
    const why =
      'CDK BucketDeployment provider (runs only during deployments, invoked synchronously by CloudFormation):';
    const acks: [IConstruct, string, string][] = [
      [
        role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `${why} CDK attaches the AWS managed basic execution policy (write its own logs) to the provider role and offers no way to replace it.`,
      ],
      [
        provider,
        'AwsSolutions-L1',
        `${why} CDK pins the provider's Python runtime to the one its bundled AWS CLI layer supports; it cannot be changed from outside.`,
      ],
      [
        provider,
        'Serverless-LambdaDLQ',
        `${why} a failed run fails the CloudFormation deployment itself, which reports the error; there is no asynchronous event to keep.`,
      ],
      [
        provider,
        'Serverless-LambdaTracing',
        `${why} a short file copy during deployments; its logs are kept, and tracing it adds nothing an operator uses.`,
      ],
      [
        provider,
        'Serverless-LambdaLatestVersion',
        `${why} CDK pins the provider's runtime to the one its AWS CLI layer supports.`,
      ],
    ];
    for (const [scope, id, reason] of acks) acknowledge(scope, id, reason);
    // CDK's grantRead of the asset source and grantReadWrite of the destination bucket.
    const destination = `Resource::${flattenReference(stack.resolve(this.bucket.bucketArn))}/*`;
    const actions: Record<string, string> = {
      'Action::s3:GetObject*': 'reads the runtime zip from the CDK asset bucket',
      'Action::s3:GetBucket*': 'reads the location of the CDK asset bucket and the artifact bucket',
      'Action::s3:List*': 'lists the destination prefix to copy the runtime into',
      'Action::s3:DeleteObject*':
        'CDK’s grantReadWrite includes deletes; nbops sets prune: false and retainOnDelete, so it never deletes',
      'Action::s3:Abort*': 'aborts its own failed multipart uploads of the runtime files',
    };
    acknowledgeRoleWildcards(role, (finding) => {
      if (actions[finding]) return `${why} ${actions[finding]}.`;
      if (finding === destination)
        return `${why} CDK grants on every object of the artifact bucket, but the provider only writes runtime/<hash>/nbops_runtime/ (destinationKeyPrefix, prune off) and only CloudFormation invokes it.`;
      if (/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.*\/\*$/.test(finding))
        return `${why} reads the runtime asset zip from the CDK bootstrap asset bucket, whose object keys are content hashes known only at deployment.`;
      return undefined;
    });
  }

  private functionEnvironment(policy: Policy): Record<string, string> {
    const stack = Stack.of(this);
    const { aws: ownAws, ...rest } = policy;
    const owned = ['accountId', 'region', 'artifactBucket', 'executionRoleArn', 'kmsKeyArn'] as const;
    const overridden = owned.filter((field) => ownAws?.[field] !== undefined);
    if (overridden.length > 0)
      Annotations.of(this).addWarningV2(
        'nbops:policy-aws-overridden',
        `policy.aws.${overridden.join(', policy.aws.')} ${overridden.length === 1 ? 'is' : 'are'} set by the stack (this deployment's account, Region, bucket, role and key); the values in the policy are ignored.`,
      );
    const size = JSON.stringify(rest).length;
    if (size > MAX_POLICY_JSON)
      throw new Error(
        `The policy is ${size} characters as JSON; the handlers receive it in NBOPS_POLICY and Lambda allows 4 KB for all environment variables. Shorten it to ${MAX_POLICY_JSON} characters (long secrets.allowlist entries are the usual cause).`,
      );
    const aws = {
      ...(ownAws?.enableNetworkIsolation !== undefined
        ? { enableNetworkIsolation: ownAws.enableNetworkIsolation }
        : {}),
      ...(ownAws?.vpc ? { vpc: ownAws.vpc } : {}),
      accountId: stack.account,
      region: stack.region,
      artifactBucket: this.bucket.bucketName,
      executionRoleArn: this.executionRole.roleArn,
      kmsKeyArn: this.key.keyArn,
    };
    return {
      NBOPS_BUCKET: this.bucket.bucketName,
      NBOPS_TABLE: this.registryTable.tableName,
      NBOPS_IDEMPOTENCY_TABLE: this.idempotencyTable.tableName,
      NBOPS_EVENT_BUS: this.eventBus.eventBusName,
      NBOPS_PAGE_TOPIC_ARN: this.pageTopic.topicArn,
      NBOPS_TICKET_TOPIC_ARN: this.ticketTopic.topicArn,
      NBOPS_RUNTIME_HASH: this.runtimeHash,
      NBOPS_POLICY: stack.toJsonString({ ...rest, aws }),
      POWERTOOLS_METRICS_NAMESPACE: 'nbops',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(this.props.alarmActions ? { NBOPS_ALARM_ACTIONS: 'true' } : {}),
    };
  }

  private addHandlerFunction(handler: HandlerName, description?: string): NbopsFunction {
    const existing = this.functions.get(handler);
    if (existing) return existing;
    const entry = join(this.root, 'functions', handler, 'index.ts');
    if (!existsSync(entry))
      throw new Error(
        `functions/${handler}/index.ts does not exist, but nbops needs the ${handler} handler (${handler === 'ops-api' ? 'opsApi is on' : 'the wiring table routes events to it'}). Add the handler, or ${handler === 'ops-api' ? 'turn opsApi off' : 'remove its routes from layers/core/wiring.ts'}.`,
      );
    const access: HandlerAccess = HANDLER_ACCESS[handler];
    const settings = this.props.functions?.[handler] ?? {};
    const reserved =
      settings.reservedConcurrency === null
        ? undefined
        : (settings.reservedConcurrency ?? access.reservedConcurrency);
    const id = `${pascal(handler)}Function`;
    const fn = new NbopsFunction(this, id, {
      handlerName: handler,
      entry,
      projectRoot: this.root,
      depsLockFilePath: join(this.root, 'package-lock.json'),
      description: description ?? `nbops ${handler}: ${routeSummary(handler)}`,
      environment: { ...this.environment, POWERTOOLS_SERVICE_NAME: handler },
      key: this.key,
      logGroupName: `${this.logGroupPrefix}${handler}`,
      logRetention: logRetention(this.retention.logDays),
      memoryMB: settings.memoryMB ?? access.memoryMB,
      timeoutSeconds: settings.timeoutSeconds ?? access.timeoutSeconds,
      ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
      alarmTopic: this.ticketTopic,
    });
    this.grantAccess(fn, access);
    this.functions.set(handler, fn);
    this.platformAlarms.push(...fn.alarms);
    return fn;
  }

  private grantAccess(fn: NbopsFunction, access: HandlerAccess): void {
    const role = fn.role as Role;
    const stack = Stack.of(this);
    const indexes = REGISTRY_TABLE.globalSecondaryIndexes.map(
      (index) => `${this.registryTable.tableArn}/index/${index.indexName}`,
    );
    allow(role, {
      actions: [...REGISTRY_ACTIONS[access.registry]],
      resources: [this.registryTable.tableArn, ...indexes],
    });
    if (access.idempotency)
      allow(role, { actions: [...IDEMPOTENCY_ACTIONS], resources: [this.idempotencyTable.tableArn] });

    if (access.s3?.read?.length)
      allow(role, {
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: access.s3.read.map((pattern) => this.bucket.arnForObjects(pattern)),
        why: `The ${fn.handlerName} handler reads objects under ${access.s3.read.join(', ')} (keys name the model, version or endpoint, known only at run time: hence the wildcard within each prefix).`,
      });
    if (access.s3?.write?.length)
      allow(role, {
        actions: ['s3:PutObject'],
        resources: access.s3.write.map((pattern) => this.bucket.arnForObjects(pattern)),
        why: `The ${fn.handlerName} handler writes objects under ${access.s3.write.join(', ')} (keys name the model, version or endpoint, known only at run time: hence the wildcard within each prefix).`,
      });
    const list = access.s3?.list;
    if (list === true) allow(role, { actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] });
    else if (list?.length)
      allow(role, {
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [...list] } },
      });

    const services = ['s3', 'dynamodb', 'sqs', 'sns'].map((s) => `${s}.${stack.region}.amazonaws.com`);
    allow(role, {
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': services } },
    });
    if (access.volumeKeyGrants) {
      allow(role, {
        actions: ['kms:CreateGrant'],
        resources: [this.key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      });
      // SageMaker checks the key named in the request with the caller's credentials.
      allow(role, { actions: ['kms:DescribeKey'], resources: [this.key.keyArn] });
    }

    if (access.sagemaker)
      allow(role, {
        actions: [...access.sagemaker.actions],
        resources: access.sagemaker.resources.map((type) =>
          stack.formatArn({ service: 'sagemaker', resource: type, resourceName: '*' }),
        ),
        why: `SageMaker resource names are derived per model and version at run time (layers/core/manifest/names.ts); the ${fn.handlerName} handler's actions are limited to the ${access.sagemaker.resources.join(', ')} resource type${access.sagemaker.resources.length === 1 ? '' : 's'} in this account and Region.`,
      });
    if (access.passExecutionRole)
      allow(role, {
        actions: ['iam:PassRole'],
        resources: [this.executionRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      });
    if (access.alarms?.length)
      allow(role, {
        actions: [...access.alarms],
        resources: [this.alarmArn(`${ALARM_NAME_PREFIX}*`)],
        why: `nbops alarms are named nbops-<model>-<kind> (layers/core/alarms/names.ts) for models created at run time; the ${fn.handlerName} handler may only touch alarms with that prefix.`,
      });
    if (access.publishEvents)
      allow(role, { actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] });
    if (access.schedules) this.grantManageSchedules(fn, access.schedules);
    if (access.notify)
      allow(role, {
        actions: ['sns:Publish'],
        resources: [this.pageTopic.topicArn, this.ticketTopic.topicArn],
      });
  }

  private addRoute(route: Route): void {
    const fn = this.functionFor(route.handler);
    const id = `Route${pascal(route.id)}`;
    if (route.kind === 'event') this.routeTargets.set(route.id, this.addEventRule(id, route, fn));
    else this.routeTargets.set(route.id, this.addSchedule(id, route, fn));
  }

  private addEventRule(id: string, route: EventRoute, fn: NbopsFunction): Rule {
    const { source, 'detail-type': detailType, ...rest } = route.pattern;
    const sources = Array.isArray(source) ? source.filter((s): s is string => typeof s === 'string') : [];
    if (sources.length === 0)
      throw new Error(`Route ${route.id} has no event source; every event route must name its source.`);
    const own = sources.every((s) => s === NBOPS_EVENT_SOURCE);
    if (!own && !sources.every((s) => s.startsWith('aws.')))
      throw new Error(
        `Route ${route.id} mixes nbops and AWS sources; nbops events arrive on the nbops bus and AWS events on the default bus, so split it into two routes.`,
      );
    return new Rule(this, id, {
      description: route.description.slice(0, 512),
      // AWS service events only reach the default bus; nbops's own events use the nbops bus.
      ...(own ? { eventBus: this.eventBus } : {}),
      eventPattern: {
        source: sources,
        ...(Array.isArray(detailType) ? { detailType: detailType as string[] } : {}),
        ...(rest as Record<string, never>),
      },
      targets: [
        new LambdaFunction(fn, {
          deadLetterQueue: this.undeliveredEvents,
          retryAttempts: 20,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }

  private addSchedule(id: string, route: ScheduleRoute, fn: NbopsFunction): CfnSchedule {
    this.allowSchedulerToInvoke(fn);
    const schedule = new CfnSchedule(this, id, {
      description: route.description.slice(0, 512),
      groupName: this.scheduleGroup.ref,
      scheduleExpression: this.props.schedules?.[route.id] ?? route.schedule,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: fn.functionArn,
        roleArn: this.schedulerRole.roleArn,
        // The tick's identity and time, so the handler can tell a retried tick from a new one.
        input: JSON.stringify(SCHEDULE_INPUT),
        retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 },
        deadLetterConfig: { arn: this.undeliveredEvents.queueArn },
      },
    });
    // The role's policy (invoke, DLQ) exists before the schedule first fires.
    schedule.node.addDependency(this.schedulerRole);
    return schedule;
  }

  private createSchedulerRole(): Role {
    const stack = Stack.of(this);
    const role = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description:
        'nbops: EventBridge Scheduler runs nbops schedules (invokes the sweeper; drift schedules put events on the nbops bus)',
    });
    // Drift schedules target the nbops bus (Scheduler's EventBridge PutEvents target), not a function.
    allow(role, { actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] });
    allow(role, { actions: ['sqs:SendMessage'], resources: [this.undeliveredEvents.queueArn] });
    allow(role, {
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` } },
    });
    return role;
  }

  private alarmArn(name: string): string {
    return Stack.of(this).formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

/** The ECR repository ARN of an image URI (globs kept); undefined when it is not an ECR image. */
export function ecrRepositoryArn(image: string): string | undefined {
  const match = /^([0-9*]+)\.dkr\.ecr\.([a-z0-9*-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?:[:@].*)?$/.exec(
    image,
  );
  if (!match) return undefined;
  const [, account, region, repository] = match;
  return `arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${repository}`;
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

function routeSummary(handler: HandlerName): string {
  const described = routes({ bucketName: 'bucket' }).filter((r) => r.handler === handler);
  return described.map((r) => r.id).join(', ') || 'no routes';
}

function logRetention(days: number): RetentionDays {
  return days as RetentionDays;
}
