/**
 * NbopsFunction: the one NodejsFunction subclass every nbops handler runs in. It fixes what must be
 * the same everywhere: the newest Node runtime on arm64, an ESM bundle with the pinned AWS SDK
 * inside (no docker: esbuild from devDependencies), source maps, X-Ray, its own role and KMS-encrypted
 * log group, a KMS-encrypted TLS-only queue for failed asynchronous invocations, and alarms on
 * errors, throttles and that queue's depth.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { HandlerName } from '#core/wiring';
import { acknowledge, allow } from './nag';

/** The newest Node.js runtime aws-cdk-lib 2.276 knows (cdk-nag AwsSolutions-L1 wants the newest). */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;
/** esbuild's target for that runtime. */
export const NODE_TARGET = 'node24';

/**
 * ESM bundles still meet CommonJS dependencies that call `require` (parts of the AWS SDK,
 * Powertools): give them one, built for the bundle's own location.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __nbopsCreateRequire } from 'node:module'; const require = __nbopsCreateRequire(import.meta.url);";

/**
 * The esbuild settings of every handler bundle, in esbuild's own terms: NbopsFunction passes them
 * to NodejsFunction and bench/lambda.ts builds with them directly, so the bench measures what deploys.
 */
export const BUNDLE_SETTINGS = {
  platform: 'node',
  format: 'esm',
  target: NODE_TARGET,
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  // Prefer the ESM builds of dependencies: smaller bundles once tree-shaken.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // Nothing external: the SDK version in package-lock.json is the one that runs.
  external: [] as string[],
} as const;

export interface NbopsFunctionProps {
  /** Which handler: the code is functions/<handlerName>/index.ts (exporting `handler`). */
  handlerName: HandlerName;
  entry: string;
  projectRoot: string;
  depsLockFilePath: string;
  description: string;
  environment: Record<string, string>;
  /** Encrypts the log group and the failed-invocation queue. */
  key: IKey;
  /** Name of the function's log group (the key policy lets CloudWatch Logs use the key for these names). */
  logGroupName: string;
  logRetention: RetentionDays;
  memoryMB: number;
  timeoutSeconds: number;
  reservedConcurrency?: number;
  /** Where the function's alarms notify. */
  alarmTopic?: ITopic;
}

export class NbopsFunction extends NodejsFunction {
  readonly handlerName: HandlerName;
  /** Failed asynchronous invocations (after Lambda's retries) land here, with the error. */
  readonly failureQueue: Queue;
  readonly logGroupRef: LogGroup;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: NbopsFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `nbops ${props.handlerName} handler`,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: props.depsLockFilePath,
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMB,
      timeout: Duration.seconds(props.timeoutSeconds),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      awsSdkConnectionReuse: false,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_SETTINGS.target,
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: BUNDLE_SETTINGS.sourcemap,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: BUNDLE_SETTINGS.sourcesContent,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        banner: BUNDLE_SETTINGS.banner,
        bundleAwsSDK: true,
        externalModules: [...BUNDLE_SETTINGS.external],
      },
    });
    this.handlerName = props.handlerName;
    this.logGroupRef = logGroup;

    allow(role, {
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    });
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*".',
    );

    this.failureQueue = new Queue(scope, `${id}Failures`, {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.failureQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter destination of the function’s failed asynchronous invocations; a DLQ of a DLQ would only move the same records.',
    );
    acknowledge(
      this.failureQueue,
      'Serverless-SQSRedrivePolicy',
      'Terminal dead-letter queue for failed invocations: nothing consumes it automatically, operators inspect and redrive by hand (docs/deploy.md), so there is nothing to redrive it to.',
    );
    // An on-failure destination rather than a DeadLetterConfig: its records carry the error and
    // the request context, and configuring both would deliver every failure twice.
    this.configureAsyncInvoke({
      onFailure: { bind: () => ({ destination: this.failureQueue.queueArn }) },
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    allow(role, { actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] });
    allow(role, {
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [props.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
    });
    acknowledge(
      this,
      'Serverless-LambdaDLQ',
      'Failed asynchronous invocations go to an on-failure destination (an SQS queue, alarmed on depth), which carries the error and request context; a DeadLetterConfig as well would deliver every failure twice.',
    );

    this.alarms = this.createAlarms(props.alarmTopic);
  }

  private createAlarms(topic: ITopic | undefined): Alarm[] {
    const period = Duration.minutes(5);
    const name = this.handlerName;
    const alarms = [
      new Alarm(this, 'ErrorsAlarm', {
        metric: this.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `nbops ${name} handler: invocations failed in the last 5 minutes. Read its logs; failed events land in its failure queue after retries (docs/deploy.md, "When something fails").`,
      }),
      new Alarm(this, 'ThrottlesAlarm', {
        metric: this.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `nbops ${name} handler: invocations were throttled (account concurrency or reserved concurrency reached).`,
      }),
      new Alarm(this, 'FailureQueueAlarm', {
        metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `nbops ${name} handler: events failed after all retries and wait in its failure queue. Fix the cause, then redrive them (docs/deploy.md, "When something fails").`,
      }),
    ];
    if (topic) for (const alarm of alarms) alarm.addAlarmAction(new SnsAction(topic));
    return alarms;
  }
}
