import { describe, expect, it } from 'vitest';
import type { Policy } from '#core/policy/policy';
import { manifestFamily } from '#core/validation/manifest-rules';
import { policyFamily, policyRules } from '#core/validation/policy-rules';
import { example, exampleText, type Json, notebook, run } from '../manifest/helpers';

/** POL findings for the example manifest (after `change`) under `policy`. */
function check(policy: Policy, change: (m: Json) => void = () => {}) {
  const m = example();
  change(m);
  return run([manifestFamily, policyFamily], notebook(m), { policy }).findings.filter((f) =>
    f.rule.startsWith('POL-'),
  );
}

/** [rule, policy, change that breaks it, pointer, message, change that makes the manifest fit] */
const cases: [string, Policy, (m: Json) => void, string, string, (m: Json) => void][] = [
  [
    'POL-001',
    { training: { allowedInstanceTypes: ['ml.g6.*', 'ml.g6.xlarge'] } },
    () => {},
    '/training/instanceType',
    'ml.g5.xlarge is not allowed by the platform policy (allowed: ml.g6.*, ml.g6.xlarge)',
    (m) => (m.training.instanceType = 'ml.g6.2xlarge'),
  ],
  [
    'POL-002',
    { training: { maxInstanceCount: 1 } },
    (m) => (m.training.instanceCount = 2),
    '/training/instanceCount',
    'training.instanceCount 2 is over the platform policy maximum of 1',
    () => {},
  ],
  [
    'POL-003',
    { training: { maxRuntime: '30m' } },
    () => {},
    '/training/maxRuntime',
    'training.maxRuntime 1h is over the platform policy maximum of 30m',
    (m) => {
      m.training.maxRuntime = 1800;
      m.training.spot.maxWait = '1h';
    },
  ],
  [
    'POL-004',
    { data: { allowedLocations: ['s3://approved-data'] } },
    (m) => (m.data = [{ name: 'train', uri: 's3://approved-data-copy/x.csv' }]),
    '/data/0/uri',
    'outside the S3 locations the platform policy allows (s3://approved-data)',
    (m) => (m.data = [{ name: 'train', uri: 's3://approved-data/x.csv' }]),
  ],
  [
    'POL-005',
    { requiredFields: ['model.description', 'slo.latency', 'runbook'] },
    (m) => delete m.slo.latency,
    '/slo/latency',
    'slo.latency is required by the platform policy',
    () => {},
  ],
  [
    'POL-006',
    { training: { allowSpot: false } },
    () => {},
    '/training/spot/enabled',
    'the platform policy does not allow spot training',
    (m) => {
      m.training.spot = {};
      m.training.checkpoints = {};
    },
  ],
  [
    'POL-007',
    { serving: { allowedImages: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/*'] } },
    () => {},
    '/serving/image',
    'serving.image 763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference',
    (m) => (m.serving.image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1'),
  ],
  [
    'POL-008',
    { serving: { maxInstanceCount: 1 } },
    () => {},
    '/serving/instanceCount',
    'serving.instanceCount 2 is over the platform policy maximum of 1',
    (m) => {
      m.serving.instanceCount = 1;
      m.deployment.strategy = 'all-at-once';
      delete m.deployment.canaryPercent;
    },
  ],
  [
    'POL-009',
    { training: { maxVolumeSizeGB: 20 } },
    () => {},
    '/training/volumeSizeGB',
    'training.volumeSizeGB 30 (the default) is over the platform policy maximum of 20 GB',
    (m) => (m.training.volumeSizeGB = 20),
  ],
  [
    'POL-010',
    { approval: { forceManual: true } },
    (m) => (m.deployment.approval = 'auto'),
    '/deployment/approval',
    'the platform policy forces manual approval',
    () => {},
  ],
];

describe('policy rules', () => {
  it.each(cases)(
    '%s reports the manifest value against the policy limit',
    (rule, policy, change, pointer, message) => {
      const findings = check(policy, change);
      expect(findings).toEqual([
        expect.objectContaining({
          rule,
          location: { pointer: `/metadata/nbops${pointer}` },
          message: expect.stringContaining(message),
        }),
      ]);
      const spec = policyRules.find((r) => r.id === rule)!;
      expect(findings[0]!.severity).toBe(spec.defaultSeverity);
      expect(findings[0]!.fix.length).toBeGreaterThan(10);
    },
  );

  it.each(cases)(
    '%s is quiet when the manifest fits the policy',
    (_, policy, _break, _pointer, _message, fit) => {
      expect(check(policy, fit)).toEqual([]);
    },
  );

  it('the example manifest fits the example-like policy', () => {
    const policy: Policy = {
      requiredFields: ['runbook', 'slo.latency', 'model.description'],
      training: {
        allowedInstanceTypes: ['ml.g5.*'],
        maxInstanceCount: 4,
        maxRuntime: '12h',
        maxVolumeSizeGB: 200,
        allowedImages: ['763104351884.dkr.ecr.*.amazonaws.com/pytorch-training:*'],
      },
      serving: {
        allowedInstanceTypes: ['ml.m5.*'],
        maxInstanceCount: 8,
        allowedImages: ['763104351884.dkr.ecr.*.amazonaws.com/pytorch-inference:*'],
      },
      data: { allowedLocations: ['s3://ml-data'] },
      approval: { forceManual: true },
    };
    expect(check(policy, (m) => (m.data = [{ name: 'train', uri: 's3://ml-data/churn/train.csv' }]))).toEqual(
      [],
    );
  });

  it('suggests a concrete allowed instance type and reports both training and serving images', () => {
    const [finding] = check({ training: { allowedInstanceTypes: ['ml.g6.xlarge', 'ml.p4d.24xlarge'] } });
    expect(finding!.fix).toContain('e.g. ml.g6.xlarge');
    const images = check({ training: { allowedImages: ['x'] }, serving: { allowedImages: ['y'] } });
    expect(images.map((f) => f.location.pointer)).toEqual([
      '/metadata/nbops/training/image',
      '/metadata/nbops/serving/image',
    ]);
  });

  it('points into the sidecar when the manifest is one', () => {
    const { findings } = run([manifestFamily, policyFamily], notebook(), {
      sidecar: { path: 'churn.nbops.yaml', text: exampleText },
      policy: { serving: { allowedInstanceTypes: ['ml.c5.*'] } },
    });
    const line = exampleText.split('\n').findIndex((l) => l.includes('instanceType: ml.m5.large')) + 1;
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'POL-008',
        location: { pointer: '/serving/instanceType', file: 'churn.nbops.yaml', line },
      }),
    ]);
  });

  it('runs only on a schema-valid manifest', () => {
    const m = example();
    m.training.instanceCount = 'many';
    const { findings } = run([manifestFamily, policyFamily], notebook(m), {
      policy: { training: { maxInstanceCount: 1, allowSpot: false } },
    });
    expect(findings.map((f) => f.rule)).toEqual(['MAN-002']);
    expect(
      run([manifestFamily, policyFamily], notebook(), {
        policy: { training: { allowSpot: false } },
      }).findings.map((f) => f.rule),
    ).toEqual(['MAN-001']);
  });
});
