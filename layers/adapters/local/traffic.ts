/**
 * The traffic steps of a SageMaker blue/green deployment, from its DeploymentConfig: CANARY shifts
 * the canary share then everything, LINEAR shifts step by step, ALL_AT_ONCE (and no
 * DeploymentConfig: SageMaker's default) everything at once. Each shift bakes
 * WaitIntervalInSeconds; then TerminationWaitInSeconds passes with all traffic on the new fleet
 * before the old one is terminated ("waits ... after the final baking period", SageMaker's guide).
 * A RollingUpdatePolicy is approximated as linear steps of MaximumBatchSize.
 */
import type { CapacitySize, DeploymentConfig } from '@aws-sdk/client-sagemaker';

/** A traffic step of a deployment: the new fleet's share after the shift, and how long it bakes. */
export interface TrafficStep {
  share: number;
  instances: number;
  bakeSeconds: number;
  waitName: 'WaitIntervalInSeconds' | 'TerminationWaitInSeconds';
  capacity: 'canary' | 'full' | 'partial';
}

function capacityShare(size: CapacitySize | undefined, instances: number): number {
  if (!size || size.Value === undefined) return 1;
  const share = size.Type === 'INSTANCE_COUNT' ? size.Value / Math.max(1, instances) : size.Value / 100;
  return Math.min(1, Math.max(0, share));
}

/** The traffic steps SageMaker takes for a DeploymentConfig (see the module comment). */
export function trafficSteps(config: DeploymentConfig | undefined, instances: number): TrafficStep[] {
  const count = (share: number) => Math.min(instances, Math.max(1, Math.round(share * instances)));
  const blueGreen = config?.BlueGreenUpdatePolicy;
  const rolling = config?.RollingUpdatePolicy;
  const steps: TrafficStep[] = [];
  const shares: number[] = [];
  let wait = 0;
  let termination = 0;
  if (blueGreen) {
    const routing = blueGreen.TrafficRoutingConfiguration;
    wait = routing?.WaitIntervalInSeconds ?? 0;
    termination = blueGreen.TerminationWaitInSeconds ?? 0;
    if (routing?.Type === 'CANARY') {
      shares.push(capacityShare(routing.CanarySize, instances), 1);
    } else if (routing?.Type === 'LINEAR') {
      const step = capacityShare(routing.LinearStepSize, instances);
      for (let share = step; share < 1 - 1e-9 && step > 0; share += step) shares.push(share);
      shares.push(1);
    } else {
      shares.push(1);
    }
  } else if (rolling) {
    wait = rolling.WaitIntervalInSeconds ?? 0;
    const step = capacityShare(rolling.MaximumBatchSize, instances);
    for (let share = step; share < 1 - 1e-9 && step > 0; share += step) shares.push(share);
    shares.push(1);
  } else {
    shares.push(1);
  }
  const unique = shares.filter((s, i) => s > 0 && shares.indexOf(s) === i);
  for (const share of unique) {
    steps.push({
      share,
      instances: count(share),
      bakeSeconds: wait,
      waitName: 'WaitIntervalInSeconds',
      capacity: share >= 1 ? 'full' : steps.length === 0 ? 'canary' : 'partial',
    });
  }
  steps.push({
    share: 1,
    instances,
    bakeSeconds: termination,
    waitName: 'TerminationWaitInSeconds',
    capacity: 'full',
  });
  return steps;
}
