/**
 * Deploy an approved version to its model's endpoint (the endpoint name is the model name):
 *
 *   APPROVED -> DEPLOYING (claim) -> CreateModel -> CreateEndpointConfig (data capture)
 *   -> the endpoint's alarms (alarms/slo.ts: SLO, burn-rate composites, drift; stale ones deleted)
 *   -> CreateEndpoint (first deployment)
 *      or UpdateEndpoint (blue/green, AutoRollbackConfiguration = the rollback alarms)
 *   -> deployment fact (model, config, endpoint names)
 *
 * A rollback (the alarm policy, alarms/policy.ts) redeploys the previous champion, which is still
 * DEPLOYED: "Version Approved" with approvedBy nbops:rollback claims it DEPLOYED -> DEPLOYING, and
 * the update goes all at once without AutoRollbackConfiguration (the alarms that caused the
 * rollback are still firing and would roll the rollback back).
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
 *   another deployment, RetryLaterError (the event is retried; the sweep sends it again while the
 *   version waits, and bounds the wait);
 * - a rollback alarm in ALARM before a blue/green update: RetryLaterError likewise (SageMaker
 *   would roll the update back at once);
 * - Failed: only DeleteEndpoint is allowed on a failed endpoint, so it is deleted and the delivery
 *   retried; once it is gone, the retry creates it afresh.
 * The facts record which names were deployed; the endpoint state-change handler finishes the job.
 */
import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { parseAlarmName } from '#core/alarms/names';
import { ROLLBACK_ACTOR } from '#core/alarms/policy';
import { buildEndpointAlarms, type EndpointAlarms, staleAlarmNames } from '#core/alarms/slo';
import { RequestCheckError } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { createIdempotently, NameCollisionError } from '#core/aws/retry';
import { endpointName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import type { VersionFacts } from '#core/registry/types';
import { type BuildContext, BuildError } from '#core/sagemaker/context';
import {
  buildCreateEndpoint,
  buildCreateEndpointConfig,
  buildCreateModel,
  buildUpdateEndpoint,
} from '#core/sagemaker/requests';
import {
  ACTORS,
  advance,
  buildContextOf,
  currentReason,
  firingAlarms,
  manifestOf,
  withinGrace,
} from './context';
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
  const meta = await services.registry.getModel(record.model);
  const previous = meta?.aliases.champion;
  const rollbackRequest = approved.approvedBy === ROLLBACK_ACTOR;
  const redeploy = rollbackRequest && record.status === 'DEPLOYED' && previous !== record.version;
  if (record.status !== 'APPROVED' && record.status !== 'DEPLOYING' && !redeploy)
    return ignored(
      rollbackRequest && record.status === 'DEPLOYED'
        ? `version ${record.version} of ${record.model} is already the production version; the rollback is done`
        : `version ${record.version} of ${record.model} is ${record.status}; only APPROVED versions are deployed`,
    );
  const manifest = manifestOf(record);
  if (!manifest?.serving)
    return ignored(`version ${record.version} of ${record.model} has no serving section: nothing to deploy`);

  const endpoint = endpointName(record.model);
  let claimed = false;
  if (redeploy) {
    const moved = await advance(services, record, {
      to: 'DEPLOYING',
      expectedFrom: ['DEPLOYED'],
      actor: ROLLBACK_ACTOR,
      reason: `rolling back: redeploying v${record.version} to endpoint ${endpoint} all at once, replacing v${previous} (${approved.approvedBy})`,
      sourceEventId: approved.eventId,
    });
    claimed = moved.changed;
    record = moved.record;
    if (record.status !== 'DEPLOYING')
      return ignored(`version ${record.version} of ${record.model} is ${record.status}; nothing to deploy`);
  } else if (record.status === 'APPROVED') {
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
  // A rollback's redeploy (this delivery's claim or an earlier one's).
  const rollback = record.lastChange?.to === 'DEPLOYING' && record.lastChange.actor === ROLLBACK_ACTOR;
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
    const alarms = buildEndpointAlarms(ctx, {
      topics: {
        ...(services.config.pageTopicArn ? { pageTopicArn: services.config.pageTopicArn } : {}),
        ...(services.config.ticketTopicArn ? { ticketTopicArn: services.config.ticketTopicArn } : {}),
      },
    });
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
    await putEndpointAlarms(services, record.model, alarms);

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
      if (!rollback) await waitForQuietRollbackAlarms(services, alarms.rollback, record.version);
      try {
        await services.sagemaker.updateEndpoint(
          rollback
            ? buildUpdateEndpoint(allAtOnce(ctx), configName, [])
            : buildUpdateEndpoint(ctx, configName, alarms.rollback),
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

/**
 * A blue/green update names the rollback alarms in AutoRollbackConfiguration: while one is still
 * in ALARM (a canary failed minutes ago), SageMaker would roll the new version back at once, and a
 * ROLLED_BACK version cannot be deployed again. So the deployment waits: the event is retried, and
 * the stuck sweep sends the approval again while the version waits in DEPLOYING.
 */
async function waitForQuietRollbackAlarms(
  services: Services,
  names: string[],
  version: number,
): Promise<void> {
  const firing = await firingAlarms(services, names);
  if (firing.length > 0)
    throw new RetryLaterError(
      `rollback alarm${firing.length === 1 ? '' : 's'} ${firing.join(', ')} ${firing.length === 1 ? 'is' : 'are'} in ALARM: SageMaker would roll version ${version} back as soon as the update started; it is deployed once they are OK`,
    );
}

/**
 * Puts the endpoint's alarms (metric alarms first: composites name them; PutMetricAlarm and
 * PutCompositeAlarm overwrite, so a redeploy updates them in place), then deletes the ones an
 * earlier manifest had and this one does not (composites before the alarms they name).
 */
export async function putEndpointAlarms(
  services: Services,
  model: string,
  alarms: EndpointAlarms,
): Promise<void> {
  for (const alarm of alarms.metric) await services.alarms.putMetricAlarm(alarm);
  for (const alarm of alarms.composite) await services.alarms.putCompositeAlarm(alarm);
  await deleteAlarms(services, staleAlarmNames(model, alarms));
}

/**
 * Deletes those of `names` that exist, composites first in a call of their own: CloudWatch refuses
 * to delete an alarm a composite still names, and one refused name fails the whole call.
 */
export async function deleteAlarms(services: Services, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const existing = new Set((await services.alarms.describeAlarms(names)).map((a) => a.name));
  const present = names.filter((name) => existing.has(name));
  const composites = present.filter(isCompositeName);
  const metrics = present.filter((name) => !isCompositeName(name));
  if (composites.length > 0) await services.alarms.deleteAlarms(composites);
  if (metrics.length > 0) await services.alarms.deleteAlarms(metrics);
  return present;
}

function isCompositeName(name: string): boolean {
  const kind = parseAlarmName(name)?.kind;
  return kind === 'burn-page' || kind === 'burn-ticket';
}

/** The version's context with an immediate, unbaked deployment: how a rollback restores production. */
function allAtOnce(ctx: BuildContext): BuildContext {
  return {
    ...ctx,
    manifest: {
      ...ctx.manifest,
      deployment: { ...ctx.manifest.deployment, strategy: 'all-at-once', bakeTime: 0 },
    },
  };
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
