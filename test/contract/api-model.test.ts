import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkRequest, enumValues, matchesShape, shapeConstraints } from '#core/aws/api-model';
import models from '../../layers/core/aws/api-models.json' with { type: 'json' };
import {
  compactModelPath,
  defaultReferenceDir,
  extract,
  toJsPattern,
} from '../../scripts/extract-aws-models.ts';

describe('compact AWS API model', () => {
  const referencePresent = existsSync(defaultReferenceDir);
  if (!referencePresent) {
    console.warn(
      `\n!!! ${defaultReferenceDir} not found: cannot check that api-models.json is current. ` +
        'Set NBOPS_AWS_MODELS_DIR to the botocore models to run this check.\n',
    );
  }

  it.runIf(referencePresent)('is current with the reference models', () => {
    expect(readFileSync(compactModelPath, 'utf8')).toBe(extract());
  });

  it('keeps only patterns that compile as anchored unicode regexes', () => {
    for (const service of Object.values(models.services) as { shapes: Record<string, unknown> }[]) {
      for (const shape of Object.values(service.shapes) as { pattern?: string }[]) {
        if (shape.pattern) expect(() => new RegExp(`^(?:${shape.pattern})$`, 'u')).not.toThrow();
      }
    }
  });

  it('translates Java-only regex escapes', () => {
    expect(toJsPattern('[a-z]+\\-[0-9a-z\\-]+')).toBe('[a-z]+-[0-9a-z\\-]+');
    expect(toJsPattern('arn:[\\p{Alnum}\\-]+:x')).toBe('arn:[A-Za-z0-9\\-]+:x');
  });

  it('exposes GPU training and inference instance types', () => {
    expect(enumValues('sagemaker', 'TrainingInstanceType')).toContain('ml.g5.xlarge');
    expect(enumValues('sagemaker', 'ProductionVariantInstanceType')).toContain('ml.g5.xlarge');
    expect(enumValues('sagemaker', 'TrainingInstanceType')).not.toContain('ml.t2.medium');
    expect(shapeConstraints('sagemaker', 'TrainingJobName').max).toBe(63);
  });
});

describe('checkRequest', () => {
  const valid = {
    TrainingJobName: 'churn-v0001-3f2a9c',
    RoleArn: 'arn:aws:iam::123456789012:role/nbops-sagemaker',
    OutputDataConfig: { S3OutputPath: 's3://bucket/models/churn/' },
    AlgorithmSpecification: {
      TrainingImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1',
      TrainingInputMode: 'File',
    },
    ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  };

  it('accepts a request the API would accept', () => {
    expect(checkRequest('sagemaker', 'CreateTrainingJob', valid)).toEqual([]);
  });

  it('names the field and the rule for each violation', () => {
    const violations = checkRequest('sagemaker', 'CreateTrainingJob', {
      ...valid,
      TrainingJobName: '-bad_name',
      ResourceConfig: { InstanceType: 'ml.g5.huge', InstanceCount: 1.5, VolumeSizeInGB: 30 },
      HyperParameters: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, 'x'])),
      Tags: [{ Key: 'owner' }],
      Unknown: true,
    });
    const byPath = Object.fromEntries(violations.map((v) => [v.path, v.rule]));
    expect(byPath).toMatchObject({
      TrainingJobName: expect.stringMatching(/^pattern/),
      'ResourceConfig.InstanceType': 'enum',
      'ResourceConfig.InstanceCount': 'type integer',
      HyperParameters: 'entries 0-100',
      'Tags[0].Value': 'required',
      Unknown: 'known member',
    });
  });

  it('reports missing required members', () => {
    // PutMetricAlarm requires only AlarmName in the current model; DeleteAlarms requires AlarmNames.
    expect(checkRequest('cloudwatch', 'PutMetricAlarm', {}).map((v) => v.path)).toEqual(['AlarmName']);
    expect(checkRequest('cloudwatch', 'DeleteAlarms', {})).toEqual([
      { path: 'AlarmNames', rule: 'required', message: 'is required' },
    ]);
  });

  it('checks names against model patterns', () => {
    expect(matchesShape('sagemaker', 'EndpointName', 'churn-prod')).toBe(true);
    expect(matchesShape('sagemaker', 'EndpointName', 'churn_prod')).toBe(false);
  });
});
