import { describe, expect, it } from 'vitest';
import { RequestCheckError } from '#core/aws/api-model';
import { awsTarget, BuildError, sanitizeTagValue } from '#core/sagemaker/context';
import {
  buildCreateEndpointConfig,
  buildCreateModel,
  buildCreateTrainingJob,
  buildUpdateEndpoint,
  expectedArtifactUri,
  modelArtifactUri,
} from '#core/sagemaker/requests';
import { context } from './helpers';

const BUCKET = 'nbops-artifacts-123456789012-us-east-1';

describe('buildCreateTrainingJob', () => {
  it('runs the notebook through the runtime channel, with the layout keys', () => {
    const job = buildCreateTrainingJob(context());
    expect(job.TrainingJobName).toBe('churn-v1-c0ffee00');
    expect(job.AlgorithmSpecification?.ContainerEntrypoint).toEqual([
      'python3',
      '-m',
      'nbops_runtime.runner',
    ]);
    expect(job.AlgorithmSpecification?.TrainingInputMode).toBe('File');
    expect(job.Environment).toMatchObject({
      NBOPS_NOTEBOOK: 'churn.ipynb',
      PYTHONPATH: '/opt/ml/input/data/nbops-runtime',
      NBOPS_MODEL: 'churn',
      NBOPS_VERSION: '1',
    });
    expect(job.InputDataConfig?.map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['notebook', `s3://${BUCKET}/versions/churn/v1/notebook/`],
      ['nbops-runtime', `s3://${BUCKET}/runtime/${'beef'.repeat(16)}/`],
    ]);
    expect(job.OutputDataConfig?.S3OutputPath).toBe(`s3://${BUCKET}/versions/churn/v1/training/`);
    expect(job.CheckpointConfig).toEqual({
      S3Uri: `s3://${BUCKET}/versions/churn/v1/checkpoints/`,
      LocalPath: '/opt/ml/checkpoints',
    });
    expect(job.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 });
    expect(job.AlgorithmSpecification?.MetricDefinitions?.map((d) => d.Name)).toEqual([
      'validation:auc',
      'validation:accuracy',
      'train:loss',
    ]);
  });

  it('passes parameters JSON-encoded, plus the runner options', () => {
    const job = buildCreateTrainingJob(
      context((m) => {
        m.parameters = { epochs: 200, note: 'hi', flag: true, none: null };
        m.training.cellTimeout = '10m';
      }),
    );
    expect(job.HyperParameters).toEqual({
      epochs: '200',
      note: '"hi"',
      flag: 'true',
      none: 'null',
      nbops_model: '"churn"',
      nbops_version: '1',
      nbops_cell_timeout: '600',
    });
  });

  it('escapes line separators JSON.stringify leaves raw, so the value still matches the API pattern', () => {
    const job = buildCreateTrainingJob(context((m) => (m.parameters = { text: 'a\u2028b' })));
    expect(job.HyperParameters?.text).toBe('"a\\u2028b"');
    expect(JSON.parse(job.HyperParameters!.text!)).toBe('a\u2028b');
  });

  it('refuses a parameter value over 256 characters, naming the parameter', () => {
    const build = () => buildCreateTrainingJob(context((m) => (m.parameters = { notes: 'x'.repeat(300) })));
    expect(build).toThrow(BuildError);
    expect(build).toThrow(/parameters\.notes: the value is 302 characters/);
  });

  it('refuses more than 100 HyperParameters', () => {
    const parameters = Object.fromEntries(Array.from({ length: 99 }, (_, i) => [`p${i}`, i]));
    expect(() => buildCreateTrainingJob(context((m) => (m.parameters = parameters)))).toThrow(
      /101 HyperParameters .* exceed SageMaker's limit of 100/,
    );
  });

  it('keeps a user PYTHONPATH after the runtime mount', () => {
    const job = buildCreateTrainingJob(
      context((m) => (m.training.environment = { PYTHONPATH: '/opt/extra' })),
    );
    expect(job.Environment?.PYTHONPATH).toBe('/opt/ml/input/data/nbops-runtime:/opt/extra');
  });

  it('makes one channel per data reference, with its content type', () => {
    const job = buildCreateTrainingJob(
      context((m) => {
        m.data = [
          { name: 'train', uri: 's3://ml-data/churn/train.csv', contentType: 'text/csv' },
          { name: 'extra', uri: 's3://ml-data/churn/extra/' },
        ];
      }),
    );
    expect(job.InputDataConfig?.slice(2)).toEqual([
      {
        ChannelName: 'train',
        ContentType: 'text/csv',
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: 's3://ml-data/churn/train.csv',
            S3DataDistributionType: 'FullyReplicated',
          },
        },
      },
      {
        ChannelName: 'extra',
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: 's3://ml-data/churn/extra/',
            S3DataDistributionType: 'FullyReplicated',
          },
        },
      },
    ]);
  });

  it('sends no spot fields without spot, but keeps checkpoints when asked', () => {
    const job = buildCreateTrainingJob(context((m) => (m.training.spot = { enabled: false })));
    expect(job.EnableManagedSpotTraining).toBeUndefined();
    expect(job.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
    expect(job.CheckpointConfig).toBeDefined();
    const plain = buildCreateTrainingJob(
      context((m) => {
        m.training.spot = { enabled: false };
        m.training.checkpoints = { enabled: false };
      }),
    );
    expect(plain.CheckpointConfig).toBeUndefined();
  });

  it('defaults spot maxWait to twice maxRuntime and refuses a shorter one', () => {
    const job = buildCreateTrainingJob(context((m) => (m.training.spot = { enabled: true })));
    expect(job.StoppingCondition?.MaxWaitTimeInSeconds).toBe(7200);
    expect(() => buildCreateTrainingJob(context((m) => (m.training.spot.maxWait = '30m')))).toThrow(
      /training\.spot\.maxWait: 30m is shorter than training\.maxRuntime \(1h\)/,
    );
  });

  it('tags nbops facts and user tags, sanitising what the tag pattern forbids', () => {
    const ctx = context();
    ctx.owner = 'Team ML <ml@example.com>';
    expect(buildCreateTrainingJob(ctx).Tags).toEqual([
      { Key: 'nbops:model', Value: 'churn' },
      { Key: 'nbops:version', Value: '1' },
      { Key: 'nbops:owner', Value: 'Team ML _ml@example.com_' },
      { Key: 'team', Value: 'ml' },
      { Key: 'cost-center', Value: 'retention' },
    ]);
  });

  it('fails with the field path when the policy makes the request invalid', () => {
    const ctx = context(() => {}, { policy: { aws: { kmsKeyArn: 'my key!' } } });
    try {
      buildCreateTrainingJob(ctx);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RequestCheckError);
      expect((err as RequestCheckError).violations.map((v) => v.path)).toContain('OutputDataConfig.KmsKeyId');
    }
    // With check: false the request is returned as is (nbops plan shows every failure at once).
    expect(buildCreateTrainingJob(ctx, { check: false }).OutputDataConfig?.KmsKeyId).toBe('my key!');
  });
});

describe('buildCreateModel', () => {
  it('serves the artifact with the framework containers inference.py convention', () => {
    const ctx = context((m) => (m.serving.environment = { LOG_LEVEL: 'info' }));
    const model = buildCreateModel(ctx, { artifactUri: expectedArtifactUri(ctx) });
    expect(model).toMatchObject({
      ModelName: 'churn-v1',
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/nbops-sagemaker-execution',
      PrimaryContainer: {
        ModelDataUrl: `s3://${BUCKET}/versions/churn/v1/training/churn-v1-c0ffee00/output/model.tar.gz`,
        Environment: {
          LOG_LEVEL: 'info',
          SAGEMAKER_PROGRAM: 'inference.py',
          SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
        },
      },
    });
  });

  it('refuses a manifest without serving, saying what to add', () => {
    const ctx = context((m) => delete m.serving);
    expect(() => buildCreateModel(ctx, { artifactUri: 's3://b/m.tar.gz' })).toThrow(/serving: .*add serving/);
  });

  it('derives artifact URIs the way SageMaker writes them', () => {
    expect(modelArtifactUri('s3://b/out/', 'job-1')).toBe('s3://b/out/job-1/output/model.tar.gz');
    expect(modelArtifactUri('s3://b/out', 'job-1')).toBe('s3://b/out/job-1/output/model.tar.gz');
  });
});

describe('buildCreateEndpointConfig', () => {
  it('captures requests and responses as text under the capture prefix', () => {
    const config = buildCreateEndpointConfig(context());
    expect(config.ProductionVariants).toEqual([
      {
        VariantName: 'AllTraffic',
        ModelName: 'churn-v1',
        InstanceType: 'ml.m5.large',
        InitialInstanceCount: 2,
        InitialVariantWeight: 1,
      },
    ]);
    expect(config.DataCaptureConfig).toEqual({
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: `s3://${BUCKET}/capture`,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
    });
  });

  it('leaves data capture out when it is disabled', () => {
    const config = buildCreateEndpointConfig(context((m) => (m.serving.dataCapture = { enabled: false })));
    expect(config.DataCaptureConfig).toBeUndefined();
  });

  it('does not put a volume key on instance types with local NVMe storage', () => {
    const policy = { aws: { kmsKeyArn: 'alias/nbops' } };
    const gpu = buildCreateEndpointConfig(
      context((m) => (m.serving.instanceType = 'ml.g5.xlarge'), { policy }),
    );
    expect(gpu.KmsKeyId).toBeUndefined();
    expect(gpu.DataCaptureConfig?.KmsKeyId).toBe('alias/nbops');
  });
});

describe('buildUpdateEndpoint', () => {
  it('refuses more than 10 rollback alarms', () => {
    const names = Array.from({ length: 11 }, (_, i) => `nbops-churn-a${i}`);
    expect(() => buildUpdateEndpoint(context(), 'churn-v2-00000000', names)).toThrow(/at most 10/);
  });
});

describe('awsTarget and tags', () => {
  it('uses placeholders consistent with the account and Region it is given', () => {
    expect(awsTarget({})).toMatchObject({
      accountId: '123456789012',
      region: 'us-east-1',
      artifactBucket: 'nbops-artifacts-123456789012-us-east-1',
      executionRoleArn: 'arn:aws:iam::123456789012:role/nbops-sagemaker-execution',
      placeholders: ['accountId', 'region', 'artifactBucket', 'executionRoleArn'],
    });
    const partial = awsTarget({ aws: { accountId: '111122223333', artifactBucket: 'my-bucket' } });
    expect(partial.artifactBucket).toBe('my-bucket');
    expect(partial.executionRoleArn).toBe('arn:aws:iam::111122223333:role/nbops-sagemaker-execution');
    expect(partial.placeholders).toEqual(['region', 'executionRoleArn']);
  });

  it('cuts tag values at 256 UTF-16 units without splitting a character', () => {
    const value = sanitizeTagValue('𝒜'.repeat(200));
    expect(value.length).toBe(256);
    expect([...value].every((c) => c === '𝒜')).toBe(true);
    expect(sanitizeTagValue('a#b$c')).toBe('a_b_c');
  });
});
