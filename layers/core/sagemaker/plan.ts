/**
 * Every request nbops sends for a notebook, in order, without sending any: the first version
 * (training, model, endpoint config, new endpoint, rollback alarms) and a later version (training,
 * model, endpoint config, blue/green UpdateEndpoint). Each request is checked against the AWS API
 * model; problems are collected, not thrown, so a dry run shows all of them at once.
 */

import { buildRollbackAlarms } from '#core/alarms/rollback';
import { checkRequest, type RequestViolation } from '#core/aws/api-model';
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
  service: 'sagemaker' | 'cloudwatch';
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
export function planRequests(base: Omit<BuildContext, 'version'>, firstVersion = 1, laterVersion = 2): Plan {
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

    const alarms = attempt('PutMetricAlarm', version, () => buildRollbackAlarms(ctx, noCheck)) ?? [];
    if (first) {
      const endpoint = attempt('CreateEndpoint', version, () =>
        buildCreateEndpoint(ctx, configName, noCheck),
      );
      if (endpoint) add('sagemaker', 'CreateEndpoint', version, endpoint);
      for (const alarm of alarms) add('cloudwatch', 'PutMetricAlarm', version, alarm);
    } else {
      const names = alarms.map((a) => a.AlarmName);
      const update = attempt('UpdateEndpoint', version, () =>
        buildUpdateEndpoint(ctx, configName, names, noCheck),
      );
      if (update) {
        add('sagemaker', 'UpdateEndpoint', version, update);
        plan.timeline = deploymentTimeline(ctx.manifest);
      }
    }
  }
  return plan;
}
