import { describe, expect, it } from 'vitest';
import { BuildError } from '#core/sagemaker/context';
import { deploymentConfig, deploymentTimeline } from '#core/sagemaker/deployment';
import { rawExample, resolve } from './helpers';

function manifest(deployment: Record<string, unknown>, instanceCount = 4) {
  const raw = rawExample();
  raw.deployment = deployment;
  raw.serving.instanceCount = instanceCount;
  return resolve(raw);
}

describe('deploymentConfig', () => {
  it('canary: shifts canaryPercent of capacity, bakes, then the rest', () => {
    const config = deploymentConfig(manifest({ strategy: 'canary', canaryPercent: 25, bakeTime: '10m' }), [
      'nbops-churn-latency',
    ]);
    expect(config).toEqual({
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: 25 },
          WaitIntervalInSeconds: 600,
        },
        TerminationWaitInSeconds: 600,
        // 2 bakes + termination wait = 30m, plus 30m to provision the new fleet.
        MaximumExecutionTimeoutInSeconds: 3600,
      },
      AutoRollbackConfiguration: { Alarms: [{ AlarmName: 'nbops-churn-latency' }] },
    });
  });

  it('linear: steps of linearStepPercent, each baked', () => {
    const m = manifest({ strategy: 'linear', linearStepPercent: 30, bakeTime: '5m' });
    const routing = deploymentConfig(m, ['a']).BlueGreenUpdatePolicy?.TrafficRoutingConfiguration;
    expect(routing).toEqual({
      Type: 'LINEAR',
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 30 },
      WaitIntervalInSeconds: 300,
    });
    expect(deploymentTimeline(m).steps.map((s) => s.percent)).toEqual([30, 60, 90, 100]);
  });

  it('all-at-once: shifts everything, then bakes with the old fleet kept for a rollback', () => {
    const m = manifest({ strategy: 'all-at-once', bakeTime: '15m' });
    const policy = deploymentConfig(m, ['a']).BlueGreenUpdatePolicy;
    expect(policy?.TrafficRoutingConfiguration).toEqual({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 900 });
    expect(policy?.TerminationWaitInSeconds).toBe(900);
  });

  it('uses the 600 s floor for deployments without bake time', () => {
    const timeline = deploymentTimeline(manifest({ strategy: 'canary', bakeTime: 0 }));
    expect(timeline.totalWaitSeconds).toBe(0);
    expect(timeline.timeoutSeconds).toBe(1800);
  });

  it('shortens the termination wait when the steps leave little room under 8 hours', () => {
    // 10 steps of 45m = 7h30m; 30m left minus 10m provisioning: 20m of termination wait.
    const timeline = deploymentTimeline(
      manifest({ strategy: 'linear', linearStepPercent: 10, bakeTime: '45m' }, 10),
    );
    expect(timeline.terminationWaitSeconds).toBe(1200);
    expect(timeline.timeoutSeconds).toBe(28_800);
    expect(timeline.timeoutSeconds).toBeGreaterThan(timeline.totalWaitSeconds);
  });

  it('refuses waits that cannot fit, naming bakeTime and the longest that fits', () => {
    const m = manifest({ strategy: 'linear', linearStepPercent: 10, bakeTime: '48m' }, 10);
    expect(() => deploymentTimeline(m)).toThrow(BuildError);
    expect(() => deploymentTimeline(m)).toThrow(
      /deployment\.bakeTime: 10 traffic steps of 48m .* at most 47m/,
    );
  });

  it('leaves automatic rollback out when there are no alarms (SageMaker requires 1-10)', () => {
    expect(deploymentConfig(manifest({ strategy: 'canary' }), []).AutoRollbackConfiguration).toBeUndefined();
  });
});
