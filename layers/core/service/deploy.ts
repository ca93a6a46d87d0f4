/**
 * Deploy an approved version to its model's endpoint (the endpoint name is the model name):
 *
 *   APPROVED -> DEPLOYING (claim) -> CreateModel -> CreateEndpointConfig (data capture)
 *   -> rollback alarms (PutMetricAlarm) -> CreateEndpoint (first deployment)
 *                                       or UpdateEndpoint (blue/green, AutoRollbackConfiguration = the alarms)
 *   -> deployment fact (model, config, endpoint names)
 *
 * Every create uses a deterministic name and treats "already exists" with the same inputs as
 * success. The version is claimed (DEPLOYING) before anything is created, so concurrent duplicates
 * of the approval event send one CreateEndpoint/UpdateEndpoint: a delivery that did not make the
 * claim and finds no trace of the deployment on the endpoint within a short grace period asks to
 * be retried; after it (a crashed claimer) it redoes the idempotent steps itself.
 *
 * The endpoint's state decides the call:
 * - absent: CreateEndpoint;
 * - InService / OutOfService / UpdateRollbackFailed: UpdateEndpoint (a new config, same variant);
 * - already running or rolling out this version's config: nothing to send (a redelivery);
 * - Creating / Updating / SystemUpdating / RollingBack / Deleting with another config: busy with
 *   another deployment, RetryLaterError (the event is retried; the sweep bounds the wait);
 * - Failed: only DeleteEndpoint is allowed on a failed endpoint, so it is deleted and the delivery
 *   retried; once it is gone, the retry creates it afresh.
 * The facts record which names were deployed; the endpoint state-change handler finishes the job.
 */
import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { buildRollbackAlarms } from '#core/alarms/rollback';
import { RequestCheckError } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { createIdempotently, NameCollisionError } from '#core/aws/retry';
import { endpointName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import type { VersionFacts } from '#core/registry/types';
import { BuildError } from '#core/sagemaker/context';
import {
  buildCreateEndpoint,
  buildCreateEndpointConfig,
  buildCreateModel,
  buildUpdateEndpoint,
} from '#core/sagemaker/requests';
import { ACTORS, advance, buildContextOf, currentReason, manifestOf, withinGrace } from './context';
import type { DeployOutcome, VersionApproved } from './contracts';
import { RetryLaterError } from './errors';

const ignored = (reason: string): DeployOutcome => ({ kind: 'ignored', reason });

/** Endpoint states in which SageMaker accepts UpdateEndpoint. */
const UPDATABLE = new Set(['InService', 'OutOfService', 'UpdateRollbackFailed']);

/** Whether the endpoint already runs, or is rolling out, this config. */
function carries(endpoint: DescribeEndpointCommandOutput | undefined, configName: string): boolean {
  return (
    endpoint !== undefined &&
    (endpoint.EndpointConfigName === configName ||
      endpoint.PendingDeploymentSummary?.EndpointConfigName === configName)
  );
}

export async function deployVersion(services: Services, approved: VersionApproved): Promise<DeployOutcome> {
  let record = await services.registry.getVersion(approved.model, approved.version);
  if (!record) return ignored(`version ${approved.version} of ${approved.model} is not registered`);
  if (record.status !== 'APPROVED' && record.status !== 'DEPLOYING')
    return ignored(
      `version ${record.version} of ${record.model} is ${record.status}; only APPROVED versions are deployed`,
    );
  const manifest = manifestOf(record);
  if (!manifest?.serving)
    return ignored(`version ${record.version} of ${record.model} has no serving section: nothing to deploy`);

  const meta = await services.registry.getModel(record.model);
  const previous = meta?.aliases.champion;
  const endpoint = endpointName(record.model);
  let claimed = false;
  if (record.status === 'APPROVED') {
    const moved = await advance(services, record, {
      to: 'DEPLOYING',
      expectedFrom: ['APPROVED'],
      actor: ACTORS.deploy,
      reason:
        previous === undefined || previous === record.version
          ? `deploying to endpoint ${endpoint} (approved by ${approved.approvedBy})`
          : `deploying to endpoint ${endpoint} with a ${manifest.deployment.strategy} blue/green update, replacing champion v${previous} (approved by ${approved.approvedBy})`,
      sourceEventId: approved.eventId,
    });
    claimed = moved.changed;
    record = moved.record;
    if (record.status !== 'DEPLOYING')
      return ignored(`version ${record.version} of ${record.model} is ${record.status}; nothing to deploy`);
  }

  const target = record;
  const deploying = (configName: string, firstDeployment: boolean): DeployOutcome => ({
    kind: 'deploying',
    model: target.model,
    version: target.version,
    endpointName: endpoint,
    endpointConfigName: configName,
    firstDeployment,
  });

  try {
    const ctx = buildContextOf(services, record);
    const artifactUri = record.facts.artifact?.uri;
    if (!artifactUri)
      throw new BuildError(
        'artifact',
        `version ${record.version} of ${record.model} has no recorded model artifact (ModelArtifacts.S3ModelArtifacts).`,
        'retrain: upload the notebook again.',
      );
    const modelRequest = buildCreateModel(ctx, { artifactUri });
    const configRequest = buildCreateEndpointConfig(ctx);
    const alarms = buildRollbackAlarms(ctx);
    const configName = configRequest.EndpointConfigName!;
    const deployment: NonNullable<VersionFacts['deployment']> = {
      modelName: modelRequest.ModelName!,
      endpointConfigName: configName,
      endpointName: endpoint,
    };
    const recordDeployment = () =>
      services.registry.recordFacts(target.model, target.version, { deployment });

    const current = await services.sagemaker.describeEndpoint(endpoint);
    if (carries(current, configName)) {
      await recordDeployment();
      return deploying(configName, previous === undefined);
    }
    if (!claimed && withinGrace(services, record))
      throw new RetryLaterError(
        `version ${record.version} of ${record.model} entered DEPLOYING moments ago and endpoint ${endpoint} does not show it yet: another delivery is deploying it; retry`,
      );

    await createIdempotently(
      () => services.sagemaker.createModel(modelRequest),
      () =>
        describedOrRetry(
          services.sagemaker.describeModel(deployment.modelName),
          `model ${deployment.modelName}`,
        ),
      { resource: `model ${deployment.modelName}`, input: modelRequest },
    );
    await createIdempotently(
      () => services.sagemaker.createEndpointConfig(configRequest),
      () =>
        describedOrRetry(
          services.sagemaker.describeEndpointConfig(configName),
          `endpoint config ${configName}`,
        ),
      { resource: `endpoint config ${configName}`, input: configRequest },
    );
    // The alarms exist before UpdateEndpoint names them in AutoRollbackConfiguration.
    for (const alarm of alarms) await services.alarms.putMetricAlarm(alarm);

    let first = false;
    if (!current) {
      await createIdempotently(
        () => services.sagemaker.createEndpoint(buildCreateEndpoint(ctx, configName)),
        () => describedOrRetry(services.sagemaker.describeEndpoint(endpoint), `endpoint ${endpoint}`),
        {
          resource: `endpoint ${endpoint}`,
          input: { EndpointName: endpoint, EndpointConfigName: configName },
        },
      );
      first = true;
    } else if (current.EndpointStatus === 'Failed') {
      await services.sagemaker.deleteEndpoint(endpoint);
      throw new RetryLaterError(
        `endpoint ${endpoint} had failed (${current.FailureReason ?? 'no reason given'}); SageMaker only allows deleting a failed endpoint, so nbops deleted it and creates it again with version ${record.version} when this event is retried`,
      );
    } else if (UPDATABLE.has(current.EndpointStatus ?? '')) {
      try {
        await services.sagemaker.updateEndpoint(
          buildUpdateEndpoint(
            ctx,
            configName,
            alarms.map((a) => a.AlarmName),
          ),
        );
      } catch (err) {
        if (classifyAwsError(err).kind !== 'in-use') throw err;
        // Another update started meanwhile: ours (a concurrent delivery) or someone else's.
        const now = await services.sagemaker.describeEndpoint(endpoint);
        if (!carries(now, configName))
          throw new RetryLaterError(
            `endpoint ${endpoint} is busy with another update (${now?.EndpointStatus ?? 'gone'}); version ${record.version} is deployed when this event is retried`,
          );
      }
    } else {
      throw new RetryLaterError(
        `endpoint ${endpoint} is ${current.EndpointStatus} with config ${current.PendingDeploymentSummary?.EndpointConfigName ?? current.EndpointConfigName}, not version ${record.version}'s; it is deployed when that operation ends and this event is retried`,
      );
    }
    await recordDeployment();
    return deploying(configName, first);
  } catch (err) {
    const message = deployFailure(err);
    if (message === undefined) throw err;
    const moved = await advance(services, record, {
      to: 'DEPLOY_FAILED',
      expectedFrom: ['DEPLOYING'],
      actor: ACTORS.deploy,
      reason: `deployment to endpoint ${endpoint} failed: ${message}`,
      sourceEventId: approved.eventId,
    });
    if (moved.changed)
      await services.notifier.notify({
        severity: 'ticket',
        subject: `nbops: ${record.model} v${record.version} could not be deployed`,
        message: `Deploying version ${record.version} of ${record.model} to endpoint ${endpoint} failed: ${message}${previous !== undefined ? `\nThe endpoint still serves v${previous}.` : ''}`,
        model: record.model,
        version: record.version,
      });
    return {
      kind: 'deploy-failed',
      model: record.model,
      version: record.version,
      reason: currentReason(moved.record) ?? message,
    };
  }
}

async function describedOrRetry<T>(described: Promise<T | undefined>, what: string): Promise<T> {
  const found = await described;
  if (!found) throw new RetryLaterError(`${what} exists but cannot be described yet; retry`);
  return found;
}

/** The message for an error that ends the deployment; undefined for errors to retry or rethrow. */
function deployFailure(err: unknown): string | undefined {
  if (err instanceof RetryLaterError) return undefined;
  if (err instanceof BuildError || err instanceof RequestCheckError || err instanceof NameCollisionError)
    return err.message;
  const kind = classifyAwsError(err);
  if (kind.retryable || kind.kind === 'unknown' || kind.kind === 'in-use') return undefined;
  return kind.message;
}
