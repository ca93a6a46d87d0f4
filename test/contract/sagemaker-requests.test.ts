/**
 * Every request nbops builds satisfies the official AWS API models (the compact extract), for the
 * example manifest and for generated ones; names are deterministic; deployment timings fit.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildRollbackAlarms, rollbackAlarmNames } from '#core/alarms/rollback';
import { checkRequest } from '#core/aws/api-model';
import { parseDuration } from '#core/manifest/duration';
import { applyManifestDefaults, type ResolvedManifest, validateManifestShape } from '#core/manifest/schema';
import { type Policy, resolvePolicy } from '#core/policy/policy';
import type { BuildContext } from '#core/sagemaker/context';
import { deploymentTimeline } from '#core/sagemaker/deployment';
import { usesInstanceStorage } from '#core/sagemaker/instance-storage';
import {
  buildCreateEndpoint,
  buildCreateEndpointConfig,
  buildCreateModel,
  buildCreateTrainingJob,
  buildUpdateEndpoint,
  expectedArtifactUri,
} from '#core/sagemaker/requests';
import { manifestArb, policyArb } from './arbitraries';

const NOTEBOOK_SHA = '1a2b3c4d'.repeat(8);
const RUNTIME_HASH = 'f'.repeat(64);

function resolved(raw: unknown): ResolvedManifest {
  const shape = validateManifestShape(raw);
  if (!shape.ok)
    throw new Error(`generated manifest is not schema-valid: ${JSON.stringify(shape.errors[0])}`);
  return applyManifestDefaults(shape.value);
}

function contextFor(manifest: ResolvedManifest, version = 1, policy: Policy = {}): BuildContext {
  return {
    model: manifest.model.name,
    version,
    manifest,
    policy: resolvePolicy(policy),
    notebook: { file: 'model.ipynb', sha256: NOTEBOOK_SHA },
    runtime: { hash: RUNTIME_HASH },
    owner: manifest.model.owner,
  };
}

const example = () => resolved(parse(readFileSync('examples/churn/manifest.yaml', 'utf8')));

/** Every request of a first deployment and a later one, as [service, operation, input]. */
function allRequests(ctx: BuildContext): ['sagemaker' | 'cloudwatch', string, unknown][] {
  const out: ['sagemaker' | 'cloudwatch', string, unknown][] = [];
  out.push(['sagemaker', 'CreateTrainingJob', buildCreateTrainingJob(ctx)]);
  if (!ctx.manifest.serving) return out;
  out.push(['sagemaker', 'CreateModel', buildCreateModel(ctx, { artifactUri: expectedArtifactUri(ctx) })]);
  const config = buildCreateEndpointConfig(ctx);
  out.push(['sagemaker', 'CreateEndpointConfig', config]);
  out.push(['sagemaker', 'CreateEndpoint', buildCreateEndpoint(ctx, config.EndpointConfigName!)]);
  const alarms = buildRollbackAlarms(ctx);
  for (const alarm of alarms) out.push(['cloudwatch', 'PutMetricAlarm', alarm]);
  out.push([
    'sagemaker',
    'UpdateEndpoint',
    buildUpdateEndpoint(
      ctx,
      config.EndpointConfigName!,
      alarms.map((a) => a.AlarmName),
    ),
  ]);
  return out;
}

describe('requests for the example manifest', () => {
  it('all satisfy the SageMaker and CloudWatch API models', () => {
    for (const version of [1, 2]) {
      const requests = allRequests(contextFor(example(), version));
      expect(requests.map(([, op]) => op)).toEqual([
        'CreateTrainingJob',
        'CreateModel',
        'CreateEndpointConfig',
        'CreateEndpoint',
        'PutMetricAlarm',
        'PutMetricAlarm',
        'UpdateEndpoint',
      ]);
      for (const [service, operation, input] of requests)
        expect(checkRequest(service, operation, input), `${operation} v${version}`).toEqual([]);
    }
  });

  it('also with a policy that sets KMS, VPC and network isolation', () => {
    const policy: Policy = {
      aws: {
        accountId: '111122223333',
        region: 'eu-west-1',
        kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        enableNetworkIsolation: true,
        vpc: { subnets: ['subnet-0abc1234'], securityGroupIds: ['sg-0abc1234'] },
      },
    };
    const ctx = contextFor(example(), 1, policy);
    for (const [service, operation, input] of allRequests(ctx))
      expect(checkRequest(service, operation, input), operation).toEqual([]);
    const job = buildCreateTrainingJob(ctx);
    expect(job.RoleArn).toBe('arn:aws:iam::111122223333:role/nbops-sagemaker-execution');
    expect(job.OutputDataConfig?.S3OutputPath).toBe(
      's3://nbops-artifacts-111122223333-eu-west-1/versions/churn/v1/training/',
    );
    expect(job.OutputDataConfig?.KmsKeyId).toBe(policy.aws?.kmsKeyArn);
    expect(job.VpcConfig).toEqual({ SecurityGroupIds: ['sg-0abc1234'], Subnets: ['subnet-0abc1234'] });
    expect(job.EnableNetworkIsolation).toBe(true);
    // ml.g5 keeps its data on NVMe instance storage: SageMaker refuses a volume key there.
    expect(job.ResourceConfig?.VolumeKmsKeyId).toBeUndefined();
    // ml.m5.large is EBS-backed: the endpoint's storage volume is encrypted with the key.
    expect(buildCreateEndpointConfig(ctx).KmsKeyId).toBe(policy.aws?.kmsKeyArn);
  });
});

describe('requests for generated manifests', () => {
  it('all satisfy the API models, whatever the manifest and policy', () => {
    fc.assert(
      fc.property(manifestArb, policyArb, fc.integer({ min: 1, max: 999_999 }), (raw, policy, version) => {
        const ctx = contextFor(resolved(raw), version, policy);
        // The builders assert too; checkRequest here makes a failure name the field.
        for (const [service, operation, input] of allRequests(ctx))
          expect(checkRequest(service, operation, input), operation).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('send spot fields only with spot, and MaxWait never below MaxRuntime', () => {
    fc.assert(
      fc.property(manifestArb, (raw) => {
        const m = resolved(raw);
        const job = buildCreateTrainingJob(contextFor(m));
        const stopping = job.StoppingCondition!;
        expect(stopping.MaxRuntimeInSeconds).toBe(parseDuration(m.training.maxRuntime));
        if (m.training.spot.enabled) {
          expect(job.EnableManagedSpotTraining).toBe(true);
          expect(stopping.MaxWaitTimeInSeconds).toBeGreaterThanOrEqual(stopping.MaxRuntimeInSeconds!);
          expect(job.CheckpointConfig?.LocalPath).toBe('/opt/ml/checkpoints');
        } else {
          expect(job.EnableManagedSpotTraining).toBeUndefined();
          expect(stopping.MaxWaitTimeInSeconds).toBeUndefined();
          expect(job.CheckpointConfig !== undefined).toBe(m.training.checkpoints.enabled);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('give deployments a timeout that exceeds every wait, within 600-28800 s', () => {
    fc.assert(
      fc.property(manifestArb, (raw) => {
        const m = resolved(raw);
        if (!m.serving) return;
        const update = buildUpdateEndpoint(contextFor(m, 2), 'x-v2', ['nbops-x-latency']);
        const policy = update.DeploymentConfig!.BlueGreenUpdatePolicy!;
        const routing = policy.TrafficRoutingConfiguration!;
        const timeline = deploymentTimeline(m);
        const waits =
          timeline.steps.length * routing.WaitIntervalInSeconds! + policy.TerminationWaitInSeconds!;
        expect(policy.MaximumExecutionTimeoutInSeconds!).toBeGreaterThan(waits);
        expect(policy.MaximumExecutionTimeoutInSeconds!).toBeGreaterThanOrEqual(600);
        expect(policy.MaximumExecutionTimeoutInSeconds!).toBeLessThanOrEqual(28_800);
        expect(routing.Type).toBe(
          { canary: 'CANARY', linear: 'LINEAR', 'all-at-once': 'ALL_AT_ONCE' }[m.deployment.strategy],
        );
      }),
      { numRuns: 200 },
    );
  });

  it('encrypt storage volumes only on EBS-backed instance types', () => {
    const policy: Policy = { aws: { kmsKeyArn: 'alias/nbops' } };
    fc.assert(
      fc.property(manifestArb, (raw) => {
        const ctx = contextFor(resolved(raw), 1, policy);
        const job = buildCreateTrainingJob(ctx);
        expect(job.ResourceConfig!.VolumeKmsKeyId !== undefined).toBe(
          !usesInstanceStorage(ctx.manifest.training.instanceType),
        );
        expect(job.OutputDataConfig!.KmsKeyId).toBe('alias/nbops');
      }),
      { numRuns: 100 },
    );
  });
});

describe('deterministic names', () => {
  it('are the same for the same inputs', () => {
    fc.assert(
      fc.property(manifestArb, (raw) => {
        const a = contextFor(resolved(raw), 3);
        const b = contextFor(resolved(structuredClone(raw)), 3);
        expect(buildCreateTrainingJob(a).TrainingJobName).toBe(buildCreateTrainingJob(b).TrainingJobName);
        if (!a.manifest.serving) return;
        expect(buildCreateEndpointConfig(a).EndpointConfigName).toBe(
          buildCreateEndpointConfig(b).EndpointConfigName,
        );
        expect(buildCreateModel(a, { artifactUri: 's3://b/k.tar.gz' }).ModelName).toBe('' + a.model + '-v3');
      }),
      { numRuns: 100 },
    );
  });

  it('give a changed notebook a new training job name', () => {
    const ctx = contextFor(example(), 4);
    const changed = { ...ctx, notebook: { ...ctx.notebook, sha256: '9f8e7d6c'.repeat(8) } };
    expect(buildCreateTrainingJob(ctx).TrainingJobName).toBe('churn-v4-1a2b3c4d');
    expect(buildCreateTrainingJob(changed).TrainingJobName).toBe('churn-v4-9f8e7d6c');
  });

  it('keep the endpoint name stable across versions', () => {
    const names = [1, 2, 37].map((v) => {
      const ctx = contextFor(example(), v);
      return [
        buildCreateEndpoint(ctx, 'c').EndpointName,
        buildUpdateEndpoint(ctx, 'c', rollbackAlarmNames(ctx)).EndpointName,
      ];
    });
    expect(new Set(names.flat())).toEqual(new Set(['churn']));
  });

  it('give the endpoint config a new name when its content changes', () => {
    const base = example();
    const name = (m: ResolvedManifest, policy: Policy = {}) =>
      buildCreateEndpointConfig(contextFor(m, 2, policy)).EndpointConfigName;
    const bigger = example();
    bigger.serving!.instanceCount = 4;
    const lessCapture = example();
    lessCapture.serving!.dataCapture.samplingPercent = 5;
    expect(name(base)).toMatch(/^churn-v2-[0-9a-f]{8}$/);
    expect(name(base)).toBe(name(example()));
    expect(name(bigger)).not.toBe(name(base));
    expect(name(lessCapture)).not.toBe(name(base));
    expect(name(base, { aws: { kmsKeyArn: 'alias/other' } })).not.toBe(name(base));
    // Tags and the owner are not part of the config's content.
    const retagged = example();
    retagged.model.tags = { team: 'other' };
    expect(name(retagged)).toBe(name(base));
  });
});

describe('rollback alarms', () => {
  it('put the latency threshold in microseconds, as ModelLatency is reported', () => {
    const ctx = contextFor(example());
    const latency = buildRollbackAlarms(ctx).find((a) => a.MetricName === 'ModelLatency')!;
    expect(latency.Threshold).toBe(200_000); // slo.latency.thresholdMs: 200
    expect(latency.ExtendedStatistic).toBe('p99');
    expect(latency.Namespace).toBe('AWS/SageMaker');
    expect(latency.Dimensions).toEqual([
      { Name: 'EndpointName', Value: 'churn' },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ]);
    expect(latency.TreatMissingData).toBe('notBreaching');
  });

  it('alarm on the error ratio at the fast page burn rate of the availability SLO', () => {
    const errors = buildRollbackAlarms(contextFor(example())).find((a) => a.Metrics)!;
    expect(errors.Threshold).toBe(0.072); // 14.4 x (1 - 99.5/100)
    const returned = errors.Metrics!.filter((m) => m.ReturnData);
    expect(returned).toHaveLength(1);
    const stats = errors.Metrics!.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric.MetricName);
    expect(stats.sort()).toEqual(['Invocation5XXErrors', 'InvocationModelErrors', 'Invocations']);
    for (const query of errors.Metrics!.filter((q) => q.MetricStat)) {
      expect(query.MetricStat!.Period).toBe(60);
      expect(returned[0]!.Expression).toContain(query.Id);
    }
  });

  it('are named under the nbops prefix, with the runbook in the description', () => {
    const alarms = buildRollbackAlarms(contextFor(example()));
    for (const alarm of alarms) {
      expect(alarm.AlarmName.startsWith('nbops-churn-')).toBe(true);
      expect(alarm.AlarmDescription).toContain('https://wiki.example.com/ml/churn/runbook');
      expect(alarm.AlarmDescription).toContain('churn');
    }
  });

  it('are none without serving or slo, and rollback is then left out of the update', () => {
    const m = example();
    delete m.slo;
    const ctx = contextFor(m, 2);
    expect(buildRollbackAlarms(ctx)).toEqual([]);
    const update = buildUpdateEndpoint(ctx, 'churn-v2-00000000', []);
    expect(update.DeploymentConfig?.AutoRollbackConfiguration).toBeUndefined();
    expect(checkRequest('sagemaker', 'UpdateEndpoint', update)).toEqual([]);
  });
});
