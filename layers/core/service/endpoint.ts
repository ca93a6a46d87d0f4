/**
 * An endpoint (or its blue/green deployment) changed state: finish the version being deployed.
 *
 * The endpoint name is the model name, and the model has at most one version DEPLOYING. The
 * event only says "look again": DescribeEndpoint decides, so late, duplicated and out-of-order
 * events (an Updating event after DEPLOYED) change nothing.
 * - InService on the version's config: DEPLOYED, the champion alias moves to it (the previous
 *   champion stays DEPLOYED, the rollback target), and the model's drift schedule follows the
 *   version's manifest (created or updated, or deleted when it has no drift section).
 * - InService on another config after the version's deployment was sent: SageMaker rolled it back
 *   (an alarm of AutoRollbackConfiguration fired, or the new fleet failed): ROLLED_BACK.
 * - Failed, UpdateRollbackFailed: DEPLOY_FAILED with SageMaker's FailureReason.
 * - anything else (Creating, Updating, ...): still in progress, no change.
 */
import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { driftScheduleFor, driftScheduleName } from '#core/drift/schedule';
import { endpointName, modelName } from '#core/manifest/names';
import type { EventSchedule, Services } from '#core/ports';
import type { VersionFacts, VersionRecord } from '#core/registry/types';
import { buildCreateEndpointConfig } from '#core/sagemaker/requests';
import {
  ACTORS,
  advance,
  buildContextOf,
  endpointConfigVersion,
  firingRollbackAlarms,
  isModelName,
  manifestOf,
  nowIso,
} from './context';
import type { EndpointOutcome, EndpointStateChange } from './contracts';

const ignored = (reason: string): EndpointOutcome => ({ kind: 'ignored', reason });

export async function onEndpointStateChange(
  services: Services,
  change: EndpointStateChange,
): Promise<EndpointOutcome> {
  const model = change.endpointName;
  if (!isModelName(model))
    return ignored(`endpoint ${model} is not an nbops endpoint (nbops names endpoints after their model)`);
  const deploying = await services.registry.listVersions(model, { status: 'DEPLOYING', newestFirst: true });
  const endpoint = await services.sagemaker.describeEndpoint(endpointName(model));
  // Normally one version is DEPLOYING. Should several be (one waiting for the endpoint to be
  // free), the event is about the one whose config the endpoint runs or rolls out.
  const onEndpoint = [endpoint?.EndpointConfigName, endpoint?.PendingDeploymentSummary?.EndpointConfigName];
  const record = deploying.find((v) => onEndpoint.includes(deployedConfigName(services, v))) ?? deploying[0];
  if (!record) {
    // A late or duplicated event after the deployment finished. If an earlier delivery crashed
    // between DEPLOYED and moving the champion alias, finish that now.
    await repairChampion(services, model, endpoint, change.eventId);
    await repairDriftSchedule(services, model, endpoint);
    return ignored(
      `no version of ${model} is being deployed; endpoint ${model} is ${endpoint?.EndpointStatus ?? 'absent'}`,
    );
  }
  return resolveDeployment(services, record, endpoint, change.eventId);
}

/** The endpoint config the version deploys: recorded when the deployment was sent, else derived. */
export function deployedConfigName(services: Services, record: VersionRecord): string | undefined {
  const recorded = record.facts.deployment?.endpointConfigName;
  if (recorded) return recorded;
  try {
    return buildCreateEndpointConfig(buildContextOf(services, record), { check: false }).EndpointConfigName;
  } catch {
    return undefined;
  }
}

/**
 * Settles a DEPLOYING version from the endpoint's description (also used by the stuck-version
 * sweep). Returns in-progress when the endpoint does not say yet how the deployment ended.
 */
export async function resolveDeployment(
  services: Services,
  record: VersionRecord,
  endpoint: DescribeEndpointCommandOutput | undefined,
  sourceEventId: string,
): Promise<EndpointOutcome> {
  const name = endpointName(record.model);
  const ours = deployedConfigName(services, record);
  // The deployment fact is written once CreateEndpoint/UpdateEndpoint was sent: before that, an
  // endpoint on another config is the old one still serving, not a rollback.
  const sent = record.facts.deployment !== undefined;
  const base = { model: record.model, version: record.version };
  const inProgress = (status: string): EndpointOutcome => ({ kind: 'in-progress', ...base, status });

  if (!endpoint) {
    if (!sent) return inProgress('NotCreated');
    return fail(
      services,
      record,
      sourceEventId,
      `endpoint ${name} no longer exists (it was deleted)`,
      'ticket',
    );
  }
  const status = endpoint.EndpointStatus ?? 'Unknown';
  const current = endpoint.EndpointConfigName;

  if (status === 'InService') {
    if (ours !== undefined && current === ours) return deployed(services, record, ours, sourceEventId);
    if (!sent) return inProgress(status);
    const restored = endpointConfigVersion(record.model, current);
    const firing = await firingRollbackAlarms(services, record);
    const reason =
      `SageMaker rolled back the deployment: endpoint ${name} is InService on ${current ?? 'an unknown config'}` +
      `${restored !== undefined ? ` (v${restored})` : ''} instead of ${ours}` +
      (firing.length > 0
        ? `; rollback alarm${firing.length === 1 ? '' : 's'} in ALARM: ${firing.join(', ')}`
        : '; no rollback alarm is in ALARM now (it may have recovered, or the new fleet failed to start)');
    const moved = await advance(services, record, {
      to: 'ROLLED_BACK',
      expectedFrom: ['DEPLOYING'],
      actor: ACTORS.endpoint,
      reason,
      sourceEventId,
    });
    if (moved.changed)
      await services.notifier.notify({
        severity: 'ticket',
        subject: `nbops: ${record.model} v${record.version} was rolled back`,
        message: `${reason}.\nProduction is served by ${restored !== undefined ? `v${restored}` : current}. Check the version's metrics and the alarms before deploying it again.`,
        model: record.model,
        version: record.version,
      });
    if (moved.record.status !== 'ROLLED_BACK') return settled(moved.record, ours);
    return {
      kind: 'rolled-back',
      ...base,
      ...(restored !== undefined ? { restoredVersion: restored } : {}),
      reason,
    };
  }

  if (status === 'UpdateRollbackFailed')
    return fail(
      services,
      record,
      sourceEventId,
      `endpoint ${name} is UpdateRollbackFailed: the deployment failed and so did its rollback, so the fleet serves both the old and the new config (${endpoint.FailureReason ?? 'no FailureReason given'}). Update the endpoint to a known-good config (redeploy the previous version) to restore it`,
      'page',
    );
  if (status === 'Failed') {
    if (!sent && current !== ours) return inProgress(status);
    return fail(
      services,
      record,
      sourceEventId,
      `endpoint ${name} Failed: ${endpoint.FailureReason ?? 'no FailureReason given'}`,
      'ticket',
    );
  }
  return inProgress(status);
}

async function deployed(
  services: Services,
  record: VersionRecord,
  configName: string,
  sourceEventId: string,
): Promise<EndpointOutcome> {
  const name = endpointName(record.model);
  const deployment: NonNullable<VersionFacts['deployment']> = {
    modelName: modelName(record.model, record.version),
    endpointConfigName: configName,
    endpointName: name,
  };
  const moved = await advance(services, record, {
    to: 'DEPLOYED',
    expectedFrom: ['DEPLOYING'],
    actor: ACTORS.endpoint,
    reason: `endpoint ${name} is InService on ${configName}`,
    sourceEventId,
    facts: { deployment },
  });
  if (moved.record.status !== 'DEPLOYED') return settled(moved.record, configName);
  const alias = await services.registry.setAlias(record.model, 'champion', record.version, {
    actor: ACTORS.endpoint,
    reason: `v${record.version} serves endpoint ${name} (${configName})`,
    sourceEventId,
    at: nowIso(services),
  });
  await syncDriftSchedule(services, moved.record);
  if (moved.changed)
    await services.notifier.notify({
      severity: 'info',
      subject: `nbops: ${record.model} v${record.version} is in production`,
      message: `Endpoint ${name} serves version ${record.version} of ${record.model} (${configName}).${alias.previous !== undefined && alias.previous !== record.version ? ` The previous champion v${alias.previous} stays DEPLOYED as the rollback target.` : ''}`,
      model: record.model,
      version: record.version,
    });
  return { kind: 'deployed', model: record.model, version: record.version };
}

/**
 * The drift schedule of the version the endpoint serves, in case the delivery that made it
 * DEPLOYED failed before (or while) setting it up: upserts write nothing when it is already right.
 */
async function repairDriftSchedule(
  services: Services,
  model: string,
  endpoint: DescribeEndpointCommandOutput | undefined,
): Promise<void> {
  if (endpoint?.EndpointStatus !== 'InService') return;
  const champion = (await services.registry.getModel(model))?.aliases.champion;
  if (champion === undefined) return;
  const record = await services.registry.getVersion(model, champion);
  if (record?.status !== 'DEPLOYED' || deployedConfigName(services, record) !== endpoint.EndpointConfigName)
    return;
  await syncDriftSchedule(services, record);
}

/** The drift schedule the version's manifest asks for (see core/drift/schedule.ts). */
export function driftSchedule(record: VersionRecord): EventSchedule | undefined {
  const manifest = manifestOf(record);
  return manifest ? driftScheduleFor(record.model, manifest) : undefined;
}

export { driftScheduleName };

/** Creates or updates the model's drift schedule for the version now in production, or deletes it. */
export async function syncDriftSchedule(services: Services, record: VersionRecord): Promise<void> {
  const schedule = driftSchedule(record);
  if (schedule) await services.schedules.upsertSchedule(schedule);
  else await services.schedules.deleteSchedule(driftScheduleName(record.model));
}

async function fail(
  services: Services,
  record: VersionRecord,
  sourceEventId: string,
  reason: string,
  severity: 'page' | 'ticket',
): Promise<EndpointOutcome> {
  const moved = await advance(services, record, {
    to: 'DEPLOY_FAILED',
    expectedFrom: ['DEPLOYING'],
    actor: ACTORS.endpoint,
    reason,
    sourceEventId,
  });
  if (moved.changed)
    await services.notifier.notify({
      severity,
      subject: `nbops: ${record.model} v${record.version} deployment failed`,
      message: reason,
      model: record.model,
      version: record.version,
    });
  if (moved.record.status !== 'DEPLOY_FAILED')
    return settled(moved.record, deployedConfigName(services, record));
  return { kind: 'deploy-failed', model: record.model, version: record.version, reason };
}

/** The outcome for a version another delivery settled first. */
function settled(record: VersionRecord, configName: string | undefined): EndpointOutcome {
  const base = { model: record.model, version: record.version };
  const reason = record.lastChange?.reason ?? record.status;
  switch (record.status) {
    case 'DEPLOYED':
      return { kind: 'deployed', ...base };
    case 'ROLLED_BACK':
      return { kind: 'rolled-back', ...base, reason };
    case 'DEPLOY_FAILED':
      return { kind: 'deploy-failed', ...base, reason };
    default:
      return ignored(
        `version ${record.version} of ${record.model} is ${record.status} (${configName ?? 'no config'})`,
      );
  }
}

/**
 * Points the champion alias at the version whose config the endpoint serves, when that version
 * is DEPLOYED and the alias is elsewhere (a crash between DEPLOYED and the alias move).
 */
async function repairChampion(
  services: Services,
  model: string,
  endpoint: DescribeEndpointCommandOutput | undefined,
  sourceEventId: string,
): Promise<void> {
  if (endpoint?.EndpointStatus !== 'InService') return;
  const version = endpointConfigVersion(model, endpoint.EndpointConfigName);
  if (version === undefined) return;
  const meta = await services.registry.getModel(model);
  if (!meta || meta.aliases.champion === version) return;
  const record = await services.registry.getVersion(model, version);
  if (record?.status !== 'DEPLOYED' || deployedConfigName(services, record) !== endpoint.EndpointConfigName)
    return;
  await services.registry.setAlias(model, 'champion', version, {
    actor: ACTORS.endpoint,
    reason: `v${version} serves endpoint ${endpointName(model)} (${endpoint.EndpointConfigName})`,
    sourceEventId,
    at: nowIso(services),
  });
}
