import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesShape } from '#core/aws/api-model';
import {
  endpointConfigName,
  endpointName,
  MAX_MODEL_NAME_LENGTH,
  MAX_VERSION,
  modelName,
  trainingJobName,
  variantName,
} from '#core/manifest/names';
import manifestSchema from '../../../schemas/manifest.schema.json' with { type: 'json' };

const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
/** Random names matching the manifest's model.name pattern and length. */
const modelNames = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/), fc.array(segment, { maxLength: 6 }))
  .map(([head, rest]) => [head, ...rest].join('-'))
  .filter((name) => name.length <= MAX_MODEL_NAME_LENGTH);
const versions = fc.integer({ min: 1, max: MAX_VERSION });
const hashes = fc.stringMatching(/^[0-9a-f]{64}$/);

describe('derived SageMaker names', () => {
  it('leave room for the longest suffix: the schema maxLength equals MAX_MODEL_NAME_LENGTH', () => {
    expect(MAX_MODEL_NAME_LENGTH).toBe(63 - '-v999999-'.length - 8);
    expect(manifestSchema.properties.model.properties.name.maxLength).toBe(MAX_MODEL_NAME_LENGTH);
    expect(manifestSchema.properties.model.properties.name.description).toContain(
      `at most ${MAX_MODEL_NAME_LENGTH} characters`,
    );
  });

  it('satisfy the API patterns and lengths for every valid model name, version and hash', () => {
    fc.assert(
      fc.property(modelNames, versions, hashes, (model, version, hash) => {
        expect(matchesShape('sagemaker', 'TrainingJobName', trainingJobName(model, version, hash))).toBe(
          true,
        );
        expect(matchesShape('sagemaker', 'ModelName', modelName(model, version))).toBe(true);
        expect(matchesShape('sagemaker', 'EndpointConfigName', endpointConfigName(model, version))).toBe(
          true,
        );
        expect(
          matchesShape('sagemaker', 'EndpointConfigName', endpointConfigName(model, version, hash)),
        ).toBe(true);
        expect(matchesShape('sagemaker', 'EndpointName', endpointName(model))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fit exactly at the limits', () => {
    const longest = `a${'b'.repeat(MAX_MODEL_NAME_LENGTH - 1)}`;
    const job = trainingJobName(longest, MAX_VERSION, 'F'.repeat(64));
    expect(job).toHaveLength(63);
    expect(job.endsWith(`-v${MAX_VERSION}-ffffffff`)).toBe(true);
    expect(matchesShape('sagemaker', 'TrainingJobName', job)).toBe(true);
    expect(matchesShape('sagemaker', 'VariantName', variantName())).toBe(true);
  });

  it('are deterministic and keep the endpoint stable across versions', () => {
    expect(trainingJobName('churn', 7, '1a2b3c4d5e6f')).toBe('churn-v7-1a2b3c4d');
    expect(modelName('churn', 7)).toBe('churn-v7');
    expect(endpointConfigName('churn', 7)).toBe('churn-v7');
    expect(endpointConfigName('churn', 7, 'abcdef0123')).toBe('churn-v7-abcdef01');
    expect(endpointName('churn')).toBe(endpointName('churn'));
    expect(variantName()).toBe('AllTraffic');
  });

  it('refuse inputs that would produce invalid names', () => {
    expect(() => trainingJobName('Churn', 1, 'abcdef01')).toThrow(/model name "Churn" is not valid/);
    expect(() => modelName(`a${'b'.repeat(MAX_MODEL_NAME_LENGTH)}`, 1)).toThrow(/at most 46/);
    expect(() => modelName('churn', 0)).toThrow(/version 0 is out of range/);
    expect(() => modelName('churn', MAX_VERSION + 1)).toThrow(/out of range/);
    expect(() => trainingJobName('churn', 1, 'xyz')).toThrow(/at least 8 hex digits/);
  });
});
