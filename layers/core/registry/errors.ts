// Typed registry errors. `code` is for programs (CLI exit codes, handler decisions); `message` is for
// people: it names the version, the rule and what to do instead.
import type { Status } from './lifecycle';
import type { AliasName, FactName } from './types';

export type RegistryErrorCode =
  | 'ILLEGAL_TRANSITION'
  | 'SELF_APPROVAL'
  | 'IMMUTABLE_FACT'
  | 'FACT_TOO_LARGE'
  | 'NOT_FOUND'
  | 'ALIAS_CONFLICT'
  | 'ILLEGAL_ALIAS'
  | 'CONTENTION';

export abstract class RegistryError extends Error {
  abstract readonly code: RegistryErrorCode;
}

export class IllegalTransitionError extends RegistryError {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly model: string,
    readonly version: number,
    readonly from: Status,
    readonly to: Status,
    readonly allowed: readonly Status[],
    /** Why the move was refused when the lifecycle alone would allow it. */
    readonly refusal?:
      | { kind: 'expected-from'; expectedFrom: readonly Status[] }
      | { kind: 'approval-required' },
  ) {
    super(illegalTransitionMessage(model, version, from, to, allowed, refusal));
    this.name = 'IllegalTransitionError';
  }
}

function illegalTransitionMessage(
  model: string,
  version: number,
  from: Status,
  to: Status,
  allowed: readonly Status[],
  refusal: IllegalTransitionError['refusal'],
): string {
  const head = `version ${version} of ${model} is ${from}; cannot move to ${to}`;
  if (refusal?.kind === 'expected-from') {
    return `${head} from there (this step expects ${refusal.expectedFrom.join(' or ')})`;
  }
  if (refusal?.kind === 'approval-required') {
    return `${head} without an approver: record the decision with recordApproval (\`nbops approve|reject ${model} ${version}\`)`;
  }
  return `${head} (allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none, it is final'})`;
}

export class SelfApprovalError extends RegistryError {
  readonly code = 'SELF_APPROVAL';
  constructor(
    readonly model: string,
    readonly version: number,
    readonly approver: string,
  ) {
    super(
      `${approver} uploaded version ${version} of ${model} and may not approve it: ` +
        'ask another approver, or allow self-approval in the platform policy',
    );
    this.name = 'SelfApprovalError';
  }
}

export class ImmutableFactError extends RegistryError {
  readonly code = 'IMMUTABLE_FACT';
  constructor(
    readonly model: string,
    readonly version: number,
    readonly fact: FactName,
  ) {
    super(
      `fact "${fact}" of version ${version} of ${model} is already recorded with a different value; ` +
        'facts are immutable: upload a new version instead of changing this one',
    );
    this.name = 'ImmutableFactError';
  }
}

export class FactTooLargeError extends RegistryError {
  readonly code = 'FACT_TOO_LARGE';
  constructor(
    readonly model: string,
    readonly version: number,
    readonly fact: FactName,
    readonly itemBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `version ${version} of ${model} would grow to ${itemBytes} bytes (limit ${limitBytes}), ` +
        `largest fact "${fact}": store it in S3 and record its URI instead`,
    );
    this.name = 'FactTooLargeError';
  }
}

export class NotFoundError extends RegistryError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly model: string,
    readonly version?: number,
  ) {
    super(
      version === undefined
        ? `model ${model} is not registered: upload its notebook first`
        : `version ${version} of ${model} is not registered: list versions with \`nbops versions ${model}\``,
    );
    this.name = 'NotFoundError';
  }
}

export class AliasConflictError extends RegistryError {
  readonly code = 'ALIAS_CONFLICT';
  constructor(
    readonly model: string,
    readonly alias: AliasName,
    readonly expected: number | null,
    readonly actual: number | undefined,
  ) {
    super(
      `${alias} of ${model} points to ${actual === undefined ? 'nothing' : `version ${actual}`}, ` +
        `not ${expected === null ? 'nothing' : `version ${expected}`} as expected: someone moved it; ` +
        're-read the model and decide again',
    );
    this.name = 'AliasConflictError';
  }
}

export class IllegalAliasError extends RegistryError {
  readonly code = 'ILLEGAL_ALIAS';
  constructor(
    readonly model: string,
    readonly alias: AliasName,
    readonly version: number,
    readonly status: Status,
    readonly required: readonly Status[],
  ) {
    super(
      `version ${version} of ${model} is ${status}; ${alias} must point to a version that is ` +
        `${required.join(' or ')}: deploy it first`,
    );
    this.name = 'IllegalAliasError';
  }
}

/** Optimistic retries ran out: something keeps changing the item. Retrying the event later is safe. */
export class ContentionError extends RegistryError {
  readonly code = 'CONTENTION';
  constructor(
    readonly model: string,
    readonly operation: string,
    readonly attempts: number,
  ) {
    super(`${operation} on ${model} lost ${attempts} races in a row: retry the event later`);
    this.name = 'ContentionError';
  }
}

export function isRegistryError(error: unknown): error is RegistryError {
  return error instanceof RegistryError;
}
