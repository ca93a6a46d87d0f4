/**
 * The alarm policy as pure decisions (the alarm use case gathers the facts, these decide):
 *
 * - rollback: a page alarm in ALARM while the champion's deployment is fresh (from the start of
 *   its deployment to deployment.rollbackWindow after it completed) rolls production back to the
 *   previous champion: the newest other version still DEPLOYED. A version that was itself put
 *   back by a rollback is never rolled back automatically (no ping-pong between two bad versions).
 *   Nor is the champion rolled back for an alarm that may have counted another version's canary
 *   traffic: one fired while a later deployment ran, or within the alarm's look-back after that
 *   deployment was rolled back or failed (endpoint metrics do not say which fleet served).
 * - retrain: the drift alarm, with drift.action = retrain, asks for a retrain of the champion's
 *   notebook unless one is in flight or the last one was asked for less than
 *   drift.retrainCooldown ago.
 */
import { formatDuration } from '#core/manifest/duration';
import type { PolicyAction } from '#core/service/contracts';
import { BURN_RATE_WINDOWS } from './names';
import { EVALUATION_PERIODS } from './rollback';
import { type AlarmRole, WINDOW_SECONDS } from './slo';

/** Who the audit trail names for what the alarm policy does. */
export const ALARM_ACTOR = 'nbops:alarm';
/** The approver of a rollback's redeploy ("Version Approved" with this approvedBy redeploys a DEPLOYED version). */
export const ROLLBACK_ACTOR = 'nbops:rollback';

/** The identity of one alarm state change: the same on every delivery of it, whatever the event id. */
export function incidentKey(alarmName: string, stateAt: string): string {
  return `${alarmName}@${stateAt}`;
}

export interface RollbackFacts {
  role: AlarmRole;
  /** When the alarm entered ALARM. */
  alarmAt: string;
  champion?: {
    version: number;
    status: string;
    /** When its last deployment started (entered DEPLOYING) and completed (entered DEPLOYED). */
    deployingAt?: string;
    deployedAt?: string;
    /** Who started that deployment: ROLLBACK_ACTOR when it was a rollback. */
    deployedBy?: string;
    rollbackWindowSeconds?: number;
  };
  /** The newest other DEPLOYED version: the last good one. */
  previous?: number;
  /**
   * The latest deployment of another version begun after the champion's: still running (no
   * endedAt), or ended at endedAt without taking production (SageMaker rolled it back, or it failed).
   */
  otherDeployment?: { version: number; startedAt: string; endedAt?: string; outcome?: string };
  /** How long after traffic stops this alarm can still be in ALARM because of it (alarmLookbackSeconds). */
  lookbackSeconds?: number;
}

/**
 * How long after some traffic a page alarm can still be in ALARM because of it: the latency alarm
 * judges the last 5 one-minute datapoints; the page composite needs both windows of a pair, and the
 * short one (5 or 30 minutes) forgets first.
 */
export function alarmLookbackSeconds(kind: string): number {
  if (kind === 'burn-page') return Math.max(...BURN_RATE_WINDOWS.page.map((w) => WINDOW_SECONDS[w.short]));
  return EVALUATION_PERIODS * 60;
}

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

export function decideRollback(f: RollbackFacts): PolicyAction {
  const none = (reason: string): PolicyAction => ({ action: 'none', reason });
  if (f.role !== 'page') return none('only page alarms roll back');
  const c = f.champion;
  if (!c) return none('no version is in production');
  if (c.status !== 'DEPLOYED') return none(`the production version v${c.version} is ${c.status}`);
  if (c.deployedBy === ROLLBACK_ACTOR)
    return none(
      `v${c.version} was itself restored by a rollback; nbops does not roll back twice in a row: investigate (the cause may not be the model)`,
    );
  const other = f.otherDeployment;
  if (other && seconds(other.startedAt, f.alarmAt) >= 0) {
    if (other.endedAt === undefined)
      return none(
        `the alarm fired while v${other.version} was being deployed: its canary takes part of the traffic, and SageMaker's auto-rollback judges it; v${c.version} is not rolled back`,
      );
    const after = seconds(other.endedAt, f.alarmAt);
    const lookback = f.lookbackSeconds ?? 0;
    if (after <= lookback)
      return none(
        `the alarm fired ${formatDuration(Math.max(0, Math.floor(after)))} after v${other.version}'s deployment ${other.outcome ?? 'ended'}, while its windows (${formatDuration(lookback)}) still count that deployment's traffic; v${c.version} is not rolled back (run \`nbops rollback\` if v${c.version} itself misbehaves)`,
      );
  }
  if (c.rollbackWindowSeconds === undefined || c.deployedAt === undefined)
    return none(`v${c.version} has no recorded deployment time or rollback window`);
  if (c.deployingAt !== undefined && seconds(c.deployingAt, f.alarmAt) < 0)
    return none(
      `the alarm fired before v${c.version}'s deployment started, so v${c.version} is not its cause`,
    );
  const since = seconds(c.deployedAt, f.alarmAt);
  const window = formatDuration(c.rollbackWindowSeconds);
  if (since > c.rollbackWindowSeconds)
    return none(
      `v${c.version} was deployed ${formatDuration(Math.floor(since))} before the alarm, outside its rollback window of ${window}`,
    );
  if (f.previous === undefined)
    return none(`there is no earlier version to roll back to (v${c.version} is the first)`);
  return {
    action: 'rollback',
    fromVersion: c.version,
    toVersion: f.previous,
    reason:
      since >= 0
        ? `the alarm fired ${formatDuration(Math.floor(since))} after v${c.version} was deployed, within its rollback window of ${window}`
        : `the alarm fired while v${c.version} was being deployed`,
  };
}

export interface RetrainFacts {
  kind: string;
  alarmAt: string;
  /** The champion and its manifest's drift policy. */
  champion?: { version: number; action?: 'alarm' | 'retrain'; cooldownSeconds?: number };
  /** A retrain not finished yet (its version, or its upload still on the way). */
  inFlight?: string;
  /** When the latest retrain of the model was asked for. */
  lastRequestedAt?: string;
}

export function decideRetrain(f: RetrainFacts): PolicyAction {
  const none = (reason: string): PolicyAction => ({ action: 'none', reason });
  if (f.kind !== 'drift') return none('only the drift alarm retrains');
  const c = f.champion;
  if (!c) return none('no version is in production');
  if (c.action !== 'retrain') return none('the drift policy is alarm only (drift.action: alarm)');
  if (f.inFlight) return none(`a retrain is already in flight (${f.inFlight})`);
  const cooldown = c.cooldownSeconds ?? 0;
  if (f.lastRequestedAt !== undefined) {
    const since = seconds(f.lastRequestedAt, f.alarmAt);
    if (since < cooldown)
      return none(
        `the last retrain was asked for ${formatDuration(Math.max(0, Math.floor(since)))} before this alarm; the cooldown is ${formatDuration(cooldown)}`,
      );
  }
  return {
    action: 'retrain',
    version: c.version,
    reason: `dataset drift on v${c.version}; drift.action is retrain`,
  };
}
