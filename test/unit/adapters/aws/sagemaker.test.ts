import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DeleteEndpointCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  SageMakerClient,
  SageMakerServiceException,
  StopTrainingJobCommand,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsSageMaker } from '#adapters/aws/sagemaker';
import { checkRequest, RequestCheckError } from '#core/aws/api-model';
import { examplePlan } from './example-plan';

const sm = mockClient(SageMakerClient);
const noWait = { retry: { sleep: async () => {}, random: () => 0 } };
const adapter = () => new AwsSageMaker(new SageMakerClient({ region: 'eu-west-1' }), noWait);

const awsError = (name: string, message: string, status = 400) =>
  new SageMakerServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });

/** Every request the mock received, as [operation, input]. */
function sent(): [string, object][] {
  return sm.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: object };
    return [command.constructor.name.replace(/Command$/, ''), command.input];
  });
}

beforeEach(() => sm.reset());

describe('AwsSageMaker', () => {
  it('sends the requests nbops builds unchanged, and every request sent satisfies the API model', async () => {
    sm.on(CreateTrainingJobCommand).resolves({
      TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:1:training-job/j',
    });
    sm.on(CreateModelCommand).resolves({ ModelArn: 'arn:aws:sagemaker:eu-west-1:1:model/m' });
    sm.on(CreateEndpointConfigCommand).resolves({
      EndpointConfigArn: 'arn:aws:sagemaker:eu-west-1:1:endpoint-config/c',
    });
    sm.on(CreateEndpointCommand).resolves({ EndpointArn: 'arn:aws:sagemaker:eu-west-1:1:endpoint/e' });
    sm.on(UpdateEndpointCommand).resolves({ EndpointArn: 'arn:aws:sagemaker:eu-west-1:1:endpoint/e' });
    const port = adapter();
    const planned = examplePlan().filter((r) => r.service === 'sagemaker');
    expect(planned.map((r) => r.operation)).toEqual(
      expect.arrayContaining([
        'CreateTrainingJob',
        'CreateModel',
        'CreateEndpointConfig',
        'CreateEndpoint',
        'UpdateEndpoint',
      ]),
    );
    const call: Record<string, (input: never) => Promise<unknown>> = {
      CreateTrainingJob: (i) => port.createTrainingJob(i),
      CreateModel: (i) => port.createModel(i),
      CreateEndpointConfig: (i) => port.createEndpointConfig(i),
      CreateEndpoint: (i) => port.createEndpoint(i),
      UpdateEndpoint: (i) => port.updateEndpoint(i),
    };
    for (const request of planned) await call[request.operation]!(request.input as never);
    await port.describeTrainingJob('churn-v1-1a2b3c4d');
    await port.describeEndpoint('churn-prod');
    await port.stopTrainingJob('churn-v1-1a2b3c4d');
    await port.deleteModel('churn-v1-1a2b3c4d');

    expect(sent().map(([op]) => op)).toEqual([
      ...planned.map((r) => r.operation),
      'DescribeTrainingJob',
      'DescribeEndpoint',
      'StopTrainingJob',
      'DeleteModel',
    ]);
    sent().forEach(([op, input], i) => {
      expect(checkRequest('sagemaker', op, input), op).toEqual([]);
      if (i < planned.length) expect(input).toEqual(planned[i]!.input);
    });
  });

  it('refuses a request that breaks the model before it reaches SageMaker, naming each field', async () => {
    const [job] = examplePlan().filter((r) => r.operation === 'CreateTrainingJob');
    const bad = {
      ...(job!.input as CreateTrainingJobCommandInput),
      TrainingJobName: 'churn_v1',
      ResourceConfig: { InstanceType: 'ml.g5.huge', InstanceCount: 1, VolumeSizeInGB: 50 },
    } as unknown as CreateTrainingJobCommandInput;
    const attempt = adapter().createTrainingJob(bad);
    await expect(attempt).rejects.toThrow(RequestCheckError);
    await expect(attempt).rejects.toThrow(/TrainingJobName: .*pattern/);
    await expect(attempt).rejects.toThrow(/ResourceConfig\.InstanceType: /);
    expect(sm.calls()).toHaveLength(0);
  });

  it('checks name-only calls too (describe, stop, delete)', async () => {
    const port = adapter();
    for (const attempt of [
      () => port.describeTrainingJob('bad name'),
      () => port.stopTrainingJob(''),
      () => port.describeModel('x'.repeat(64)),
      () => port.deleteEndpoint('-leading-dash'),
    ])
      await expect(attempt()).rejects.toThrow(RequestCheckError);
    expect(sm.calls()).toHaveLength(0);
  });

  it('answers undefined for resources that do not exist, however SageMaker says it', async () => {
    sm.on(DescribeTrainingJobCommand).rejects(
      awsError('ValidationException', 'Requested resource not found.'),
    );
    sm.on(DescribeEndpointCommand).rejects(
      awsError(
        'ValidationException',
        'Could not find endpoint "arn:aws:sagemaker:eu-west-1:1:endpoint/churn-prod".',
      ),
    );
    sm.on(DescribeModelCommand).rejects(awsError('ValidationException', 'Could not find model "churn-v1".'));
    sm.on(DescribeEndpointConfigCommand).rejects(awsError('ResourceNotFound', 'not there'));
    const port = adapter();
    expect(await port.describeTrainingJob('churn-v1')).toBeUndefined();
    expect(await port.describeEndpoint('churn-prod')).toBeUndefined();
    expect(await port.describeModel('churn-v1')).toBeUndefined();
    expect(await port.describeEndpointConfig('churn-v1')).toBeUndefined();
  });

  it('treats deleting something already gone as done, and rethrows other errors unchanged', async () => {
    sm.on(DeleteModelCommand).rejects(awsError('ValidationException', 'Could not find model "churn-v1".'));
    sm.on(DeleteEndpointCommand).rejects(
      awsError('ValidationException', 'Cannot update in-progress endpoint'),
    );
    sm.on(DescribeTrainingJobCommand).rejects(awsError('AccessDeniedException', 'not authorized', 403));
    const port = adapter();
    await expect(port.deleteModel('churn-v1')).resolves.toBeUndefined();
    await expect(port.deleteEndpoint('churn-prod')).rejects.toThrow('Cannot update in-progress endpoint');
    await expect(port.describeTrainingJob('churn-v1')).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('retries throttling with backoff, then succeeds', async () => {
    sm.on(DescribeTrainingJobCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ TrainingJobName: 'churn-v1', TrainingJobStatus: 'Completed' });
    const waits: number[] = [];
    const port = new AwsSageMaker(new SageMakerClient({ region: 'eu-west-1' }), {
      retry: { sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    });
    expect(await port.describeTrainingJob('churn-v1')).toMatchObject({ TrainingJobStatus: 'Completed' });
    expect(sm.commandCalls(DescribeTrainingJobCommand)).toHaveLength(3);
    expect(waits).toEqual([125, 250]);
  });

  it('gives up on throttling after the configured attempts and does not retry a validation error', async () => {
    sm.on(StopTrainingJobCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    sm.on(CreateModelCommand).rejects(awsError('ValidationException', 'Could not access model data'));
    const port = new AwsSageMaker(new SageMakerClient({ region: 'eu-west-1' }), {
      retry: { attempts: 3, sleep: async () => {} },
    });
    await expect(port.stopTrainingJob('churn-v1')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sm.commandCalls(StopTrainingJobCommand)).toHaveLength(3);
    await expect(port.createModel({ ModelName: 'churn-v1' })).rejects.toThrow('Could not access model data');
    expect(sm.commandCalls(CreateModelCommand)).toHaveLength(1);
  });
});
