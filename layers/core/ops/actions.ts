/**
 * What an operator may do, on top of the use cases that already do it (service/*): approve or
 * decline (decideApproval), roll back (the alarm policy's path: champion -> ROLLED_BACK, then
 * "Version Approved" by nbops:rollback, which deployVersion redeploys all at once), retrain
 * (retrainModel) and retire (retireModel).
 *
 * Each call names its caller (recorded in the audit trail) and carries a request id: the same id
 * again is a retry and changes nothing. Refusals are OpsErrors with a code and a reason.
 */
import { ROLLBACK_ACTOR } from '#core/alarms/policy';
import { endpointName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import { IN_FLIGHT_STATUSES } from '#core/registry/lifecycle';
import type { VersionRecord } from '#core/registry/types';
import { decideApproval } from '#core/service/approvals';
import { advance, fileName, firingRollbackAlarms, nowIso } from '#core/service/context';
import { retireModel } from '#core/service/retire';
import { retrainKey, retrainModel, retrainState } from '#core/service/retrain';
import { NBOPS_EVENTS } from '#core/wiring';
import { asOpsError, OpsError } from './errors';
import { requireModel, requireVersion } from './queries';
import type { ApprovalResult, Caller, RetireResult, RetrainResult, RollbackResult } from './views';

/** Identities nbops itself acts as; an operator may not act under them. */
function checkCaller(caller: Caller): void {
  const who = caller.identity.trim();
  if (!who)
    throw new OpsError('NO_IDENTITY', 'the request names no caller identity: sign it with IAM credentials');
  if (/^(nbops:|alarm:)/i.test(who) || who.toLowerCase() === 'drift')
    throw new OpsError(
      'INVALID_REQUEST',
      `"${who}" is an identity nbops reserves for its own actions; act as yourself`,
    );
  if (!caller.requestId.trim()) throw new OpsError('INVALID_REQUEST', 'the request has no request id');
}

function requireReason(reason: string | undefined, what: string): string {
  const text = reason?.trim() ?? '';
  if (!text)
    throw new OpsError(
      'INVALID_REQUEST',
      `give a reason for ${what} (it is kept in the audit trail): --reason "..."`,
    );
  return text;
}

// --- approve and decline -----------------------------------------------------------------------

export async function decide(
  services: Services,
  caller: Caller,
  request: { model: string; version: number; decision: 'approve' | 'decline'; reason?: string },
): Promise<ApprovalResult> {
  checkCaller(caller);
  const what = `${request.decision === 'approve' ? 'approving' : 'declining'} version ${request.version} of ${request.model}`;
  const reason = requireReason(request.reason, what);
  const { meta, record } = await requireVersion(services, request.model, request.version);
  if (
    request.decision === 'approve' &&
    record.status === 'PENDING_APPROVAL' &&
    meta.aliases.champion !== undefined
  )
    await requireQuietRollbackAlarms(services, record);
  try {
    const outcome = await decideApproval(services, {
      model: request.model,
      version: request.version,
      actor: caller.identity.trim(),
      decision: request.decision,
      reason,
      requestId: caller.requestId,
      at: nowIso(services),
    });
    return {
      outcome: outcome.kind,
      model: outcome.model,
      version: outcome.version,
      decidedBy: outcome.decidedBy,
      changed: outcome.changed,
      next:
        outcome.kind === 'approved'
          ? `the deploy handler deploys v${outcome.version} to endpoint ${endpointName(outcome.model)}; follow it with \`nbops show ${outcome.model} ${outcome.version}\``
          : `v${outcome.version} stays out of production; upload a new version to try again`,
    };
  } catch (err) {
    throw asOpsError(err) ?? err;
  }
}

/**
 * An approval starts a blue/green update whose AutoRollbackConfiguration watches the endpoint's
 * latency and error-rate alarms (the version's rollback alarms). One still in ALARM (a failed canary minutes ago, or trouble on
 * the champion) would roll the new version back as soon as SageMaker looks, and a rolled-back
 * version cannot be deployed again: so the approval waits, and says until when.
 */
async function requireQuietRollbackAlarms(services: Services, record: VersionRecord): Promise<void> {
  const { model, version } = record;
  const firing = await firingRollbackAlarms(services, record);
  if (firing.length === 0) return;
  throw new OpsError(
    'ALARM_FIRING',
    `${firing.join(' and ')} ${firing.length === 1 ? 'is' : 'are'} in ALARM, and SageMaker's auto-rollback watches ${firing.length === 1 ? 'it' : 'them'} during the deployment: v${version} would be rolled back as soon as it started. Approve again once ${firing.length === 1 ? 'it is' : 'they are'} OK (usually minutes after a failed canary; \`nbops incidents ${model}\` shows what fired). v${version} stays PENDING_APPROVAL.`,
  );
}

// --- rollback ----------------------------------------------------------------------------------

/** The newest version still DEPLOYED other than `except`: the last good one. */
async function lastGood(
  services: Services,
  model: string,
  except: number,
): Promise<VersionRecord | undefined> {
  const deployed = await services.registry.listVersions(model, { status: 'DEPLOYED', newestFirst: true });
  return deployed.find((v) => v.version !== except);
}

async function publishRollback(
  services: Services,
  model: string,
  from: number,
  to: number,
  caller: Caller,
  reason: string,
): Promise<void> {
  await services.events.publish(NBOPS_EVENTS.versionApproved, {
    model,
    version: to,
    approvedBy: ROLLBACK_ACTOR,
    reason: `rollback from v${from} requested by ${caller.identity}: ${reason}`,
  });
}

/**
 * Rolls production back to `version`, or to the last good version (the newest other DEPLOYED
 * one): the champion becomes ROLLED_BACK (actor: the caller), and the target is redeployed all at
 * once through the deploy handler, exactly as the alarm policy's rollback. The endpoint state
 * handler then makes the target DEPLOYED and champion again.
 */
export async function rollback(
  services: Services,
  caller: Caller,
  request: { model: string; version?: number; reason?: string },
): Promise<RollbackResult> {
  checkCaller(caller);
  const { model } = request;
  const meta = await requireModel(services, model);
  const reason = request.reason?.trim() || 'operator rollback';
  const result = (from: number, to: number, changed: boolean): RollbackResult => ({
    outcome: 'rolling-back',
    model,
    from,
    to,
    changed,
    next: `the deploy handler redeploys v${to} to endpoint ${endpointName(model)} all at once; follow it with \`nbops show ${model} ${to}\``,
  });

  // A retry of this request: finish what it began (the redeploy is idempotent), change nothing else.
  const trail = await services.registry.auditTrail(model);
  const earlier = trail.find(
    (e) => e.kind === 'transition' && e.to === 'ROLLED_BACK' && e.sourceEventId === caller.requestId,
  );
  if (earlier) {
    const from = earlier.version;
    const versions = await services.registry.listVersions(model, { newestFirst: true });
    const target =
      request.version ??
      versions.find(
        (v) => v.version !== from && v.status === 'DEPLOYING' && v.lastChange?.actor === ROLLBACK_ACTOR,
      )?.version ??
      (meta.aliases.champion !== from ? meta.aliases.champion : undefined) ??
      versions.find((v) => v.version !== from && v.status === 'DEPLOYED')?.version;
    if (target === undefined)
      throw new OpsError(
        'NO_ROLLBACK_TARGET',
        `this request rolled v${from} back, but no version of ${model} is left to redeploy`,
      );
    if (meta.aliases.champion !== target)
      await publishRollback(services, model, from, target, caller, reason);
    return result(from, target, false);
  }

  const championVersion = meta.aliases.champion;
  if (championVersion === undefined)
    throw new OpsError('WRONG_STATE', `${model} has no version in production; there is nothing to roll back`);
  const champion = await services.registry.getVersion(model, championVersion);
  if (champion?.status !== 'DEPLOYED')
    throw new OpsError(
      'WRONG_STATE',
      `the production version v${championVersion} of ${model} is ${champion?.status ?? 'missing'}, not DEPLOYED` +
        (champion?.status === 'ROLLED_BACK'
          ? ': a rollback is already under way (see `nbops versions ' + model + '`)'
          : champion?.status === 'RETIRED'
            ? ': the model is retired'
            : ''),
    );
  const busy = (await services.registry.listVersions(model, { status: 'DEPLOYING' }))[0];
  if (busy)
    throw new OpsError(
      'IN_FLIGHT',
      `v${busy.version} of ${model} is being deployed; a blue/green deployment rolls itself back when its alarms fire. Roll back once it has finished (check with \`nbops show ${model} ${busy.version}\`)`,
    );

  let target: VersionRecord;
  if (request.version !== undefined) {
    const named = (await requireVersion(services, model, request.version)).record;
    if (named.version === championVersion)
      throw new OpsError('WRONG_STATE', `v${named.version} is the production version of ${model} already`);
    if (named.status !== 'DEPLOYED')
      throw new OpsError(
        'WRONG_STATE',
        `v${named.version} of ${model} is ${named.status}: only versions that served production and are still DEPLOYED can be restored; list them with \`nbops versions ${model} --status DEPLOYED\``,
      );
    target = named;
  } else {
    const previous = await lastGood(services, model, championVersion);
    if (!previous)
      throw new OpsError(
        'NO_ROLLBACK_TARGET',
        `no other version of ${model} is DEPLOYED, so there is no earlier good version to roll back to (v${championVersion} serves; versions that were rolled back, declined or retired cannot be restored). To replace v${championVersion}, submit a fixed notebook with \`nbops submit <notebook> --wait\``,
      );
    target = previous;
  }

  const moved = await advance(services, champion, {
    to: 'ROLLED_BACK',
    expectedFrom: ['DEPLOYED'],
    actor: caller.identity,
    reason: `rolled back by ${caller.identity}: ${reason}; restoring v${target.version}`,
    sourceEventId: caller.requestId,
  });
  if (moved.record.status !== 'ROLLED_BACK')
    throw new OpsError(
      'WRONG_STATE',
      `v${championVersion} of ${model} changed meanwhile (it is ${moved.record.status}); check \`nbops versions ${model}\` and decide again`,
    );
  await publishRollback(services, model, championVersion, target.version, caller, reason);
  await services.notifier.notify({
    severity: 'info',
    subject: `nbops: ${model} rolled back from v${championVersion} to v${target.version}`,
    message: `${caller.identity} rolled ${model} back from v${championVersion} to v${target.version}: ${reason}. v${target.version} is redeployed to endpoint ${endpointName(model)} all at once.`,
    model,
    version: championVersion,
  });
  return result(championVersion, target.version, moved.changed);
}

// --- retrain -----------------------------------------------------------------------------------

/**
 * Trains a version's notebook again (the champion's by default) as a new version: the retrain
 * use case uploads its immutable notebook copy again, and the ordinary submit path takes it.
 */
export async function retrain(
  services: Services,
  caller: Caller,
  request: { model: string; version?: number; reason?: string },
): Promise<RetrainResult> {
  checkCaller(caller);
  const { model } = request;
  const meta = await requireModel(services, model);
  const version = request.version ?? meta.aliases.champion;
  if (version === undefined)
    throw new OpsError(
      'WRONG_STATE',
      `${model} has no version in production; name the version to retrain (\`nbops retrain ${model} --of N\`)`,
    );
  const { record } = await requireVersion(services, model, version);
  const notebook = record.facts.notebook;
  if (!notebook || !record.facts.manifest)
    throw new OpsError(
      'WRONG_STATE',
      `version ${version} of ${model} is ${record.status} and has no validated notebook to retrain; upload a corrected notebook instead`,
    );
  const bucket = services.config.bucket;
  const result = (uri: string, changed: boolean): RetrainResult => ({
    outcome: 'retrain-submitted',
    model,
    retrainOf: version,
    notebookUri: uri,
    changed,
    next: `the notebook of v${version} is submitted again as a new version of ${model}; follow it with \`nbops versions ${model}\``,
  });
  const key = retrainKey(model, fileName(notebook.key), version, caller.requestId);
  if (await services.store.head({ bucket, key })) return result(`s3://${bucket}/${key}`, false);
  const state = await retrainState(services, model);
  if (state.inFlight)
    throw new OpsError(
      'RETRAIN_IN_FLIGHT',
      `a retrain of ${model} is already in flight (${state.inFlight}); wait until it is deployed or decided`,
    );
  const outcome = await retrainModel(services, {
    model,
    version,
    requestedBy: caller.identity,
    reason: request.reason?.trim() || `retrain requested by ${caller.identity}`,
    eventId: caller.requestId,
    eventTime: nowIso(services),
  });
  if (outcome.kind === 'ignored') throw new OpsError('RETRAIN_IN_FLIGHT', outcome.reason);
  return result(outcome.notebookUri, outcome.created);
}

// --- retire ------------------------------------------------------------------------------------

/** Retires a model (retireModel): endpoint, alarms and drift schedule go; its history stays. */
export async function retire(
  services: Services,
  caller: Caller,
  request: { model: string; reason?: string },
): Promise<RetireResult> {
  checkCaller(caller);
  const { model } = request;
  await requireModel(services, model);
  const busy = (await services.registry.listVersions(model)).filter((v) =>
    IN_FLIGHT_STATUSES.includes(v.status),
  );
  if (busy.length > 0)
    throw new OpsError(
      'IN_FLIGHT',
      `${busy.map((v) => `v${v.version} is ${v.status}`).join(', ')}; retire ${model} once ${busy.length === 1 ? 'it has' : 'they have'} finished (or failed: the stuck-version sweep ends those past their limits)`,
    );
  const outcome = await retireModel(services, {
    model,
    actor: caller.identity,
    reason: request.reason?.trim() || `retired by ${caller.identity}`,
    requestId: caller.requestId,
    at: nowIso(services),
  });
  if (outcome.kind === 'refused') throw new OpsError('WRONG_STATE', outcome.reason);
  return {
    outcome: 'retired',
    model,
    endpointDeleted: outcome.endpointDeleted,
    retired: outcome.retired,
    unchanged: outcome.unchanged,
    changed: outcome.endpointDeleted || outcome.retired.length > 0,
  };
}
