/**
 * A stateful stand-in for the SageMaker control plane behind aws-sdk-client-mock: the real
 * SageMakerClient and the AwsSageMaker adapter (which checks every request against the API model)
 * run unchanged; only `send` answers from this state. Answers follow the real API: response shapes
 * are checked against the API model too, errors carry SageMaker's names and messages, ARNs
 * lower-case the resource name, Describe of a missing resource is a ValidationException.
 *
 * Tests drive what SageMaker would do on its own (a job completes, an endpoint goes InService, a
 * deployment rolls back) with the methods at the bottom.
 */
import {
  CreateEndpointCommand,
  type CreateEndpointCommandInput,
  CreateEndpointConfigCommand,
  type CreateEndpointConfigCommandInput,
  CreateModelCommand,
  type CreateModelCommandInput,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DeleteEndpointCommand,
  type DeploymentConfig,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  SageMakerClient,
  SageMakerServiceException,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
  type UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { checkResponse } from '#core/aws/api-model';

export const REGION = 'us-east-1';
const RESPONSES_IN_MODEL = new Set(['CreateTrainingJob', 'DescribeTrainingJob', 'DescribeEndpoint']);
export const ACCOUNT = '123456789012';

export function awsError(name: string, message: string, status = 400): Error {
  return new SageMakerServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
}

interface Job {
  input: CreateTrainingJobCommandInput;
  status: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  secondary: string;
  failureReason?: string;
  metrics: Record<string, number>;
  created: Date;
  ended?: Date;
  trainingSeconds?: number;
  billableSeconds?: number;
}

interface Endpoint {
  name: string;
  config: string;
  status: string;
  pending?: { config: string; start: Date; deployment?: DeploymentConfig };
  lastDeployment?: DeploymentConfig;
  failureReason?: string;
  created: Date;
  modified: Date;
}

type Clock = () => Date;

export class FakeSageMaker {
  readonly client = new SageMakerClient({
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  readonly mock = mockClient(this.client);
  readonly jobs = new Map<string, Job>();
  readonly models = new Map<string, CreateModelCommandInput & { created: Date }>();
  readonly configs = new Map<string, CreateEndpointConfigCommandInput & { created: Date }>();
  readonly endpoints = new Map<string, Endpoint>();
  /** Errors the next calls of an operation throw instead of succeeding (one each). */
  readonly failures = new Map<string, Error[]>();
  /** Simulated network and service time of each call: real control-plane calls take 100s of ms. */
  latencyMs = 0;
  /** Runs after CreateTrainingJob made the job, before its answer reaches the caller. */
  afterCreateTrainingJob?: (name: string) => Promise<void>;

  constructor(
    private readonly now: Clock,
    /** Shared, ordered log of the AWS operations that changed something. */
    private readonly log: string[],
  ) {
    const on = <I, O>(command: new (input: I) => object, operation: string, handler: (input: I) => O) =>
      (this.mock.on(command as never) as { callsFake(fn: (input: I) => Promise<O>): void }).callsFake(
        async (input: I) => {
          if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
          const injected = this.failures.get(operation)?.shift();
          if (injected) throw injected;
          const out = await handler(input);
          // The project's compact model keeps the outputs nbops reads (training job, endpoint).
          const violations = RESPONSES_IN_MODEL.has(operation)
            ? checkResponse('sagemaker', operation, out)
            : [];
          if (violations.length > 0)
            throw new Error(`fake ${operation} answered off-model: ${JSON.stringify(violations)}`);
          return { $metadata: { httpStatusCode: 200 }, ...(out as object) } as O;
        },
      );
    on(CreateTrainingJobCommand, 'CreateTrainingJob', (i: CreateTrainingJobCommandInput) =>
      this.createTrainingJob(i),
    );
    on(DescribeTrainingJobCommand, 'DescribeTrainingJob', (i: { TrainingJobName: string }) =>
      this.describeTrainingJob(i.TrainingJobName),
    );
    on(StopTrainingJobCommand, 'StopTrainingJob', (i: { TrainingJobName: string }) =>
      this.stopTrainingJob(i.TrainingJobName),
    );
    on(CreateModelCommand, 'CreateModel', (i: CreateModelCommandInput) => this.createModel(i));
    on(DescribeModelCommand, 'DescribeModel', (i: { ModelName: string }) => this.describeModel(i.ModelName));
    on(CreateEndpointConfigCommand, 'CreateEndpointConfig', (i: CreateEndpointConfigCommandInput) =>
      this.createEndpointConfig(i),
    );
    on(DescribeEndpointConfigCommand, 'DescribeEndpointConfig', (i: { EndpointConfigName: string }) =>
      this.describeEndpointConfig(i.EndpointConfigName),
    );
    on(CreateEndpointCommand, 'CreateEndpoint', (i: CreateEndpointCommandInput) => this.createEndpoint(i));
    on(UpdateEndpointCommand, 'UpdateEndpoint', (i: UpdateEndpointCommandInput) => this.updateEndpoint(i));
    on(DescribeEndpointCommand, 'DescribeEndpoint', (i: { EndpointName: string }) =>
      this.describeEndpoint(i.EndpointName),
    );
    on(DeleteEndpointCommand, 'DeleteEndpoint', (i: { EndpointName: string }) =>
      this.deleteEndpoint(i.EndpointName),
    );
  }

  arn(kind: string, name: string): string {
    return `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;
  }

  /** How many times an operation was sent (every attempt, including refused ones). */
  calls(operation: string): number {
    return this.mock.calls().filter((c) => commandName(c.args[0]) === operation).length;
  }

  /** The inputs of every call of an operation, in order. */
  inputs<T = Record<string, unknown>>(operation: string): T[] {
    return this.mock
      .calls()
      .filter((c) => commandName(c.args[0]) === operation)
      .map((c) => (c.args[0] as unknown as { input: T }).input);
  }

  failNext(operation: string, error: Error): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), error]);
  }

  // ------------------------------------------------------------------ the API

  private async createTrainingJob(input: CreateTrainingJobCommandInput) {
    const name = input.TrainingJobName!;
    if (this.jobs.has(name))
      throw awsError(
        'ResourceInUse',
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${this.arn('training-job', name)})`,
      );
    this.jobs.set(name, {
      input,
      status: 'InProgress',
      secondary: 'Starting',
      metrics: {},
      created: this.now(),
    });
    this.log.push(`CreateTrainingJob ${name}`);
    await this.afterCreateTrainingJob?.(name);
    return { TrainingJobArn: this.arn('training-job', name) };
  }

  private describeTrainingJob(name: string): Omit<DescribeTrainingJobCommandOutput, '$metadata'> {
    const job = this.jobs.get(name);
    if (!job) throw awsError('ValidationException', 'Requested resource not found.');
    const i = job.input;
    const out: Omit<DescribeTrainingJobCommandOutput, '$metadata'> = {
      TrainingJobName: name,
      TrainingJobArn: this.arn('training-job', name),
      ModelArtifacts: { S3ModelArtifacts: `${i.OutputDataConfig!.S3OutputPath}${name}/output/model.tar.gz` },
      TrainingJobStatus: job.status,
      SecondaryStatus: job.secondary as never,
      HyperParameters: i.HyperParameters,
      AlgorithmSpecification: { ...i.AlgorithmSpecification!, EnableSageMakerMetricsTimeSeries: false },
      RoleArn: i.RoleArn,
      InputDataConfig: i.InputDataConfig?.map((c) => ({
        ...c,
        CompressionType: 'None',
        RecordWrapperType: 'None',
      })),
      OutputDataConfig: { ...i.OutputDataConfig!, CompressionType: 'GZIP' },
      ResourceConfig: i.ResourceConfig,
      StoppingCondition: i.StoppingCondition!,
      CreationTime: job.created,
      TrainingStartTime: job.created,
      LastModifiedTime: job.ended ?? job.created,
      SecondaryStatusTransitions: [
        { Status: 'Starting', StartTime: job.created, StatusMessage: 'Preparing the instances for training' },
      ],
      EnableNetworkIsolation: i.EnableNetworkIsolation ?? false,
      EnableInterContainerTrafficEncryption: false,
      EnableManagedSpotTraining: i.EnableManagedSpotTraining ?? false,
      Environment: i.Environment,
    };
    if (i.CheckpointConfig) out.CheckpointConfig = i.CheckpointConfig;
    if (i.VpcConfig) out.VpcConfig = i.VpcConfig;
    if (job.failureReason) out.FailureReason = job.failureReason;
    if (job.ended) out.TrainingEndTime = job.ended;
    if (job.trainingSeconds !== undefined) out.TrainingTimeInSeconds = job.trainingSeconds;
    if (job.billableSeconds !== undefined) out.BillableTimeInSeconds = job.billableSeconds;
    if (job.status === 'Completed')
      out.FinalMetricDataList = Object.entries(job.metrics).map(([MetricName, Value]) => ({
        MetricName,
        Value,
        Timestamp: job.ended!,
      }));
    return out;
  }

  private stopTrainingJob(name: string) {
    const job = this.jobs.get(name);
    if (!job) throw awsError('ResourceNotFound', `Requested resource not found.`);
    if (job.status !== 'InProgress')
      throw awsError(
        'ValidationException',
        `The request was rejected because the training job is in status ${job.status}.`,
      );
    job.status = 'Stopping';
    job.secondary = 'Stopping';
    this.log.push(`StopTrainingJob ${name}`);
    return {};
  }

  private createModel(input: CreateModelCommandInput) {
    const name = input.ModelName!;
    if (this.models.has(name))
      throw awsError(
        'ValidationException',
        `Cannot create already existing model "${this.arn('model', name)}".`,
      );
    this.models.set(name, { ...input, created: this.now() });
    this.log.push(`CreateModel ${name}`);
    return { ModelArn: this.arn('model', name) };
  }

  private describeModel(name: string) {
    const model = this.models.get(name);
    if (!model) throw awsError('ValidationException', `Could not find model "${this.arn('model', name)}".`);
    const { created, Tags: _tags, ...rest } = model;
    return {
      ...rest,
      PrimaryContainer: { ...rest.PrimaryContainer, Mode: 'SingleModel' as const },
      CreationTime: created,
      ModelArn: this.arn('model', name),
      EnableNetworkIsolation: rest.EnableNetworkIsolation ?? false,
    };
  }

  private createEndpointConfig(input: CreateEndpointConfigCommandInput) {
    const name = input.EndpointConfigName!;
    if (this.configs.has(name))
      throw awsError(
        'ValidationException',
        `Cannot create already existing endpoint configuration "${this.arn('endpoint-config', name)}".`,
      );
    for (const variant of input.ProductionVariants ?? [])
      if (!this.models.has(variant.ModelName!))
        throw awsError(
          'ValidationException',
          `Could not find model "${this.arn('model', variant.ModelName!)}".`,
        );
    this.configs.set(name, { ...input, created: this.now() });
    this.log.push(`CreateEndpointConfig ${name}`);
    return { EndpointConfigArn: this.arn('endpoint-config', name) };
  }

  private describeEndpointConfig(name: string) {
    const config = this.configs.get(name);
    if (!config)
      throw awsError(
        'ValidationException',
        `Could not find endpoint configuration "${this.arn('endpoint-config', name)}".`,
      );
    const { created, Tags: _tags, ...rest } = config;
    return { ...rest, EndpointConfigArn: this.arn('endpoint-config', name), CreationTime: created };
  }

  private requireConfig(name: string) {
    if (!this.configs.has(name))
      throw awsError(
        'ValidationException',
        `Could not find endpoint configuration "${this.arn('endpoint-config', name)}".`,
      );
  }

  private createEndpoint(input: CreateEndpointCommandInput) {
    const name = input.EndpointName!;
    if (this.endpoints.has(name))
      throw awsError(
        'ValidationException',
        `Cannot create already existing endpoint "${this.arn('endpoint', name)}".`,
      );
    this.requireConfig(input.EndpointConfigName!);
    const now = this.now();
    this.endpoints.set(name, {
      name,
      config: input.EndpointConfigName!,
      status: 'Creating',
      created: now,
      modified: now,
    });
    this.log.push(`CreateEndpoint ${name} ${input.EndpointConfigName}`);
    return { EndpointArn: this.arn('endpoint', name) };
  }

  private updateEndpoint(input: UpdateEndpointCommandInput) {
    const endpoint = this.endpoint(input.EndpointName!);
    if (
      endpoint.status !== 'InService' &&
      endpoint.status !== 'OutOfService' &&
      endpoint.status !== 'UpdateRollbackFailed'
    )
      throw awsError(
        'ValidationException',
        `Cannot update in-progress endpoint "${this.arn('endpoint', endpoint.name)}".`,
      );
    this.requireConfig(input.EndpointConfigName!);
    endpoint.status = 'Updating';
    endpoint.pending = {
      config: input.EndpointConfigName!,
      start: this.now(),
      ...(input.DeploymentConfig ? { deployment: input.DeploymentConfig } : {}),
    };
    endpoint.modified = this.now();
    this.log.push(`UpdateEndpoint ${endpoint.name} ${input.EndpointConfigName}`);
    return { EndpointArn: this.arn('endpoint', endpoint.name) };
  }

  private endpoint(name: string): Endpoint {
    const endpoint = this.endpoints.get(name);
    if (!endpoint)
      throw awsError('ValidationException', `Could not find endpoint "${this.arn('endpoint', name)}".`);
    return endpoint;
  }

  describeEndpoint(name: string): Omit<DescribeEndpointCommandOutput, '$metadata'> {
    const endpoint = this.endpoint(name);
    const config = this.configs.get(endpoint.config);
    const variant = config?.ProductionVariants?.[0];
    const count = variant?.InitialInstanceCount ?? 1;
    const out: Omit<DescribeEndpointCommandOutput, '$metadata'> = {
      EndpointName: name,
      EndpointArn: this.arn('endpoint', name),
      EndpointConfigName: endpoint.config,
      ProductionVariants: [
        {
          VariantName: variant?.VariantName ?? 'AllTraffic',
          CurrentWeight: 1,
          DesiredWeight: 1,
          CurrentInstanceCount: count,
          DesiredInstanceCount: count,
        },
      ],
      EndpointStatus: endpoint.status as never,
      CreationTime: endpoint.created,
      LastModifiedTime: endpoint.modified,
    };
    if (config?.DataCaptureConfig)
      out.DataCaptureConfig = {
        EnableCapture: true,
        CaptureStatus: 'Started',
        CurrentSamplingPercentage: config.DataCaptureConfig.InitialSamplingPercentage,
        DestinationS3Uri: config.DataCaptureConfig.DestinationS3Uri,
        // Required in the summary by the API model; assumed empty without a customer key.
        KmsKeyId: config.DataCaptureConfig.KmsKeyId ?? '',
      } as NonNullable<DescribeEndpointCommandOutput['DataCaptureConfig']>;
    if (endpoint.failureReason) out.FailureReason = endpoint.failureReason;
    if (endpoint.lastDeployment) out.LastDeploymentConfig = endpoint.lastDeployment;
    if (endpoint.pending)
      out.PendingDeploymentSummary = {
        EndpointConfigName: endpoint.pending.config,
        StartTime: endpoint.pending.start,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            CurrentInstanceCount: 1,
            DesiredInstanceCount: count,
            VariantStatus: [
              {
                Status: 'Baking',
                StatusMessage:
                  'Baking for 300 seconds (TerminationWaitInSeconds) with traffic enabled on canary capacity of 1 instance(s).',
                StartTime: endpoint.pending.start,
              },
            ],
          },
        ],
      };
    return out;
  }

  private deleteEndpoint(name: string) {
    const endpoint = this.endpoint(name);
    endpoint.status = 'Deleting';
    this.log.push(`DeleteEndpoint ${name}`);
    return {};
  }

  // ------------------------------------------------------------------ what SageMaker does by itself

  completeJob(name: string, metrics: Record<string, number>, times = { training: 900, billable: 360 }): void {
    const job = this.mustJob(name);
    Object.assign(job, {
      status: 'Completed',
      secondary: 'Completed',
      metrics,
      ended: this.now(),
      trainingSeconds: times.training,
      billableSeconds: times.billable,
    });
  }

  failJob(name: string, status: 'Failed' | 'Stopped', secondary: string, failureReason?: string): void {
    const job = this.mustJob(name);
    Object.assign(job, { status, secondary, ended: this.now(), trainingSeconds: 120, billableSeconds: 120 });
    if (failureReason) job.failureReason = failureReason;
  }

  private mustJob(name: string): Job {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no training job ${name}`);
    return job;
  }

  /** The endpoint finishes what it is doing: a create or an update succeeds. */
  finishEndpoint(name: string): void {
    const endpoint = this.endpoint(name);
    if (endpoint.pending) {
      endpoint.config = endpoint.pending.config;
      if (endpoint.pending.deployment) endpoint.lastDeployment = endpoint.pending.deployment;
      delete endpoint.pending;
    }
    endpoint.status = 'InService';
    endpoint.modified = this.now();
  }

  /** An AutoRollbackConfiguration alarm fired during the update: back to the old config. */
  rollBack(name: string): void {
    const endpoint = this.endpoint(name);
    if (endpoint.pending?.deployment) endpoint.lastDeployment = endpoint.pending.deployment;
    delete endpoint.pending;
    endpoint.status = 'InService';
    endpoint.modified = this.now();
  }

  failEndpoint(name: string, status: 'Failed' | 'UpdateRollbackFailed', reason: string): void {
    const endpoint = this.endpoint(name);
    endpoint.status = status;
    endpoint.failureReason = reason;
    endpoint.modified = this.now();
  }

  /** Deletion finished: the endpoint is gone. */
  finishDelete(name: string): void {
    this.endpoints.delete(name);
  }
}

function commandName(command: unknown): string {
  return (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
}
