/**
 * fast-check generators for valid manifests and policies, shaped the way users write them (strings
 * or seconds for durations, optional sections absent or present), within the limits the validator
 * enforces, and with instance types drawn from the AWS API model's enums.
 */
import fc from 'fast-check';
import { enumValues } from '#core/aws/api-model';
import { RESERVED_CHANNEL_NAMES } from '#core/manifest/limits';
import type { Policy } from '#core/policy/policy';

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

export const trainingInstanceTypes = enumValues('sagemaker', 'TrainingInstanceType').filter((t) =>
  /^ml\.(g|p|trn)/.test(t),
);
export const servingInstanceTypes = enumValues('sagemaker', 'ProductionVariantInstanceType');

const IMAGES = [
  '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker',
  '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/trainer@sha256:' + 'a'.repeat(64),
  '123456789012.dkr.ecr.us-west-2.amazonaws.com/x',
];

export const modelName = fc
  .stringMatching(/^[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,6}){0,3}$/)
  .filter((s) => s.length <= 46);

const parameterName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,24}$/)
  .filter((n) => !PYTHON_KEYWORDS.has(n) && !n.startsWith('nbops_') && !n.startsWith('sagemaker_'));

// At most 40 UTF-16 units: even all escaped (\uXXXX) the JSON encoding stays under 256.
const parameterValue = fc.oneof(
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

/** Seconds as a number, or the same duration written as a string. */
function duration(minSeconds: number, maxSeconds: number): fc.Arbitrary<number | string> {
  return fc
    .integer({ min: minSeconds, max: maxSeconds })
    .chain((s) =>
      fc.constantFrom<number | string>(
        s,
        `${s}s`,
        s % 60 === 0 ? `${s / 60}m` : s,
        s % 3600 === 0 ? `${s / 3600}h` : s,
      ),
    );
}

const tagText = fc.stringMatching(/^[A-Za-z0-9 _.:/=+@-]{0,40}$/);
const tagKey = fc.stringMatching(/^[A-Za-z0-9_.:/=+@-]{1,30}$/).filter((k) => !k.startsWith('aws:'));

const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);

const metricName = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,60}$/);

const dataEntry = fc.record(
  {
    name: fc
      .stringMatching(/^[A-Za-z0-9._-]{1,64}$/)
      .filter((n) => !(RESERVED_CHANNEL_NAMES as readonly string[]).includes(n)),
    uri: fc
      .tuple(
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/),
        fc.stringMatching(/^[a-z0-9/._-]{0,60}$/),
      )
      .map(([bucket, key]) => `s3://${bucket}/${key}`),
    contentType: fc.constantFrom('text/csv', 'application/json', 'application/x-parquet'),
    versionId: fc.stringMatching(/^[A-Za-z0-9._]{1,32}$/),
  },
  { requiredKeys: ['name', 'uri'] },
);

const training = fc
  .record({
    image: fc.constantFrom(...IMAGES),
    instanceType: fc.constantFrom(...trainingInstanceTypes),
    instanceCount: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    volumeSizeGB: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
    maxRuntimeSeconds: fc.integer({ min: 1, max: 28 * 86_400 }),
    spot: fc.boolean(),
    extraWait: fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }),
    checkpoints: fc.boolean(),
    environment: fc.option(fc.dictionary(envKey, fc.string({ maxLength: 60 }), { maxKeys: 6 }), {
      nil: undefined,
    }),
    cellTimeout: fc.option(duration(1, 7200), { nil: undefined }),
  })
  .map((t) => {
    const out: Record<string, unknown> = {
      image: t.image,
      instanceType: t.instanceType,
      maxRuntime: t.maxRuntimeSeconds % 3600 === 0 ? `${t.maxRuntimeSeconds / 3600}h` : t.maxRuntimeSeconds,
    };
    if (t.instanceCount !== undefined) out.instanceCount = t.instanceCount;
    if (t.volumeSizeGB !== undefined) out.volumeSizeGB = t.volumeSizeGB;
    if (t.spot) {
      out.spot =
        t.extraWait === undefined
          ? { enabled: true }
          : { enabled: true, maxWait: t.maxRuntimeSeconds + t.extraWait };
      out.checkpoints = { enabled: true };
    } else if (t.checkpoints) out.checkpoints = { enabled: true };
    if (t.environment) out.environment = t.environment;
    if (t.cellTimeout !== undefined) out.cellTimeout = t.cellTimeout;
    return out;
  });

const serving = fc.record(
  {
    image: fc.constantFrom(...IMAGES),
    instanceType: fc.constantFrom(...servingInstanceTypes),
    instanceCount: fc.integer({ min: 1, max: 10 }),
    contentType: fc.constantFrom('text/csv', 'application/json'),
    dataCapture: fc.record(
      { enabled: fc.boolean(), samplingPercent: fc.integer({ min: 0, max: 100 }) },
      { requiredKeys: [] },
    ),
    environment: fc.dictionary(envKey, fc.string({ maxLength: 60 }), { maxKeys: 6 }),
  },
  { requiredKeys: ['image', 'instanceType'] },
);

/** Deployment settings whose waits fit SageMaker's 8-hour limit (what MAN-011/MAN-012 enforce). */
const deployment = fc
  .record({
    approval: fc.constantFrom('manual', 'auto'),
    strategy: fc.constantFrom('canary', 'linear', 'all-at-once'),
    canaryPercent: fc.integer({ min: 1, max: 50 }),
    linearStepPercent: fc.integer({ min: 10, max: 50 }),
    bakeSeconds: fc.integer({ min: 0, max: 3600 }),
    writeBake: fc.boolean(),
  })
  .map((d) => {
    const steps =
      d.strategy === 'linear' ? Math.ceil(100 / d.linearStepPercent) : d.strategy === 'canary' ? 2 : 1;
    const bake = Math.min(d.bakeSeconds, Math.floor((28_800 - 600) / steps));
    const out: Record<string, unknown> = { approval: d.approval, strategy: d.strategy };
    if (d.strategy === 'canary') out.canaryPercent = d.canaryPercent;
    if (d.strategy === 'linear') out.linearStepPercent = d.linearStepPercent;
    if (d.writeBake || bake !== 600) out.bakeTime = bake % 60 === 0 ? `${bake / 60}m` : bake;
    return out;
  });

const slo = fc.record(
  {
    latency: fc.record({
      percentile: fc.constantFrom('p50', 'p90', 'p95', 'p99', 'p99.9'),
      thresholdMs: fc.double({ min: 0.001, max: 60_000, noNaN: true }),
    }),
    availability: fc.double({ min: 90, max: 99.999, noNaN: true }),
  },
  { requiredKeys: [] },
);

/** A schema-valid manifest nbops can build every request for. */
export const manifestArb = fc
  .record(
    {
      model: fc.record(
        {
          name: modelName,
          owner: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
          tags: fc.dictionary(tagKey, tagText, { maxKeys: 5 }),
        },
        { requiredKeys: ['name', 'owner'] },
      ),
      parameters: fc.dictionary(parameterName, parameterValue, { maxKeys: 12 }),
      data: fc.uniqueArray(dataEntry, { maxLength: 6, selector: (d) => d.name }),
      training,
      metrics: fc.uniqueArray(
        fc.record({ name: metricName, goal: fc.constantFrom('maximize', 'minimize') }),
        { maxLength: 10, selector: (m) => m.name },
      ),
      serving,
      deployment,
      slo,
      runbook: fc.string({ minLength: 1, maxLength: 2000 }),
    },
    { requiredKeys: ['model', 'training'] },
  )
  .map((m) => ({ apiVersion: 'nbops/v1', ...m }));

/** policy.aws: absent, or with any mix of real account, bucket, role, key, VPC and isolation. */
export const policyArb: fc.Arbitrary<Policy> = fc.oneof(
  fc.constant({}),
  fc
    .record(
      {
        accountId: fc.stringMatching(/^[0-9]{12}$/),
        region: fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2'),
        artifactBucket: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]$/),
        executionRoleArn: fc.constantFrom(
          'arn:aws:iam::111122223333:role/sagemaker',
          'arn:aws-cn:iam::111122223333:role/service-role/nbops.exec',
        ),
        kmsKeyArn: fc.constantFrom(
          'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          'alias/nbops',
        ),
        enableNetworkIsolation: fc.boolean(),
        vpc: fc.record({
          subnets: fc.array(fc.stringMatching(/^subnet-[0-9a-f]{8,17}$/), { minLength: 1, maxLength: 16 }),
          securityGroupIds: fc.array(fc.stringMatching(/^sg-[0-9a-f]{8,17}$/), {
            minLength: 1,
            maxLength: 5,
          }),
        }),
      },
      { requiredKeys: [] },
    )
    .map((aws) => ({ aws }) as Policy),
);
