/**
 * SageMaker resource names nbops derives from the model name. They are deterministic, so a retried
 * create after a lost response is a no-op instead of a duplicate, and every one satisfies the API
 * model's pattern and length (checked in test/unit/manifest/names.test.ts).
 */
import { shapeConstraints } from '#core/aws/api-model';

/** Highest version number the derived names leave room for. */
export const MAX_VERSION = 999_999;
/** Characters of the content hash kept in names (enough to tell re-submissions apart). */
export const NAME_HASH_LENGTH = 8;

const LONGEST_SUFFIX = `-v${MAX_VERSION}-${'0'.repeat(NAME_HASH_LENGTH)}`;
const NAME_SHAPES = ['TrainingJobName', 'ModelName', 'EndpointConfigName', 'EndpointName'] as const;

/**
 * Longest model name whose derived names all fit: the tightest SageMaker name limit (63) minus
 * the longest suffix nbops appends (`-v999999-` + 8 hash characters). The manifest schema's
 * model.name maxLength must equal it (a unit test checks).
 */
export const MAX_MODEL_NAME_LENGTH =
  Math.min(...NAME_SHAPES.map((shape) => shapeConstraints('sagemaker', shape).max ?? 63)) -
  LONGEST_SUFFIX.length;

const MODEL_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function checkModel(model: string): void {
  if (!MODEL_NAME.test(model) || model.length > MAX_MODEL_NAME_LENGTH)
    throw new Error(
      `model name ${JSON.stringify(model.slice(0, 80))} is not valid: use lowercase letters, digits and single hyphens, at most ${MAX_MODEL_NAME_LENGTH} characters`,
    );
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION)
    throw new Error(`version ${version} is out of range: expected a whole number 1-${MAX_VERSION}`);
}

function hash8(contentHash: string): string {
  const hash = contentHash.toLowerCase();
  if (!/^[0-9a-f]{8,}$/.test(hash))
    throw new Error(`content hash ${JSON.stringify(contentHash.slice(0, 80))} must be at least 8 hex digits`);
  return hash.slice(0, NAME_HASH_LENGTH);
}

/** `churn-v7-1a2b3c4d`: one training job per version and notebook content. */
export function trainingJobName(model: string, version: number, contentHash: string): string {
  checkModel(model);
  checkVersion(version);
  return `${model}-v${version}-${hash8(contentHash)}`;
}

/** `churn-v7`: the SageMaker model of a version. */
export function modelName(model: string, version: number): string {
  checkModel(model);
  checkVersion(version);
  return `${model}-v${version}`;
}

/**
 * `churn-v7`, or `churn-v7-1a2b3c4d` with a hash: every UpdateEndpoint needs a new endpoint
 * config, so a redeploy of the same version (e.g. after a rollback) passes a hash of its settings.
 */
export function endpointConfigName(model: string, version: number, hash?: string): string {
  checkModel(model);
  checkVersion(version);
  return hash === undefined ? `${model}-v${version}` : `${model}-v${version}-${hash8(hash)}`;
}

/** `churn`: stable across versions, so clients never change the endpoint they call. */
export function endpointName(model: string): string {
  checkModel(model);
  return model;
}

/** The single production variant. A blue/green update must keep the variant name. */
export function variantName(): 'AllTraffic' {
  return 'AllTraffic';
}
