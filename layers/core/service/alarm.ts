/**
 * An nbops alarm changed state ("CloudWatch Alarm State Change"): keep the incident record, tell
 * the on-call engineer with context, and apply the policy (alarms/policy.ts).
 *
 *   ALARM  -> incident (one per alarm and state time) -> notify (page or ticket) -> rollback | retrain
 *   OK     -> close the alarm's open incidents that began before it
 *   INSUFFICIENT_DATA, component windows (errors-*) -> nothing (the composites decide)
 *
 * Delivery is at least once and CloudWatch's events can arrive late or out of order, so:
 * - an incident's identity is the alarm name + the state's timestamp: a duplicate (any event id)
 *   finds its incident and neither notifies nor acts twice;
 * - an ALARM is acted on only while CloudWatch still says ALARM (DescribeAlarms): a late ALARM
 *   whose alarm has recovered is recorded and closed at once, quietly;
 * - an OK closes only incidents that began before it: an OK older than the ALARM it arrives after
 *   changes nothing;
 * - the rollback and the retrain request are themselves idempotent (registry transitions keyed by
 *   the incident, deploys and retrains that find their own earlier work).
 * The notification goes out before the incident is written: a crash in between repeats a page
 * rather than losing one.
 */
import { type AlarmDefinitionSummary, alarmNotification } from '#core/alarms/message';
import { type AlarmKind, endpointAlarmNames, parseAlarmName } from '#core/alarms/names';
import {
  ALARM_ACTOR,
  alarmLookbackSeconds,
  decideRetrain,
  decideRollback,
  incidentKey,
  ROLLBACK_ACTOR,
  type RollbackFacts,
} from '#core/alarms/policy';
import { ALARM_ROLES, type AlarmRole, buildEndpointAlarms } from '#core/alarms/slo';
import { parseDuration } from '#core/manifest/duration';
import type { ResolvedManifest } from '#core/manifest/schema';
import type { Services } from '#core/ports';
import type { IncidentRecord, ModelRecord, VersionRecord } from '#core/registry/types';
import { NBOPS_EVENTS } from '#core/wiring';
import { advance, buildContextOf, enteredStatusAt, manifestOf } from './context';
import type { AlarmOutcome, AlarmStateChange, PolicyAction } from './contracts';
import { retrainState } from './retrain';

const ignored = (reason: string): AlarmOutcome => ({ kind: 'ignored', reason });

export async function onAlarmStateChange(
  services: Services,
  change: AlarmStateChange,
): Promise<AlarmOutcome> {
  const parsed = parseAlarmName(change.alarmName);
  if (!parsed) return ignored(`${change.alarmName} is not an nbops alarm (nbops-<model>-<kind>)`);
  const { model, kind } = parsed;
  const role = ALARM_ROLES[kind];
  if (role === 'component') {
    const names = endpointAlarmNames(model);
    return ignored(
      `${change.alarmName} is one window of a burn-rate pair; ${names.burnPage} and ${names.burnTicket} decide who is told`,
    );
  }
  if (change.state === 'OK') return closeIncidents(services, model, change);
  if (change.state === 'INSUFFICIENT_DATA')
    return ignored(`${change.alarmName} has insufficient data; incidents change on ALARM and OK only`);
  return onAlarm(services, model, kind, role, change);
}

async function onAlarm(
  services: Services,
  model: string,
  kind: AlarmKind,
  role: Exclude<AlarmRole, 'component'>,
  change: AlarmStateChange,
): Promise<AlarmOutcome> {
  const key = incidentKey(change.alarmName, change.stateAt);
  const meta = await services.registry.getModel(model);
  if (!meta)
    return ignored(`model ${model} is not registered; ${change.alarmName} is not one of this registry's`);
  const champion =
    meta.aliases.champion === undefined
      ? undefined
      : await services.registry.getVersion(model, meta.aliases.champion);
  const manifest = champion && manifestOf(champion);

  const open = (await services.registry.openIncidents(model)).filter((i) => i.alarmName === change.alarmName);
  const duplicate = open.find((i) => i.sourceEventId === key);
  // An incident of this alarm already open (it went ALARM -> INSUFFICIENT_DATA -> ALARM): the same incident.
  const continuing = open.find((i) => i !== duplicate && i.at <= change.stateAt);
  const [current] = await services.alarms.describeAlarms([change.alarmName]);
  const base = { kind: 'incident' as const, model, alarmName: change.alarmName, ...versionOf(champion) };

  if (current?.state !== 'ALARM') {
    // Recovered (or deleted) before this event was handled: keep the record, act on nothing.
    const why = `${change.alarmName} is ${current?.state ?? 'deleted'} now; it recovered before nbops handled this change`;
    const incident = continuing ?? (await openIncident(services, model, change, champion, manifest, key));
    if (!continuing)
      await services.registry.resolveIncident(
        model,
        { at: incident.at, id: incident.id },
        { actor: ALARM_ACTOR, resolution: why, at: change.stateAt },
      );
    return {
      ...base,
      incidentId: incident.id,
      created: false,
      notified: false,
      policy: { action: 'none', reason: why },
    };
  }

  const facts = await championFacts(services, meta, champion);
  const policy = await decide(services, model, kind, role, change, champion, manifest, facts, key);
  let notified = false;
  if (!duplicate && !continuing && !(await muted(services, model, kind))) {
    await services.notifier.notify(
      alarmNotification({
        model,
        endpoint: model,
        kind,
        role,
        change,
        ...(facts ? { champion: facts } : {}),
        definitions: definitions(services, champion),
        ...(kind === 'drift' ? await latestDrift(services, model) : {}),
        ...(manifest?.runbook ? { runbook: manifest.runbook } : {}),
        policy,
      }),
    );
    notified = true;
  }
  const incident = continuing ?? (await openIncident(services, model, change, champion, manifest, key));
  await apply(services, model, change, policy, key);
  return { ...base, incidentId: incident.id, created: !duplicate && !continuing, notified, policy };
}

function versionOf(champion: VersionRecord | undefined): { version?: number } {
  return champion ? { version: champion.version } : {};
}

async function openIncident(
  services: Services,
  model: string,
  change: AlarmStateChange,
  champion: VersionRecord | undefined,
  manifest: ResolvedManifest | undefined,
  key: string,
): Promise<{ id: string; at: string }> {
  const { id } = await services.registry.putIncident(model, {
    at: change.stateAt,
    alarmName: change.alarmName,
    ...versionOf(champion),
    reason: change.reason || `${change.alarmName} entered ALARM`,
    sourceEventId: key,
    ...(manifest?.runbook ? { runbook: manifest.runbook } : {}),
  });
  return { id, at: change.stateAt };
}

/** The ticket composite is muted while the page composite pages (ActionsSuppressor): so is its notification. */
async function muted(services: Services, model: string, kind: AlarmKind): Promise<boolean> {
  if (kind !== 'burn-ticket') return false;
  const [page] = await services.alarms.describeAlarms([endpointAlarmNames(model).burnPage]);
  return page?.state === 'ALARM';
}

interface ChampionFacts {
  version: number;
  deployedAt?: string;
  deployingAt?: string;
  deployedBy?: string;
  approvedBy?: string;
  previous?: number;
  status: string;
}

/** The champion's last deployment, from its audit trail, and the version it replaced. */
async function championFacts(
  services: Services,
  meta: ModelRecord,
  champion: VersionRecord | undefined,
): Promise<ChampionFacts | undefined> {
  if (!champion) return undefined;
  const trail = await services.registry.auditTrail(meta.model, { version: champion.version });
  const transitions = trail.filter((e) => e.kind === 'transition');
  const lastTo = (status: string) => [...transitions].reverse().find((e) => 'to' in e && e.to === status);
  const deploying = lastTo('DEPLOYING');
  const deployed = lastTo('DEPLOYED');
  const alias = [...trail].reverse().find((e) => e.kind === 'alias' && e.alias === 'champion');
  const facts: ChampionFacts = { version: champion.version, status: champion.status };
  const deployedAt = deployed?.at ?? (champion.status === 'DEPLOYED' ? enteredStatusAt(champion) : undefined);
  if (deployedAt) facts.deployedAt = deployedAt;
  if (deploying) {
    facts.deployingAt = deploying.at;
    facts.deployedBy = deploying.actor;
  }
  const approver = champion.approval?.approver;
  if (approver) facts.approvedBy = approver;
  if (
    alias?.kind === 'alias' &&
    alias.previousVersion !== undefined &&
    alias.previousVersion !== champion.version
  )
    facts.previous = alias.previousVersion;
  return facts;
}

async function decide(
  services: Services,
  model: string,
  kind: AlarmKind,
  role: Exclude<AlarmRole, 'component'>,
  change: AlarmStateChange,
  champion: VersionRecord | undefined,
  manifest: ResolvedManifest | undefined,
  facts: ChampionFacts | undefined,
  key: string,
): Promise<PolicyAction> {
  if (role === 'page') {
    // A rollback this very incident started (an earlier delivery): carry it through.
    if (champion?.status === 'ROLLED_BACK' && champion.lastChange?.sourceEventId === key) {
      const target = await rollbackTarget(services, model, champion.version);
      if (target !== undefined)
        return {
          action: 'rollback',
          fromVersion: champion.version,
          toVersion: target,
          reason: champion.lastChange.reason,
        };
    }
    const window = manifest ? safeSeconds(manifest.deployment.rollbackWindow) : undefined;
    // One read of the model's versions: a status filter would read them all again each time.
    const versions = champion ? await services.registry.listVersions(model, { newestFirst: true }) : [];
    return decideRollback({
      role,
      alarmAt: change.stateAt,
      ...(facts
        ? {
            champion: {
              version: facts.version,
              status: facts.status,
              ...(facts.deployingAt ? { deployingAt: facts.deployingAt } : {}),
              ...(facts.deployedAt ? { deployedAt: facts.deployedAt } : {}),
              ...(facts.deployedBy ? { deployedBy: facts.deployedBy } : {}),
              ...(window !== undefined ? { rollbackWindowSeconds: window } : {}),
            },
          }
        : {}),
      ...(champion ? previousGood(versions, champion.version) : {}),
      ...(facts ? await otherDeployment(services, versions, facts) : {}),
      lookbackSeconds: alarmLookbackSeconds(kind),
    });
  }
  if (kind !== 'drift') return { action: 'none', reason: 'ticket alarms notify only' };
  const drift = manifest?.drift;
  const state = champion && drift?.action === 'retrain' ? await retrainState(services, model) : {};
  return decideRetrain({
    kind,
    alarmAt: change.stateAt,
    ...(champion
      ? {
          champion: {
            version: champion.version,
            ...(drift ? { action: drift.action } : {}),
            ...(drift ? { cooldownSeconds: safeSeconds(drift.retrainCooldown) ?? 0 } : {}),
          },
        }
      : {}),
    ...state,
  });
}

/**
 * The latest deployment of another version since the champion's: one still DEPLOYING, or the one
 * that most recently left DEPLOYING without taking production (SageMaker rolled it back, or it
 * failed). A version nbops rolls back leaves DEPLOYED, not DEPLOYING, so it is not one of them.
 */
async function otherDeployment(
  services: Services,
  versions: readonly VersionRecord[],
  champion: ChampionFacts,
): Promise<Pick<RollbackFacts, 'otherDeployment'>> {
  const since = champion.deployedAt;
  if (since === undefined) return {};
  const others = versions.filter((v) => v.version !== champion.version);
  const running = others.find((v) => v.status === 'DEPLOYING');
  if (running) return { otherDeployment: { version: running.version, startedAt: enteredStatusAt(running) } };
  const endedAt = (v: VersionRecord) => Date.parse(v.lastChange?.at ?? '');
  const ended = others
    .filter(
      (v) =>
        (v.status === 'ROLLED_BACK' || v.status === 'DEPLOY_FAILED') &&
        v.lastChange?.from === 'DEPLOYING' &&
        endedAt(v) > Date.parse(since),
    )
    .sort((a, b) => endedAt(b) - endedAt(a))[0];
  if (!ended?.lastChange) return {};
  const trail = await services.registry.auditTrail(ended.model, { version: ended.version });
  const started = trail.findLast((e) => e.kind === 'transition' && 'to' in e && e.to === 'DEPLOYING');
  return {
    otherDeployment: {
      version: ended.version,
      startedAt: started?.at ?? ended.lastChange.at,
      endedAt: ended.lastChange.at,
      outcome: ended.status === 'ROLLED_BACK' ? 'was rolled back' : 'failed',
    },
  };
}

/** The newest DEPLOYED version other than `current` (versions newest first): the last good one. */
function previousGood(versions: readonly VersionRecord[], current: number): { previous?: number } {
  const previous = versions.find((v) => v.status === 'DEPLOYED' && v.version !== current)?.version;
  return previous === undefined ? {} : { previous };
}

/** For a rollback in progress: the version being restored (still DEPLOYED, or already redeploying). */
async function rollbackTarget(services: Services, model: string, from: number): Promise<number | undefined> {
  const versions = await services.registry.listVersions(model, { newestFirst: true });
  return versions.find(
    (v) =>
      v.version !== from &&
      (v.status === 'DEPLOYED' || (v.status === 'DEPLOYING' && v.lastChange?.actor === ROLLBACK_ACTOR)),
  )?.version;
}

/**
 * Carries out the decision. Rollback: the champion becomes ROLLED_BACK (keyed by the incident, so
 * a redelivery does not move it twice) and the previous version is redeployed through the deploy
 * handler: "Version Approved" with approvedBy nbops:rollback, which deploys a DEPLOYED version again
 * all at once, without waiting on the alarms that are firing. Retrain: "Retrain Requested".
 */
async function apply(
  services: Services,
  model: string,
  change: AlarmStateChange,
  policy: PolicyAction,
  key: string,
): Promise<void> {
  if (policy.action === 'rollback') {
    const from = await services.registry.getVersion(model, policy.fromVersion);
    if (from && from.status === 'DEPLOYED')
      await advance(services, from, {
        to: 'ROLLED_BACK',
        expectedFrom: ['DEPLOYED'],
        actor: ALARM_ACTOR,
        reason: `${change.alarmName} fired at ${change.stateAt}: ${policy.reason}; rolling back to v${policy.toVersion}`,
        sourceEventId: key,
      });
    await services.events.publish(NBOPS_EVENTS.versionApproved, {
      model,
      version: policy.toVersion,
      approvedBy: ROLLBACK_ACTOR,
      reason: `rollback from v${policy.fromVersion}: ${change.alarmName} fired at ${change.stateAt}`,
    });
  } else if (policy.action === 'retrain') {
    await services.events.publish(NBOPS_EVENTS.retrainRequested, {
      model,
      version: policy.version,
      requestedBy: `alarm:${change.alarmName}`,
      reason: `${change.alarmName} fired at ${change.stateAt}: ${policy.reason}`,
    });
  }
}

async function closeIncidents(
  services: Services,
  model: string,
  change: AlarmStateChange,
): Promise<AlarmOutcome> {
  const open = await services.registry.openIncidents(model);
  // Only incidents that began before this OK: an older OK arriving late changes nothing.
  const mine = open.filter((i) => i.alarmName === change.alarmName && i.at <= change.stateAt);
  const closed: IncidentRecord[] = [];
  for (const incident of mine) {
    const { changed } = await services.registry.resolveIncident(
      model,
      { at: incident.at, id: incident.id },
      {
        actor: ALARM_ACTOR,
        resolution: `${change.alarmName} returned to OK at ${change.stateAt}${change.reason ? `: ${change.reason}` : ''}`,
        at: change.stateAt,
      },
    );
    if (changed) closed.push(incident);
  }
  for (const incident of closed) {
    const minutes = Math.round((Date.parse(change.stateAt) - Date.parse(incident.at)) / 60_000);
    await services.notifier.notify({
      severity: 'info',
      subject: `nbops: ${change.alarmName} resolved`,
      message: `${change.alarmName} returned to OK at ${change.stateAt}, ${minutes} minute(s) after it fired (${incident.at}). Incident ${incident.id} is closed.`,
      model,
      ...(incident.version !== undefined ? { version: incident.version } : {}),
    });
  }
  return { kind: 'resolved', model, alarmName: change.alarmName, incidents: closed.map((i) => i.id) };
}

/** This model's alarm definitions (thresholds, descriptions) from the champion's manifest. */
function definitions(
  services: Services,
  champion: VersionRecord | undefined,
): Map<string, AlarmDefinitionSummary> {
  const out = new Map<string, AlarmDefinitionSummary>();
  if (!champion) return out;
  try {
    const alarms = buildEndpointAlarms(buildContextOf(services, champion), { check: false });
    for (const a of alarms.metric)
      out.set(a.AlarmName, {
        threshold: a.Threshold,
        ...(a.AlarmDescription ? { description: a.AlarmDescription } : {}),
      });
    for (const a of alarms.composite)
      out.set(a.AlarmName, a.AlarmDescription ? { description: a.AlarmDescription } : {});
  } catch {
    // A manifest that no longer builds (policy changed): the message does without thresholds.
  }
  return out;
}

async function latestDrift(
  services: Services,
  model: string,
): Promise<{ drift?: NonNullable<Parameters<typeof alarmNotification>[0]['drift']> }> {
  const [latest] = await services.registry.listDrift(model, { limit: 1 });
  if (!latest) return {};
  const features = Object.entries(latest.features ?? {})
    .filter(([, f]) => f.drifted)
    .map(([name, f]) => ({ name, statistic: f.statistic, threshold: f.threshold }));
  const share = (latest as { datasetShare?: unknown }).datasetShare;
  return {
    drift: {
      at: latest.at,
      features,
      ...(typeof share === 'number' ? { share } : {}),
      ...(latest.reportUri ? { reportUri: latest.reportUri } : {}),
    },
  };
}

function safeSeconds(d: number | string | undefined): number | undefined {
  if (d === undefined) return undefined;
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}
