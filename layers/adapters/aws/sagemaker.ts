/**
 * The SageMakerPort on the AWS SDK. Every request is checked against the SageMaker API model
 * before it is sent and retried on throttling (see call.ts). Describe* return undefined for a
 * resource that does not exist; Delete* of a resource that is already gone succeed, so handlers
 * can repeat them after a redelivered event.
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
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeEndpointConfigCommand,
  type DescribeEndpointConfigCommandOutput,
  DescribeModelCommand,
  type DescribeModelCommandOutput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  type SageMakerClient,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
  type UpdateEndpointCommandInput,
} from '@aws-sdk/client-sagemaker';
import type { RetryOptions } from '#core/aws/retry';
import type { SageMakerPort } from '#core/ports';
import { type AdapterOptions, checkedCall, isNotFound, retryOptions } from './call';

export class AwsSageMaker implements SageMakerPort {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: SageMakerClient,
    options: AdapterOptions = {},
  ) {
    this.retry = retryOptions(options);
  }

  private call<T>(operation: string, input: object, send: () => Promise<T>): Promise<T> {
    return checkedCall('sagemaker', operation, input, send, this.retry);
  }

  private async describe<T>(
    operation: string,
    input: object,
    send: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await this.call(operation, input, send);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async remove(operation: string, input: object, send: () => Promise<unknown>): Promise<void> {
    try {
      await this.call(operation, input, send);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async createTrainingJob(input: CreateTrainingJobCommandInput): Promise<{ TrainingJobArn: string }> {
    const out = await this.call('CreateTrainingJob', input, () =>
      this.client.send(new CreateTrainingJobCommand(input)),
    );
    return { TrainingJobArn: required(out.TrainingJobArn, 'CreateTrainingJob', 'TrainingJobArn') };
  }

  describeTrainingJob(name: string): Promise<DescribeTrainingJobCommandOutput | undefined> {
    const input = { TrainingJobName: name };
    return this.describe('DescribeTrainingJob', input, () =>
      this.client.send(new DescribeTrainingJobCommand(input)),
    );
  }

  async stopTrainingJob(name: string): Promise<void> {
    const input = { TrainingJobName: name };
    await this.call('StopTrainingJob', input, () => this.client.send(new StopTrainingJobCommand(input)));
  }

  async createModel(input: CreateModelCommandInput): Promise<{ ModelArn: string }> {
    const out = await this.call('CreateModel', input, () => this.client.send(new CreateModelCommand(input)));
    return { ModelArn: required(out.ModelArn, 'CreateModel', 'ModelArn') };
  }

  describeModel(name: string): Promise<DescribeModelCommandOutput | undefined> {
    const input = { ModelName: name };
    return this.describe('DescribeModel', input, () => this.client.send(new DescribeModelCommand(input)));
  }

  deleteModel(name: string): Promise<void> {
    const input = { ModelName: name };
    return this.remove('DeleteModel', input, () => this.client.send(new DeleteModelCommand(input)));
  }

  async createEndpointConfig(
    input: CreateEndpointConfigCommandInput,
  ): Promise<{ EndpointConfigArn: string }> {
    const out = await this.call('CreateEndpointConfig', input, () =>
      this.client.send(new CreateEndpointConfigCommand(input)),
    );
    return {
      EndpointConfigArn: required(out.EndpointConfigArn, 'CreateEndpointConfig', 'EndpointConfigArn'),
    };
  }

  describeEndpointConfig(name: string): Promise<DescribeEndpointConfigCommandOutput | undefined> {
    const input = { EndpointConfigName: name };
    return this.describe('DescribeEndpointConfig', input, () =>
      this.client.send(new DescribeEndpointConfigCommand(input)),
    );
  }

  deleteEndpointConfig(name: string): Promise<void> {
    const input = { EndpointConfigName: name };
    return this.remove('DeleteEndpointConfig', input, () =>
      this.client.send(new DeleteEndpointConfigCommand(input)),
    );
  }

  async createEndpoint(input: CreateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    const out = await this.call('CreateEndpoint', input, () =>
      this.client.send(new CreateEndpointCommand(input)),
    );
    return { EndpointArn: required(out.EndpointArn, 'CreateEndpoint', 'EndpointArn') };
  }

  async updateEndpoint(input: UpdateEndpointCommandInput): Promise<{ EndpointArn: string }> {
    const out = await this.call('UpdateEndpoint', input, () =>
      this.client.send(new UpdateEndpointCommand(input)),
    );
    return { EndpointArn: required(out.EndpointArn, 'UpdateEndpoint', 'EndpointArn') };
  }

  describeEndpoint(name: string): Promise<DescribeEndpointCommandOutput | undefined> {
    const input = { EndpointName: name };
    return this.describe('DescribeEndpoint', input, () =>
      this.client.send(new DescribeEndpointCommand(input)),
    );
  }

  deleteEndpoint(name: string): Promise<void> {
    const input = { EndpointName: name };
    return this.remove('DeleteEndpoint', input, () => this.client.send(new DeleteEndpointCommand(input)));
  }
}

function required(value: string | undefined, operation: string, member: string): string {
  if (!value) throw new Error(`SageMaker ${operation} answered without ${member}; retry the operation.`);
  return value;
}
