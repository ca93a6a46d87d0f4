/**
 * SageMaker state-change events (EventBridge, `source: aws.sagemaker`) turned into use-case inputs.
 *
 * Endpoint events spell `EndpointStatus` in UPPER_SNAKE (`IN_SERVICE`, `UPDATE_ROLLBACK_FAILED`)
 * while the API says `InService`; statuses are normalised to the API spelling here, from the API
 * model's enum, so the core compares against one vocabulary. Values the model does not know pass
 * through unchanged (AWS does not document the full list of event values).
 */

import { enumValues } from '../aws/api-model';
import type { EndpointStateChange, TrainingJobStateChange } from '../service/contracts';
import { readEnvelope } from './parse';

export const SAGEMAKER_SOURCE = 'aws.sagemaker';
export const TRAINING_JOB_STATE_CHANGE = 'SageMaker Training Job State Change';
export const ENDPOINT_STATE_CHANGE = 'SageMaker Endpoint State Change';
export const ENDPOINT_DEPLOYMENT_STATE_CHANGE = 'SageMaker Endpoint Deployment State Change';

export function parseTrainingJobStateChange(event: unknown): TrainingJobStateChange {
  const envelope = readEnvelope(event, TRAINING_JOB_STATE_CHANGE, SAGEMAKER_SOURCE, [
    TRAINING_JOB_STATE_CHANGE,
  ]);
  const detail = envelope.detail;
  const change: TrainingJobStateChange = {
    trainingJobName: detail.string('TrainingJobName'),
    status: normaliseTrainingJobStatus(detail.string('TrainingJobStatus')),
    eventId: envelope.id,
    eventTime: envelope.time,
  };
  const secondary = detail.optionalString('SecondaryStatus');
  if (secondary) change.secondaryStatus = secondary;
  const failureReason = detail.optionalString('FailureReason');
  if (failureReason) change.failureReason = failureReason;
  return change;
}

export function parseEndpointStateChange(event: unknown): EndpointStateChange {
  const envelope = readEnvelope(event, 'SageMaker endpoint state change', SAGEMAKER_SOURCE, [
    ENDPOINT_STATE_CHANGE,
    ENDPOINT_DEPLOYMENT_STATE_CHANGE,
  ]);
  const detail = envelope.detail;
  const change: EndpointStateChange = {
    endpointName: detail.string('EndpointName'),
    status: normaliseEndpointStatus(detail.string('EndpointStatus')),
    source: envelope.detailType === ENDPOINT_DEPLOYMENT_STATE_CHANGE ? 'deployment' : 'endpoint',
    eventId: envelope.id,
    eventTime: envelope.time,
  };
  const config = detail.optionalString('EndpointConfigName');
  if (config) change.endpointConfigName = config;
  const failureReason = detail.optionalString('FailureReason');
  if (failureReason) change.failureReason = failureReason;
  const pending = detail.optionalObject('PendingDeploymentSummary')?.optionalString('EndpointConfigName');
  if (pending) change.pendingEndpointConfigName = pending;
  return change;
}

/** `UPDATE_ROLLBACK_FAILED`, `UpdateRollbackFailed`, `update-rollback-failed` all map to one key. */
const squash = (status: string) => status.replace(/[\s_-]/g, '').toUpperCase();

function spellingTable(shape: string): Map<string, string> {
  return new Map(enumValues('sagemaker', shape).map((value) => [squash(value), value]));
}

let endpointStatuses: Map<string, string> | undefined;
let trainingStatuses: Map<string, string> | undefined;

/** An endpoint status in the API's spelling (`IN_SERVICE` -> `InService`); unknown values unchanged. */
export function normaliseEndpointStatus(status: string): string {
  endpointStatuses ??= spellingTable('EndpointStatus');
  return endpointStatuses.get(squash(status)) ?? status;
}

/** A training job status in the API's spelling (`COMPLETED` -> `Completed`); unknown values unchanged. */
export function normaliseTrainingJobStatus(status: string): string {
  trainingStatuses ??= spellingTable('TrainingJobStatus');
  return trainingStatuses.get(squash(status)) ?? status;
}
