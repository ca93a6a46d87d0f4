/**
 * Every request nbops sends for a notebook, in order, without sending any: the first version
 * (training, model, endpoint config, the endpoint's alarms, new endpoint, drift schedule) and a
 * later version (training, model, endpoint config, alarms updated, blue/green UpdateEndpoint rolling
 * back on the rollback alarms, drift schedule updated). Each request is checked against the AWS API
 * model; problems are collected, not thrown, so a dry run shows all of them at once.
 */

import { buildEndpointAlarms, type EndpointAlarms } from '#core/alarms/slo';
import { checkRequest, type RequestViolation } from '#core/aws/api-model';
import { driftScheduleFor } from '#core/drift/schedule';
import type { EventSchedule } from '#core/ports';
import { type BuildContext, BuildError } from './context';
import { type DeploymentTimeline, deploymentTimeline } from './deployment';
import {
  buildCreateEndpoint,
  buildCreateEndpointConfig,
  buildCreateModel,
  buildCreateTrainingJob,
  buildUpdateEndpoint,
  expectedArtifactUri,
} from './requests';

export interface PlannedRequest {
  service: 'sagemaker' | 'cloudwatch' | 'scheduler';
  operation: string;
  version: number;
  /** Exactly what would be passed to the SDK command. */
  input: object;
  /** Where the input breaks the AWS API model (empty when it is valid). */
  violations: RequestViolation[];
}

export interface PlanFailure {
  operation: string;
  version: number;
  /** The manifest field at fault, when known. */
  field?: string;
  message: string;
}

export interface Plan {
  requests: PlannedRequest[];
  /** Requests that could not be built at all. */
  failures: PlanFailure[];
  /** The blue/green timeline of the later version's UpdateEndpoint, when there is one. */
  timeline?: DeploymentTimeline;
}

/**
 * Plans `firstVersion` as the endpoint's first deployment and `laterVersion` as an update of the
 * live endpoint. Without a serving section only the training jobs are planned.
 */
export interface PlanOptions {
  /**
   * The Scheduler request for a drift schedule (CreateSchedule; UpdateSchedule takes the same
   * members). Host-specific (target bus and role ARNs), so the caller supplies it; without it the
   * drift schedule is not planned.
   */
  scheduleRequest?: (schedule: EventSchedule) => object;
}

export function planRequests(
  base: Omit<BuildContext, 'version'>,
  firstVersion = 1,
  laterVersion = 2,
  options: PlanOptions = {},
): Plan {
  const plan: Plan = { requests: [], failures: [] };
  const add = (service: PlannedRequest['service'], operation: string, version: number, input: object) => {
    plan.requests.push({
      service,
      operation,
      version,
      input,
      violations: checkRequest(service, operation, input),
    });
  };
  const attempt = <T>(operation: string, version: number, build: () => T): T | undefined => {
    try {
      return build();
    } catch (err) {
      const failure: PlanFailure = { operation, version, message: (err as Error).message };
      if (err instanceof BuildError) failure.field = err.field;
      plan.failures.push(failure);
      return undefined;
    }
  };
  const noCheck = { check: false };

  for (const version of [firstVersion, laterVersion]) {
    const ctx: BuildContext = { ...base, version };
    const first = version === firstVersion;
    const job = attempt('CreateTrainingJob', version, () => buildCreateTrainingJob(ctx, noCheck));
    if (job) add('sagemaker', 'CreateTrainingJob', version, job);
    if (!ctx.manifest.serving) continue;

    const model = attempt('CreateModel', version, () =>
      buildCreateModel(ctx, { artifactUri: expectedArtifactUri(ctx) }, noCheck),
    );
    if (model) add('sagemaker', 'CreateModel', version, model);
    const config = attempt('CreateEndpointConfig', version, () => buildCreateEndpointConfig(ctx, noCheck));
    if (!config) continue;
    add('sagemaker', 'CreateEndpointConfig', version, config);
    const configName = config.EndpointConfigName ?? '';

    // The deploy use case puts every endpoint alarm before it creates or updates the endpoint
    // (PutMetricAlarm overwrites, so a redeploy updates them), and the blue/green update rolls back
    // on the rollback alarms.
    const alarms: EndpointAlarms = attempt('PutMetricAlarm', version, () =>
      buildEndpointAlarms(ctx, noCheck),
    ) ?? {
      metric: [],
      composite: [],
      rollback: [],
    };
    for (const alarm of alarms.metric) add('cloudwatch', 'PutMetricAlarm', version, alarm);
    for (const alarm of alarms.composite) add('cloudwatch', 'PutCompositeAlarm', version, alarm);
    if (first) {
      const endpoint = attempt('CreateEndpoint', version, () =>
        buildCreateEndpoint(ctx, configName, noCheck),
      );
      if (endpoint) add('sagemaker', 'CreateEndpoint', version, endpoint);
    } else {
      const update = attempt('UpdateEndpoint', version, () =>
        buildUpdateEndpoint(ctx, configName, alarms.rollback, noCheck),
      );
      if (update) {
        add('sagemaker', 'UpdateEndpoint', version, update);
        plan.timeline = deploymentTimeline(ctx.manifest);
      }
    }
    // Once the version is DEPLOYED, the endpoint-state use case creates (then updates) the schedule.
    const schedule = options.scheduleRequest && driftScheduleFor(ctx.model, ctx.manifest);
    if (schedule && options.scheduleRequest)
      add(
        'scheduler',
        first ? 'CreateSchedule' : 'UpdateSchedule',
        version,
        options.scheduleRequest(schedule),
      );
  }
  return plan;
}
