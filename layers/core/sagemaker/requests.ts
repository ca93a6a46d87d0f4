/**
 * The SageMaker requests nbops sends for a version: CreateTrainingJob, CreateModel,
 * CreateEndpointConfig, CreateEndpoint (first deployment) and UpdateEndpoint (blue/green with
 * automatic rollback). Pure: everything comes from the BuildContext, nothing is read or sent.
 *
 * Names are deterministic (layers/core/manifest/names.ts), so a retried create after a lost
 * response finds the resource it already made. Every builder checks its output against the AWS
 * API model before returning, so a bad manifest fails here with a field path, not in AWS.
 */
import type {
  CreateEndpointCommandInput,
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  CreateTrainingJobCommandInput,
  DataCaptureConfig,
  ProductionVariantInstanceType,
  TrainingInstanceType,
  UpdateEndpointCommandInput,
  VpcConfig,
} from '@aws-sdk/client-sagemaker';
import { assertValidRequest } from '#core/aws/api-model';
import { PREFIXES, runtimePrefix, s3Uri, versionKeys } from '#core/layout';
import { formatDuration, parseDuration } from '#core/manifest/duration';
import {
  encodeHyperParameter,
  MAX_HYPERPARAMETER_VALUE_LENGTH,
  MAX_HYPERPARAMETERS,
  MAX_TRAINING_RUNTIME_SECONDS,
  RESERVED_PARAMETER_PREFIXES,
} from '#core/manifest/limits';
import { metricDefinitions } from '#core/manifest/metrics';
import {
  endpointConfigName,
  endpointName,
  modelName,
  trainingJobName,
  variantName,
} from '#core/manifest/names';
import type { ResolvedManifest } from '#core/manifest/schema';
import {
  type AwsTarget,
  awsTarget,
  type BuildContext,
  BuildError,
  type BuildOptions,
  canonicalJson,
  resourceTags,
  sha256Hex,
} from './context';

export type { BuildOptions } from './context';

import { deploymentConfig } from './deployment';
import { usesInstanceStorage } from './instance-storage';

/** The runtime arrives as this input channel; PYTHONPATH points at its mount. */
export const RUNTIME_CHANNEL = 'nbops-runtime';
export const NOTEBOOK_CHANNEL = 'notebook';
export const RUNTIME_MOUNT = `/opt/ml/input/data/${RUNTIME_CHANNEL}`;
export const RUNNER_ENTRYPOINT = ['python3', '-m', 'nbops_runtime.runner'];
export const CHECKPOINT_LOCAL_PATH = '/opt/ml/checkpoints';
/** SageMaker framework containers load inference.py (model_fn, input_fn, predict_fn, output_fn) from here. */
export const INFERENCE_PROGRAM = 'inference.py';
export const INFERENCE_SUBMIT_DIRECTORY = '/opt/ml/model/code';

/** SageMaker caps a training job's Environment at 100 entries of 512-character keys and values. */
const MAX_TRAINING_ENVIRONMENT = 100;
const MAX_TRAINING_ENVIRONMENT_VALUE = 512;
const ENVIRONMENT_KEY = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checked<T>(operation: string, input: T, options: BuildOptions | undefined): T {
  return options?.check === false ? input : assertValidRequest('sagemaker', operation, input);
}

function seconds(field: string, value: number | string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new BuildError(field, `${(err as Error).message}.`, 'use a duration such as 90s, 30m, 2h or 1d.');
  }
}

function vpcConfig(target: AwsTarget): VpcConfig | undefined {
  return target.vpc
    ? { SecurityGroupIds: target.vpc.securityGroupIds, Subnets: target.vpc.subnets }
    : undefined;
}

/** Network settings from policy.aws, spread into training jobs and models. */
function networkSettings(target: AwsTarget): { VpcConfig?: VpcConfig; EnableNetworkIsolation?: boolean } {
  const vpc = vpcConfig(target);
  return {
    ...(vpc ? { VpcConfig: vpc } : {}),
    ...(target.enableNetworkIsolation !== undefined
      ? { EnableNetworkIsolation: target.enableNetworkIsolation }
      : {}),
  };
}

/** S3OutputPath of the version's training job (a prefix ending in `/`). */
export function trainingOutputUri(ctx: BuildContext): string {
  return s3Uri(awsTarget(ctx.policy).artifactBucket, versionKeys.trainingOutput(ctx.model, ctx.version));
}

/**
 * Where SageMaker puts the model of a training job: `<S3OutputPath>/<job>/output/model.tar.gz`
 * (S3OutputPath already ends in `/`).
 */
export function modelArtifactUri(s3OutputPath: string, jobName: string): string {
  const base = s3OutputPath.endsWith('/') ? s3OutputPath : `${s3OutputPath}/`;
  return `${base}${jobName}/output/model.tar.gz`;
}

/** The artifact URI the version's training job will produce (DescribeTrainingJob gives the real one). */
export function expectedArtifactUri(ctx: BuildContext): string {
  return modelArtifactUri(
    trainingOutputUri(ctx),
    trainingJobName(ctx.model, ctx.version, ctx.notebook.sha256),
  );
}

/**
 * JSON.stringify leaves U+0085, U+2028 and U+2029 unescaped, but the API model's `.*` pattern for
 * HyperParameter values does not match line separators. In JSON they can only occur inside
 * strings, where `\uXXXX` decodes to the same character, so escaping them keeps the value.
 */
function escapeLineSeparators(json: string): string {
  return json.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function hyperParameters(ctx: BuildContext): Record<string, string> {
  const m = ctx.manifest;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.parameters)) {
    if (value === undefined) continue;
    const reserved = RESERVED_PARAMETER_PREFIXES.find((prefix) => name.startsWith(prefix));
    if (reserved)
      throw new BuildError(
        `parameters.${name}`,
        `the prefix "${reserved}" is reserved for nbops and the SageMaker training toolkit.`,
        `rename the parameter in the manifest and the parameters cell.`,
      );
    const encoded = escapeLineSeparators(encodeHyperParameter(value));
    if (encoded.length > MAX_HYPERPARAMETER_VALUE_LENGTH)
      throw new BuildError(
        `parameters.${name}`,
        `the value is ${encoded.length} characters once JSON-encoded; SageMaker HyperParameters values are limited to ${MAX_HYPERPARAMETER_VALUE_LENGTH}.`,
        'shorten the value, or read long values from a data channel instead.',
      );
    out[name] = encoded;
  }
  out.nbops_model = encodeHyperParameter(ctx.model);
  out.nbops_version = encodeHyperParameter(ctx.version);
  if (m.training.cellTimeout !== undefined)
    out.nbops_cell_timeout = encodeHyperParameter(seconds('training.cellTimeout', m.training.cellTimeout));
  const count = Object.keys(out).length;
  if (count > MAX_HYPERPARAMETERS)
    throw new BuildError(
      'parameters',
      `${count} HyperParameters (the manifest's parameters plus nbops's own) exceed SageMaker's limit of ${MAX_HYPERPARAMETERS}.`,
      `declare at most ${MAX_HYPERPARAMETERS - (count - Object.keys(m.parameters).length)} parameters.`,
    );
  return out;
}

function trainingEnvironment(ctx: BuildContext): Record<string, string> {
  const user = ctx.manifest.training.environment;
  // The runtime's mount comes first on PYTHONPATH; a user PYTHONPATH is kept after it.
  const pythonPath = user.PYTHONPATH ? `${RUNTIME_MOUNT}:${user.PYTHONPATH}` : RUNTIME_MOUNT;
  const env: Record<string, string> = {
    ...user,
    NBOPS_NOTEBOOK: ctx.notebook.file,
    PYTHONPATH: pythonPath,
    NBOPS_MODEL: ctx.model,
    NBOPS_VERSION: String(ctx.version),
  };
  const entries = Object.entries(env);
  if (entries.length > MAX_TRAINING_ENVIRONMENT)
    throw new BuildError(
      'training.environment',
      `${entries.length} environment variables (the manifest's plus nbops's NBOPS_* and PYTHONPATH) exceed SageMaker's limit of ${MAX_TRAINING_ENVIRONMENT}.`,
      `set at most ${MAX_TRAINING_ENVIRONMENT - 4} variables in training.environment.`,
    );
  for (const [key, value] of entries) {
    const field = key in user ? `training.environment.${key}` : `notebook file name (${key})`;
    if (!ENVIRONMENT_KEY.test(key) || key.length > MAX_TRAINING_ENVIRONMENT_VALUE)
      throw new BuildError(
        field,
        'environment variable names are letters, digits and _, not starting with a digit, at most 512 characters.',
        'rename the variable.',
      );
    if (value.length > MAX_TRAINING_ENVIRONMENT_VALUE)
      throw new BuildError(
        field,
        `the value is ${value.length} characters; SageMaker allows ${MAX_TRAINING_ENVIRONMENT_VALUE}.`,
        key === 'NBOPS_NOTEBOOK' ? 'give the notebook a shorter file name.' : 'shorten the value.',
      );
  }
  return env;
}

function inputChannels(
  ctx: BuildContext,
  bucket: string,
): NonNullable<CreateTrainingJobCommandInput['InputDataConfig']> {
  const s3Prefix = (uri: string) => ({
    S3DataSource: {
      S3DataType: 'S3Prefix' as const,
      S3Uri: uri,
      S3DataDistributionType: 'FullyReplicated' as const,
    },
  });
  return [
    {
      ChannelName: NOTEBOOK_CHANNEL,
      DataSource: s3Prefix(s3Uri(bucket, versionKeys.notebookDir(ctx.model, ctx.version))),
    },
    { ChannelName: RUNTIME_CHANNEL, DataSource: s3Prefix(s3Uri(bucket, runtimePrefix(ctx.runtime.hash))) },
    ...ctx.manifest.data.map((ref) => ({
      ChannelName: ref.name,
      DataSource: s3Prefix(ref.uri),
      ...(ref.contentType !== undefined ? { ContentType: ref.contentType } : {}),
    })),
  ];
}

function stoppingAndSpot(
  m: ResolvedManifest,
): Pick<CreateTrainingJobCommandInput, 'StoppingCondition' | 'EnableManagedSpotTraining'> {
  const maxRuntime = seconds('training.maxRuntime', m.training.maxRuntime);
  if (maxRuntime < 1 || maxRuntime > MAX_TRAINING_RUNTIME_SECONDS)
    throw new BuildError(
      'training.maxRuntime',
      `${formatDuration(maxRuntime)} is outside SageMaker's range of 1 s to 28 days (MaxRuntimeInSeconds).`,
      'set training.maxRuntime between 1s and 28d.',
    );
  if (!m.training.spot.enabled) return { StoppingCondition: { MaxRuntimeInSeconds: maxRuntime } };
  const maxWait =
    m.training.spot.maxWait === undefined
      ? 2 * maxRuntime
      : seconds('training.spot.maxWait', m.training.spot.maxWait);
  if (maxWait < maxRuntime)
    throw new BuildError(
      'training.spot.maxWait',
      `${formatDuration(maxWait)} is shorter than training.maxRuntime (${formatDuration(maxRuntime)}); SageMaker requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds.`,
      `set training.spot.maxWait to at least ${formatDuration(maxRuntime)}.`,
    );
  return {
    StoppingCondition: { MaxRuntimeInSeconds: maxRuntime, MaxWaitTimeInSeconds: maxWait },
    EnableManagedSpotTraining: true,
  };
}

/**
 * CreateTrainingJob: the notebook runs headless through the nbops runtime (`python3 -m
 * nbops_runtime.runner`) in the manifest's training image. Spot fields appear only with spot;
 * CheckpointConfig appears with spot or with training.checkpoints.enabled (both need /opt/ml/checkpoints
 * synced to S3). VolumeKmsKeyId is sent only for EBS-backed instance types (see instance-storage.ts).
 */
export function buildCreateTrainingJob(
  ctx: BuildContext,
  options?: BuildOptions,
): CreateTrainingJobCommandInput {
  const m = ctx.manifest;
  const target = awsTarget(ctx.policy);
  const bucket = target.artifactBucket;
  const instanceType = m.training.instanceType;
  const spot = stoppingAndSpot(m);
  const input: CreateTrainingJobCommandInput = {
    TrainingJobName: trainingJobName(ctx.model, ctx.version, ctx.notebook.sha256),
    RoleArn: target.executionRoleArn,
    AlgorithmSpecification: {
      TrainingImage: m.training.image,
      TrainingInputMode: 'File',
      MetricDefinitions: metricDefinitions(m.metrics.map((metric) => metric.name)),
      ContainerEntrypoint: [...RUNNER_ENTRYPOINT],
    },
    HyperParameters: hyperParameters(ctx),
    InputDataConfig: inputChannels(ctx, bucket),
    OutputDataConfig: {
      S3OutputPath: trainingOutputUri(ctx),
      ...(target.kmsKeyArn !== undefined ? { KmsKeyId: target.kmsKeyArn } : {}),
    },
    ResourceConfig: {
      InstanceType: instanceType as TrainingInstanceType,
      InstanceCount: m.training.instanceCount,
      VolumeSizeInGB: m.training.volumeSizeGB,
      ...(target.kmsKeyArn !== undefined && !usesInstanceStorage(instanceType)
        ? { VolumeKmsKeyId: target.kmsKeyArn }
        : {}),
    },
    ...spot,
    ...(m.training.spot.enabled || m.training.checkpoints.enabled
      ? {
          CheckpointConfig: {
            S3Uri: s3Uri(bucket, versionKeys.checkpoints(ctx.model, ctx.version)),
            LocalPath: CHECKPOINT_LOCAL_PATH,
          },
        }
      : {}),
    Environment: trainingEnvironment(ctx),
    Tags: resourceTags(ctx, { version: true }),
    ...networkSettings(target),
  };
  return checked('CreateTrainingJob', input, options);
}

function servingOf(ctx: BuildContext): NonNullable<ResolvedManifest['serving']> {
  const serving = ctx.manifest.serving;
  if (!serving)
    throw new BuildError(
      'serving',
      'the manifest has no serving section, so there is nothing to deploy.',
      'add serving (image, instanceType) to the manifest.',
    );
  return serving;
}

/**
 * CreateModel: the serving image with the trained artifact. SAGEMAKER_PROGRAM and
 * SAGEMAKER_SUBMIT_DIRECTORY tell the SageMaker framework containers to load inference.py
 * (model_fn / input_fn / predict_fn / output_fn) from the code/ folder of model.tar.gz.
 */
export function buildCreateModel(
  ctx: BuildContext,
  artifact: { artifactUri: string },
  options?: BuildOptions,
): CreateModelCommandInput {
  const serving = servingOf(ctx);
  const target = awsTarget(ctx.policy);
  const input: CreateModelCommandInput = {
    ModelName: modelName(ctx.model, ctx.version),
    PrimaryContainer: {
      Image: serving.image,
      ModelDataUrl: artifact.artifactUri,
      Environment: {
        ...serving.environment,
        SAGEMAKER_PROGRAM: INFERENCE_PROGRAM,
        SAGEMAKER_SUBMIT_DIRECTORY: INFERENCE_SUBMIT_DIRECTORY,
      },
    },
    ExecutionRoleArn: target.executionRoleArn,
    Tags: resourceTags(ctx, { version: true }),
    ...networkSettings(target),
  };
  return checked('CreateModel', input, options);
}

/** DestinationS3Uri of data capture: SageMaker appends `/<endpoint>/<variant>/yyyy/mm/dd/hh/`. */
export function captureDestinationUri(bucket: string): string {
  return s3Uri(bucket, PREFIXES.capture.replace(/\/$/, ''));
}

/** The endpoint config's content: everything but its name and tags (what its name hashes). */
function endpointConfigBody(ctx: BuildContext): Omit<CreateEndpointConfigCommandInput, 'EndpointConfigName'> {
  const serving = servingOf(ctx);
  const target = awsTarget(ctx.policy);
  const body: Omit<CreateEndpointConfigCommandInput, 'EndpointConfigName'> = {
    ProductionVariants: [
      {
        VariantName: variantName(),
        ModelName: modelName(ctx.model, ctx.version),
        InstanceType: serving.instanceType as ProductionVariantInstanceType,
        InitialInstanceCount: serving.instanceCount,
        InitialVariantWeight: 1,
      },
    ],
  };
  if (serving.dataCapture.enabled) {
    const capture: DataCaptureConfig = {
      EnableCapture: true,
      InitialSamplingPercentage: serving.dataCapture.samplingPercent,
      DestinationS3Uri: captureDestinationUri(target.artifactBucket),
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      // Listed content types are captured as text; anything else would be base64.
      CaptureContentTypeHeader: { CsvContentTypes: ['text/csv'], JsonContentTypes: ['application/json'] },
    };
    if (target.kmsKeyArn !== undefined) capture.KmsKeyId = target.kmsKeyArn;
    body.DataCaptureConfig = capture;
  }
  // The endpoint config's KmsKeyId encrypts the instances' storage volume: not allowed on local NVMe.
  if (target.kmsKeyArn !== undefined && !usesInstanceStorage(serving.instanceType))
    body.KmsKeyId = target.kmsKeyArn;
  return body;
}

/**
 * CreateEndpointConfig, named `<model>-v<n>-<hash8 of its content>`: a retried create is a no-op,
 * and a redeploy whose settings changed (instance count, capture, key) gets a new config, as every
 * UpdateEndpoint needs.
 */
export function buildCreateEndpointConfig(
  ctx: BuildContext,
  options?: BuildOptions,
): CreateEndpointConfigCommandInput {
  const body = endpointConfigBody(ctx);
  const input: CreateEndpointConfigCommandInput = {
    EndpointConfigName: endpointConfigName(ctx.model, ctx.version, sha256Hex(canonicalJson(body))),
    ...body,
    Tags: resourceTags(ctx, { version: true }),
  };
  return checked('CreateEndpointConfig', input, options);
}

/**
 * CreateEndpoint for the first deployment. The endpoint name is the model name, stable across
 * versions; its tags carry no version because later versions replace its config.
 */
export function buildCreateEndpoint(
  ctx: BuildContext,
  configName: string,
  options?: BuildOptions,
): CreateEndpointCommandInput {
  servingOf(ctx);
  const input: CreateEndpointCommandInput = {
    EndpointName: endpointName(ctx.model),
    EndpointConfigName: configName,
    Tags: resourceTags(ctx, { version: false }),
  };
  return checked('CreateEndpoint', input, options);
}

/**
 * UpdateEndpoint to a new version: blue/green traffic shifting from deployment.strategy, rolled
 * back automatically when one of `rollbackAlarmNames` (1-10) fires during the deployment.
 */
export function buildUpdateEndpoint(
  ctx: BuildContext,
  configName: string,
  rollbackAlarmNames: readonly string[],
  options?: BuildOptions,
): UpdateEndpointCommandInput {
  servingOf(ctx);
  const input: UpdateEndpointCommandInput = {
    EndpointName: endpointName(ctx.model),
    EndpointConfigName: configName,
    DeploymentConfig: deploymentConfig(ctx.manifest, rollbackAlarmNames),
  };
  return checked('UpdateEndpoint', input, options);
}
