import { describe, expect, it } from 'vitest';
import { AwsAlarms } from '#adapters/aws/cloudwatch-alarms';
import { AwsEvents } from '#adapters/aws/eventbridge-events';
import { S3ObjectStore } from '#adapters/aws/s3-store';
import { AwsSageMaker } from '#adapters/aws/sagemaker';
import { awsServicesFromEnv, ConfigError, policyFromEnv, REQUIRED_ENV } from '#adapters/aws/services';
import { SnsNotifier } from '#adapters/aws/sns-notifier';
import { DynamoRegistry } from '#adapters/dynamodb/registry';
import { resolvePolicy } from '#core/policy/policy';

const env = {
  AWS_REGION: 'eu-west-1',
  NBOPS_BUCKET: 'nbops-artifacts',
  NBOPS_TABLE: 'nbops-registry',
  NBOPS_EVENT_BUS: 'nbops',
  NBOPS_PAGE_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:nbops-page',
  NBOPS_TICKET_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:nbops-ticket',
  NBOPS_RUNTIME_HASH: 'f'.repeat(64),
};

describe('awsServicesFromEnv', () => {
  it('builds every port on its AWS adapter, configured from the environment', () => {
    const instrumented: string[] = [];
    const services = awsServicesFromEnv(
      { ...env, NBOPS_POLICY: '{"approval":{"forceManual":true}}' },
      {
        instrument: (client) => {
          instrumented.push(client.constructor.name);
          return client;
        },
      },
    );
    expect(services.config).toEqual({
      bucket: 'nbops-artifacts',
      runtimeHash: 'f'.repeat(64),
      policy: resolvePolicy({ approval: { forceManual: true } }),
    });
    expect(services.store).toBeInstanceOf(S3ObjectStore);
    expect(services.registry).toBeInstanceOf(DynamoRegistry);
    expect(services.sagemaker).toBeInstanceOf(AwsSageMaker);
    expect(services.alarms).toBeInstanceOf(AwsAlarms);
    expect(services.events).toBeInstanceOf(AwsEvents);
    expect(services.notifier).toBeInstanceOf(SnsNotifier);
    expect(services.clock.now()).toBeInstanceOf(Date);
    expect(instrumented.sort()).toEqual(
      [
        'CloudWatchClient',
        'DynamoDBClient',
        'EventBridgeClient',
        'S3Client',
        'SNSClient',
        'SageMakerClient',
        'SchedulerClient',
      ].sort(),
    );
  });

  it('names every missing variable, and what it is for, in one startup error', () => {
    const { NBOPS_BUCKET: _b, NBOPS_TABLE: _t, ...partial } = env;
    expect(() => awsServicesFromEnv(partial)).toThrow(ConfigError);
    expect(() => awsServicesFromEnv(partial)).toThrow(
      `nbops cannot start: NBOPS_BUCKET (${REQUIRED_ENV.NBOPS_BUCKET}), NBOPS_TABLE (${REQUIRED_ENV.NBOPS_TABLE}) are not set.`,
    );
    expect(() => awsServicesFromEnv({ ...env, NBOPS_EVENT_BUS: '  ' })).toThrow('NBOPS_EVENT_BUS (');
  });
});

describe('policyFromEnv', () => {
  it('is the default policy when NBOPS_POLICY is unset or empty', () => {
    expect(policyFromEnv({})).toEqual(resolvePolicy());
    expect(policyFromEnv({ NBOPS_POLICY: ' ' })).toEqual(resolvePolicy());
  });

  it('stops with each problem of an invalid policy and its fix', () => {
    const attempt = () => policyFromEnv({ NBOPS_POLICY: '{"maxNotebookBytes": 5, "bogus": true}' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^nbops cannot start: the policy in NBOPS_POLICY is invalid:\n {2}- /);
    expect(attempt).toThrow(/bogus/);
    expect(() => policyFromEnv({ NBOPS_POLICY: '{not json' })).toThrow(
      /NBOPS_POLICY is not valid JSON: .*\. Fix the JSON syntax\./,
    );
  });
});
