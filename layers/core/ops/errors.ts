/**
 * Why an operation is refused, for programs (`code`, the HTTP status the ops API answers with, the
 * CLI's exit code) and for people (`message`: what is wrong and what to do instead).
 */
import {
  ContentionError,
  IllegalTransitionError,
  NotFoundError,
  SelfApprovalError,
} from '#core/registry/errors';
import { ApprovalRefusedError, RetryLaterError } from '#core/service/errors';

export const OPS_ERROR_STATUS = {
  /** The request is malformed: a missing reason, an unknown status, a bad version number, bad JSON. */
  INVALID_REQUEST: 400,
  /** The request carries no caller identity (the Function URL was not called with IAM auth). */
  NO_IDENTITY: 403,
  /** The caller uploaded the version and the policy does not allow self-approval. */
  SELF_APPROVAL: 403,
  /** policy.approval.approvers does not list the caller. */
  NOT_APPROVER: 403,
  UNKNOWN_MODEL: 404,
  UNKNOWN_VERSION: 404,
  /** No such path (or the path exists with another method: METHOD_NOT_ALLOWED). */
  UNKNOWN_ROUTE: 404,
  METHOD_NOT_ALLOWED: 405,
  /** The version or model is not in a state that allows the operation. */
  WRONG_STATE: 409,
  /** A rollback without a version to roll back to (no other version is still DEPLOYED). */
  NO_ROLLBACK_TARGET: 409,
  /** A retrain of the model is already in flight (or the retrain request was refused). */
  RETRAIN_IN_FLIGHT: 409,
  /** Work runs on the model (a version is TRAINING or DEPLOYING): retry once it has finished. */
  IN_FLIGHT: 409,
  /** A rollback alarm is in ALARM: a deployment approved now would be rolled back at once. */
  ALARM_FIRING: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** Something is busy (a concurrent change, throttling): the same request can be retried. */
  RETRY_LATER: 503,
} as const;

export type OpsErrorCode = keyof typeof OPS_ERROR_STATUS;

export class OpsError extends Error {
  readonly status: number;
  constructor(
    readonly code: OpsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpsError';
    this.status = OPS_ERROR_STATUS[code];
  }
}

export function isOpsError(error: unknown): error is OpsError {
  return error instanceof OpsError;
}

/**
 * The refusals the use cases and the registry raise on purpose, as OpsErrors; undefined for
 * anything else (a failure, which the API answers with a 5xx that never shows its details).
 */
export function asOpsError(error: unknown): OpsError | undefined {
  if (error instanceof OpsError) return error;
  if (error instanceof ApprovalRefusedError) return new OpsError(error.code, error.message);
  if (error instanceof SelfApprovalError) return new OpsError('SELF_APPROVAL', error.message);
  if (error instanceof NotFoundError)
    return new OpsError(error.version === undefined ? 'UNKNOWN_MODEL' : 'UNKNOWN_VERSION', error.message);
  if (error instanceof IllegalTransitionError) return new OpsError('WRONG_STATE', error.message);
  if (error instanceof ContentionError || error instanceof RetryLaterError)
    return new OpsError('RETRY_LATER', `${error.message} (the same request can be sent again)`);
  return undefined;
}
