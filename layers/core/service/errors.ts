/**
 * Errors the use cases throw on purpose. Handlers let RetryLaterError propagate (the event is
 * delivered again: EventBridge/Lambda async retries, or the local host's retry), and turn
 * ApprovalRefusedError into a refusal the caller can act on (`code` is machine-readable).
 */

/**
 * The event cannot be handled yet, but will be later: another delivery is in the middle of the
 * same step, the registry has not caught up with SageMaker, or the endpoint is busy. Safe to
 * retry: every use case resumes from the registry's state.
 */
export class RetryLaterError extends Error {
  readonly code = 'RETRY_LATER';
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

export type ApprovalRefusalCode =
  /** The version is not waiting for approval (or was decided by another request). */
  | 'WRONG_STATE'
  /** The approver uploaded the version and the policy does not allow self-approval. */
  | 'SELF_APPROVAL'
  /** policy.approval.approvers does not list the caller. */
  | 'NOT_APPROVER'
  /** No such model or version. */
  | 'UNKNOWN_VERSION'
  /** The request itself is incomplete (no identity, no reason). */
  | 'INVALID_REQUEST';

/** An approve/decline request nbops refuses; the message says why and what to do instead. */
export class ApprovalRefusedError extends Error {
  constructor(
    readonly code: ApprovalRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalRefusedError';
  }
}

export function isRetryLater(error: unknown): error is RetryLaterError {
  return error instanceof RetryLaterError;
}
