// The version lifecycle as data. The registry moves a version's status only along these edges,
// with a conditional update, so a late or duplicated event can never move a version backwards.

export const STATUSES = [
  'RECEIVED',
  'VALIDATED',
  'REJECTED',
  'TRAINING',
  'TRAINED',
  'TRAINING_FAILED',
  'GATES_PASSED',
  'GATES_FAILED',
  'PENDING_APPROVAL',
  'APPROVED',
  'DECLINED',
  'DEPLOYING',
  'DEPLOYED',
  'DEPLOY_FAILED',
  'ROLLED_BACK',
  'RETIRED',
] as const;

export type Status = (typeof STATUSES)[number];

/**
 * Allowed next states for each state.
 *
 * Decisions beyond the happy path (docs/registry.md explains them):
 * - DEPLOYED -> DEPLOYING: a redeploy. A version that was in production stays DEPLOYED when a newer
 *   one replaces it (the champion alias says which one serves), so "roll back to the last good
 *   version" redeploys that DEPLOYED version.
 * - Every resting state (not RECEIVED, not in flight) may be RETIRED by an operator. RECEIVED must be
 *   validated first; TRAINING and DEPLOYING must finish or fail first (the stuck-version sweep moves
 *   them to TRAINING_FAILED / DEPLOY_FAILED once past their maximum runtime).
 * - RETIRED is terminal. Failed versions are not retried in place: facts are immutable and resource
 *   names deterministic, so a retry is a new upload (a new version).
 */
export const TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  RECEIVED: ['VALIDATED', 'REJECTED'],
  VALIDATED: ['TRAINING', 'RETIRED'],
  REJECTED: ['RETIRED'],
  TRAINING: ['TRAINED', 'TRAINING_FAILED'],
  TRAINED: ['GATES_PASSED', 'GATES_FAILED', 'RETIRED'],
  TRAINING_FAILED: ['RETIRED'],
  GATES_PASSED: ['PENDING_APPROVAL', 'APPROVED', 'RETIRED'],
  GATES_FAILED: ['RETIRED'],
  PENDING_APPROVAL: ['APPROVED', 'DECLINED', 'RETIRED'],
  APPROVED: ['DEPLOYING', 'RETIRED'],
  DECLINED: ['RETIRED'],
  DEPLOYING: ['DEPLOYED', 'DEPLOY_FAILED', 'ROLLED_BACK'],
  DEPLOYED: ['DEPLOYING', 'ROLLED_BACK', 'RETIRED'],
  DEPLOY_FAILED: ['RETIRED'],
  ROLLED_BACK: ['RETIRED'],
  RETIRED: [],
};

/** States in which work runs outside the registry (a training job, an endpoint update). */
export const IN_FLIGHT_STATUSES: readonly Status[] = ['TRAINING', 'DEPLOYING'];

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

export function allowedNext(from: Status): readonly Status[] {
  return TRANSITIONS[from];
}

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: Status): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Which states an alias may point to: the champion is what serves production. */
export const ALIAS_TARGET_STATUSES = {
  champion: ['DEPLOYED'],
  challenger: ['GATES_PASSED', 'PENDING_APPROVAL', 'APPROVED', 'DEPLOYING', 'DEPLOYED'],
} as const satisfies Record<'champion' | 'challenger', readonly Status[]>;
