// The alarm policy's decisions, and the notification an on-call engineer reads.
import { describe, expect, it } from 'vitest';
import { alarmNotification, breachLines } from '#core/alarms/message';
import {
  alarmLookbackSeconds,
  decideRetrain,
  decideRollback,
  incidentKey,
  ROLLBACK_ACTOR,
  type RollbackFacts,
} from '#core/alarms/policy';
import type { AlarmStateChange } from '#core/service/contracts';

const deployed = (over: Partial<NonNullable<RollbackFacts['champion']>> = {}) => ({
  version: 7,
  status: 'DEPLOYED',
  deployingAt: '2025-03-01T10:00:00.000Z',
  deployedAt: '2025-03-01T10:20:00.000Z',
  deployedBy: 'nbops:deploy',
  rollbackWindowSeconds: 3600,
  ...over,
});

describe('rollback decision', () => {
  const page = (alarmAt: string, champion = deployed(), previous: number | null = 6): RollbackFacts => ({
    role: 'page',
    alarmAt,
    champion,
    ...(previous !== null ? { previous } : {}),
  });

  it('rolls back to the last good version within the window after the deployment', () => {
    expect(decideRollback(page('2025-03-01T10:35:00.000Z'))).toEqual({
      action: 'rollback',
      fromVersion: 7,
      toVersion: 6,
      reason: 'the alarm fired 15m after v7 was deployed, within its rollback window of 1h',
    });
    // While the deployment was still going (a composite is not watched by SageMaker's rollback).
    expect(decideRollback(page('2025-03-01T10:10:00.000Z'))).toMatchObject({
      action: 'rollback',
      reason: 'the alarm fired while v7 was being deployed',
    });
    // At the very end of the window.
    expect(decideRollback(page('2025-03-01T11:20:00.000Z')).action).toBe('rollback');
  });

  it('does not roll back outside the window, before the deployment, or without a previous version', () => {
    expect(decideRollback(page('2025-03-01T11:20:01.000Z'))).toEqual({
      action: 'none',
      reason: 'v7 was deployed 1h1s before the alarm, outside its rollback window of 1h',
    });
    expect(decideRollback(page('2025-03-01T09:59:00.000Z')).action).toBe('none');
    expect(decideRollback(page('2025-03-01T10:35:00.000Z', deployed(), null))).toEqual({
      action: 'none',
      reason: 'there is no earlier version to roll back to (v7 is the first)',
    });
  });

  it('never rolls back a version a rollback restored, nor for ticket alarms, nor without a deployed champion', () => {
    expect(
      decideRollback(page('2025-03-01T10:35:00.000Z', deployed({ deployedBy: ROLLBACK_ACTOR }))).reason,
    ).toContain('itself restored by a rollback');
    expect(decideRollback({ ...page('2025-03-01T10:35:00.000Z'), role: 'ticket' }).action).toBe('none');
    expect(decideRollback(page('2025-03-01T10:35:00.000Z', deployed({ status: 'ROLLED_BACK' }))).reason).toBe(
      'the production version v7 is ROLLED_BACK',
    );
    expect(decideRollback({ role: 'page', alarmAt: '2025-03-01T10:35:00.000Z' }).reason).toBe(
      'no version is in production',
    );
  });
});

describe('rollback decision while another version deploys', () => {
  // v7 is fresh in production (deployed 10:20, window 1h); v8's canary starts at 10:40.
  const facts = (
    alarmAt: string,
    other: RollbackFacts['otherDeployment'],
    lookbackSeconds = 1800,
  ): RollbackFacts => ({
    role: 'page',
    alarmAt,
    champion: deployed(),
    previous: 6,
    lookbackSeconds,
    ...(other ? { otherDeployment: other } : {}),
  });
  const running = { version: 8, startedAt: '2025-03-01T10:40:00.000Z' };
  const rolledBack = { ...running, endedAt: '2025-03-01T10:45:00.000Z', outcome: 'was rolled back' };

  it('does not roll the champion back for an alarm that may count the canary', () => {
    expect(decideRollback(facts('2025-03-01T10:45:00.000Z', running))).toEqual({
      action: 'none',
      reason:
        "the alarm fired while v8 was being deployed: its canary takes part of the traffic, and SageMaker's auto-rollback judges it; v7 is not rolled back",
    });
    expect(decideRollback(facts('2025-03-01T11:05:00.000Z', rolledBack))).toEqual({
      action: 'none',
      reason:
        "the alarm fired 20m after v8's deployment was rolled back, while its windows (30m) still count that deployment's traffic; v7 is not rolled back (run `nbops rollback` if v7 itself misbehaves)",
    });
    expect(decideRollback(facts('2025-03-01T11:15:00.000Z', rolledBack)).action).toBe('none');
  });

  it('rolls back as usual once the look-back has passed, or for an alarm before the canary began', () => {
    expect(decideRollback(facts('2025-03-01T11:15:01.000Z', rolledBack))).toMatchObject({
      action: 'rollback',
      fromVersion: 7,
      toVersion: 6,
    });
    // The latency alarm looks back 5 minutes only.
    expect(
      decideRollback(facts('2025-03-01T10:50:01.000Z', rolledBack, alarmLookbackSeconds('latency'))).action,
    ).toBe('rollback');
    expect(decideRollback(facts('2025-03-01T10:39:00.000Z', running)).action).toBe('rollback');
  });

  it('looks back as far as the alarm can remember: 5 minutes for latency, 30 for the page composite', () => {
    expect(alarmLookbackSeconds('latency')).toBe(300);
    expect(alarmLookbackSeconds('burn-page')).toBe(1800);
  });
});

describe('retrain decision', () => {
  const drift = (over: Partial<Parameters<typeof decideRetrain>[0]> = {}) =>
    decideRetrain({
      kind: 'drift',
      alarmAt: '2025-03-02T10:00:00.000Z',
      champion: { version: 3, action: 'retrain', cooldownSeconds: 86_400 },
      ...over,
    });

  it('asks for a retrain of the champion when the policy says so', () => {
    expect(drift()).toEqual({
      action: 'retrain',
      version: 3,
      reason: 'dataset drift on v3; drift.action is retrain',
    });
    expect(drift({ lastRequestedAt: '2025-03-01T09:59:59.000Z' }).action).toBe('retrain');
  });

  it('waits out the cooldown and never starts a second retrain while one is in flight', () => {
    expect(drift({ lastRequestedAt: '2025-03-01T10:00:01.000Z' })).toEqual({
      action: 'none',
      reason: 'the last retrain was asked for 23h59m59s before this alarm; the cooldown is 1d',
    });
    expect(drift({ inFlight: 'v4 is TRAINING' })).toEqual({
      action: 'none',
      reason: 'a retrain is already in flight (v4 is TRAINING)',
    });
  });

  it('does nothing for the alarm-only policy, other alarms, or no champion', () => {
    expect(drift({ champion: { version: 3, action: 'alarm' } }).reason).toContain('alarm only');
    expect(drift({ kind: 'latency' }).action).toBe('none');
    expect(drift({ champion: undefined }).reason).toBe('no version is in production');
  });
});

describe('incident identity', () => {
  it('is the alarm and the state time, whatever the delivery', () => {
    expect(incidentKey('nbops-churn-latency', '2025-03-01T10:00:00.000Z')).toBe(
      'nbops-churn-latency@2025-03-01T10:00:00.000Z',
    );
  });
});

describe('the notification', () => {
  const change = (over: Partial<AlarmStateChange> = {}): AlarmStateChange => ({
    alarmName: 'nbops-churn-latency',
    state: 'ALARM',
    stateAt: '2025-03-01T10:35:00.000Z',
    reason: 'Threshold Crossed: 3 out of the last 5 datapoints were greater than the threshold (200000.0).',
    reasonData: { statistic: 'p99', recentDatapoints: [250_000, 312_345.6], threshold: 200_000 },
    composite: false,
    eventId: 'e',
    eventTime: '2025-03-01T10:35:01.000Z',
    ...over,
  });

  it('says what breached with numbers, the deployment, the action and the runbook', () => {
    const n = alarmNotification({
      model: 'churn',
      endpoint: 'churn',
      kind: 'latency',
      role: 'page',
      change: change(),
      champion: {
        version: 7,
        deployedAt: '2025-03-01T10:20:00.000Z',
        approvedBy: 'lead@example.com',
        previous: 6,
      },
      definitions: new Map(),
      runbook: 'https://wiki.example.com/ml/churn/runbook',
      policy: { action: 'rollback', fromVersion: 7, toVersion: 6, reason: 'within the window' },
    });
    expect(n).toMatchObject({ severity: 'page', model: 'churn', version: 7 });
    expect(n.subject).toBe('nbops PAGE: churn v7 latency above its objective');
    expect(n.message.split('\n')).toEqual([
      'Alarm nbops-churn-latency is ALARM since 2025-03-01T10:35:00.000Z.',
      'Model churn, endpoint churn, version in production: v7.',
      'Model latency (p99) was 250 ms, 312.3 ms; the objective is 200 ms.',
      'CloudWatch: Threshold Crossed: 3 out of the last 5 datapoints were greater than the threshold (200000.0).',
      '',
      'Recent deployment: v7 deployed 2025-03-01T10:20:00.000Z, approved by lead@example.com; it replaced v6.',
      'nbops is rolling back: v7 -> v6 (within the window).',
      'Runbook: https://wiki.example.com/ml/churn/runbook',
    ]);
  });

  it('names the burn-rate windows that fired with their thresholds, and copes without reasonData', () => {
    const lines = breachLines({
      model: 'churn',
      endpoint: 'churn',
      kind: 'burn-page',
      role: 'page',
      change: change({
        alarmName: 'nbops-churn-burn-page',
        composite: true,
        reason: '',
        reasonData: {
          triggeringAlarms: [
            { arn: 'arn:aws:cloudwatch:us-east-1:1:alarm:nbops-churn-errors-6h', state: { value: 'ALARM' } },
          ],
        },
      }),
      definitions: new Map([['nbops-churn-errors-6h', { threshold: 0.03 }]]),
      policy: { action: 'none', reason: 'x' },
    });
    expect(lines).toContain('  - nbops-churn-errors-6h: threshold 3%');
    const bare = breachLines({
      model: 'churn',
      endpoint: 'churn',
      kind: 'latency',
      role: 'page',
      change: change({ reasonData: undefined, reason: '' }),
      definitions: new Map(),
      policy: { action: 'none', reason: 'x' },
    });
    expect(bare).toEqual(['Model latency was above the objective.']);
  });
});
