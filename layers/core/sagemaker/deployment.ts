/**
 * The blue/green deployment of a new version onto a live endpoint: how traffic shifts (canary,
 * linear, all at once), how long each step bakes under the rollback alarms, and the overall time
 * limit SageMaker enforces (MaximumExecutionTimeoutInSeconds must exceed the sum of all waits).
 */
import type { DeploymentConfig } from '@aws-sdk/client-sagemaker';
import { formatDuration, parseDuration } from '#core/manifest/duration';
import { MAX_BAKE_SECONDS, MAX_DEPLOYMENT_SECONDS } from '#core/manifest/limits';
import type { ResolvedManifest } from '#core/manifest/schema';
import { BuildError } from './context';

/** SageMaker's floor for MaximumExecutionTimeoutInSeconds. */
export const MIN_DEPLOYMENT_SECONDS = 600;
/**
 * Time allowed on top of the waits for provisioning the new fleet (downloading the model, starting
 * the container, health checks). GPU endpoints commonly take 10-20 minutes.
 */
export const PROVISIONING_SLACK_SECONDS = 1_800;
/** The least provisioning time nbops accepts before calling the waits impossible to fit. */
export const MIN_PROVISIONING_SLACK_SECONDS = 600;
/** SageMaker accepts 1-10 alarms in AutoRollbackConfiguration. */
export const MAX_ROLLBACK_ALARMS = 10;

export interface TrafficStep {
  /** Share of capacity on the new fleet after this step. */
  percent: number;
  /** Bake time after the step, watched by the rollback alarms. */
  bakeSeconds: number;
}

export interface DeploymentTimeline {
  strategy: ResolvedManifest['deployment']['strategy'];
  type: 'CANARY' | 'LINEAR' | 'ALL_AT_ONCE';
  steps: TrafficStep[];
  /** Extra bake with all traffic on the new fleet before the old one is terminated. */
  terminationWaitSeconds: number;
  /** Sum of every wait: steps' bake times plus the termination wait. */
  totalWaitSeconds: number;
  /** MaximumExecutionTimeoutInSeconds: waits plus provisioning slack, within 600-28800. */
  timeoutSeconds: number;
}

/**
 * The deployment timeline for a manifest. The wait after each traffic shift is counted, the last
 * one included (conservative: a timeout that is too long costs nothing, one that is too short rolls
 * back a good deployment). The termination wait is the bake time (at most 3600 s), shortened when
 * the traffic steps leave less room under SageMaker's 8-hour limit. Throws a BuildError naming
 * deployment.bakeTime when the waits cannot fit at all.
 */
export function deploymentTimeline(manifest: ResolvedManifest): DeploymentTimeline {
  const d = manifest.deployment;
  const bake = bakeSeconds(manifest);
  let steps: TrafficStep[];
  let type: DeploymentTimeline['type'];
  if (d.strategy === 'canary') {
    type = 'CANARY';
    steps = [
      { percent: d.canaryPercent, bakeSeconds: bake },
      { percent: 100, bakeSeconds: bake },
    ];
  } else if (d.strategy === 'linear') {
    type = 'LINEAR';
    const count = Math.ceil(100 / d.linearStepPercent);
    steps = Array.from({ length: count }, (_, i) => ({
      percent: Math.min(100, (i + 1) * d.linearStepPercent),
      bakeSeconds: bake,
    }));
  } else {
    type = 'ALL_AT_ONCE';
    steps = [{ percent: 100, bakeSeconds: bake }];
  }

  const stepWaits = steps.reduce((sum, s) => sum + s.bakeSeconds, 0);
  const room = MAX_DEPLOYMENT_SECONDS - MIN_PROVISIONING_SLACK_SECONDS - stepWaits;
  if (room < 0) {
    const longest = Math.floor((MAX_DEPLOYMENT_SECONDS - MIN_PROVISIONING_SLACK_SECONDS) / steps.length);
    throw new BuildError(
      'deployment.bakeTime',
      `${steps.length} traffic step${steps.length === 1 ? '' : 's'} of ${formatDuration(bake)} bake time take ${formatDuration(stepWaits)}; with at least ${formatDuration(MIN_PROVISIONING_SLACK_SECONDS)} to provision the new fleet, that exceeds SageMaker's ${formatDuration(MAX_DEPLOYMENT_SECONDS)} deployment limit (MaximumExecutionTimeoutInSeconds).`,
      `set deployment.bakeTime to at most ${formatDuration(longest)}${d.strategy === 'linear' ? ', or raise deployment.linearStepPercent' : ''}.`,
    );
  }
  const terminationWaitSeconds = Math.min(bake, MAX_BAKE_SECONDS, room);
  const totalWaitSeconds = stepWaits + terminationWaitSeconds;
  const timeoutSeconds = Math.min(
    MAX_DEPLOYMENT_SECONDS,
    Math.max(MIN_DEPLOYMENT_SECONDS, totalWaitSeconds + PROVISIONING_SLACK_SECONDS),
  );
  return { strategy: d.strategy, type, steps, terminationWaitSeconds, totalWaitSeconds, timeoutSeconds };
}

function bakeSeconds(manifest: ResolvedManifest): number {
  let seconds: number;
  try {
    seconds = parseDuration(manifest.deployment.bakeTime);
  } catch (err) {
    throw new BuildError(
      'deployment.bakeTime',
      `${(err as Error).message}.`,
      'use a duration such as 5m or 600.',
    );
  }
  if (seconds > MAX_BAKE_SECONDS)
    throw new BuildError(
      'deployment.bakeTime',
      `${formatDuration(seconds)} is over SageMaker's ${formatDuration(MAX_BAKE_SECONDS)} WaitIntervalInSeconds limit.`,
      `set deployment.bakeTime to at most ${formatDuration(MAX_BAKE_SECONDS)}.`,
    );
  return seconds;
}

/**
 * UpdateEndpoint's DeploymentConfig: blue/green traffic routing from the manifest's strategy and
 * automatic rollback on the given alarms (omitted when there are none: SageMaker requires 1-10).
 */
export function deploymentConfig(
  manifest: ResolvedManifest,
  rollbackAlarmNames: readonly string[],
): DeploymentConfig {
  if (rollbackAlarmNames.length > MAX_ROLLBACK_ALARMS)
    throw new BuildError(
      'slo',
      `${rollbackAlarmNames.length} rollback alarms were given; SageMaker's AutoRollbackConfiguration accepts at most ${MAX_ROLLBACK_ALARMS}.`,
      `pass at most ${MAX_ROLLBACK_ALARMS} alarm names (the latency and error-rate alarms).`,
    );
  const timeline = deploymentTimeline(manifest);
  const d = manifest.deployment;
  const wait = timeline.steps[0]!.bakeSeconds;
  const routing: NonNullable<DeploymentConfig['BlueGreenUpdatePolicy']>['TrafficRoutingConfiguration'] =
    timeline.type === 'CANARY'
      ? {
          Type: 'CANARY',
          CanarySize: { Type: 'CAPACITY_PERCENT', Value: d.canaryPercent },
          WaitIntervalInSeconds: wait,
        }
      : timeline.type === 'LINEAR'
        ? {
            Type: 'LINEAR',
            LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: d.linearStepPercent },
            WaitIntervalInSeconds: wait,
          }
        : { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: wait };
  const config: DeploymentConfig = {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: routing,
      TerminationWaitInSeconds: timeline.terminationWaitSeconds,
      MaximumExecutionTimeoutInSeconds: timeline.timeoutSeconds,
    },
  };
  if (rollbackAlarmNames.length > 0)
    config.AutoRollbackConfiguration = { Alarms: rollbackAlarmNames.map((AlarmName) => ({ AlarmName })) };
  return config;
}
