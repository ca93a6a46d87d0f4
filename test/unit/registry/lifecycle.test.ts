import { describe, expect, it } from 'vitest';
import {
  ALIAS_TARGET_STATUSES,
  allowedNext,
  canTransition,
  IN_FLIGHT_STATUSES,
  isStatus,
  isTerminal,
  STATUSES,
  type Status,
  TRANSITIONS,
} from '#core/registry/lifecycle';

function reachableFrom(start: Status): Set<Status> {
  const seen = new Set<Status>([start]);
  const queue = [start];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const to of TRANSITIONS[next]) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

describe('the version lifecycle table', () => {
  it('has an entry for every status and only known statuses as targets, without self-loops', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...STATUSES].sort());
    for (const [from, targets] of Object.entries(TRANSITIONS)) {
      for (const to of targets) expect(isStatus(to), `${from} -> ${to}`).toBe(true);
      expect(targets).not.toContain(from);
      expect(new Set(targets).size).toBe(targets.length);
    }
  });

  it('follows the designed happy path from upload to production', () => {
    const path: Status[] = [
      'RECEIVED',
      'VALIDATED',
      'TRAINING',
      'TRAINED',
      'GATES_PASSED',
      'PENDING_APPROVAL',
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
    ];
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
    // The auto-approval policy skips the human step.
    expect(canTransition('GATES_PASSED', 'APPROVED')).toBe(true);
  });

  it('has the failure exits the design names', () => {
    expect(allowedNext('RECEIVED')).toEqual(['VALIDATED', 'REJECTED']);
    expect(allowedNext('TRAINING')).toEqual(['TRAINED', 'TRAINING_FAILED']);
    expect(allowedNext('TRAINED')).toEqual(['GATES_PASSED', 'GATES_FAILED', 'RETIRED']);
    expect(allowedNext('PENDING_APPROVAL')).toEqual(['APPROVED', 'DECLINED', 'RETIRED']);
    expect(allowedNext('DEPLOYING')).toEqual(['DEPLOYED', 'DEPLOY_FAILED', 'ROLLED_BACK']);
    expect(allowedNext('DEPLOYED')).toEqual(['DEPLOYING', 'ROLLED_BACK', 'RETIRED']);
  });

  it('reaches every status from RECEIVED, and RETIRED from every status', () => {
    expect([...reachableFrom('RECEIVED')].sort()).toEqual([...STATUSES].sort());
    for (const status of STATUSES) expect(reachableFrom(status).has('RETIRED'), status).toBe(true);
  });

  it('has RETIRED as the only final state', () => {
    expect(STATUSES.filter(isTerminal)).toEqual(['RETIRED']);
  });

  it('never retires work that is still running or not yet validated', () => {
    for (const status of [...IN_FLIGHT_STATUSES, 'RECEIVED'] as Status[]) {
      expect(canTransition(status, 'RETIRED'), status).toBe(false);
    }
  });

  it('refuses moves that skip steps or go backwards', () => {
    expect(canTransition('RECEIVED', 'TRAINING')).toBe(false);
    expect(canTransition('TRAINED', 'DEPLOYED')).toBe(false);
    expect(canTransition('DEPLOYED', 'APPROVED')).toBe(false);
    expect(canTransition('RETIRED', 'DEPLOYED')).toBe(false);
    expect(canTransition('DECLINED', 'APPROVED')).toBe(false);
  });

  it('lets aliases point only at versions in fitting states', () => {
    expect(ALIAS_TARGET_STATUSES.champion).toEqual(['DEPLOYED']);
    for (const status of ALIAS_TARGET_STATUSES.challenger)
      expect(reachableFrom('GATES_PASSED').has(status)).toBe(true);
  });

  it('recognises statuses', () => {
    expect(isStatus('DEPLOYED')).toBe(true);
    expect(isStatus('deployed')).toBe(false);
    expect(isStatus(undefined)).toBe(false);
  });
});
