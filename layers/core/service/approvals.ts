/**
 * Approvals: a person (ops API, CLI) or the auto-approval policy decides whether a version that
 * passed its gates goes to production. The registry records who decided and why; an approval
 * publishes "Version Approved", which the deploy handler reacts to.
 */
import type { Services } from '#core/ports';
import { IllegalTransitionError, SelfApprovalError } from '#core/registry/errors';
import type { VersionRecord } from '#core/registry/types';
import { NBOPS_EVENTS } from '#core/wiring';
import { ACTORS } from './context';
import type { ApprovalOutcome, ApprovalRequest } from './contracts';
import { ApprovalRefusedError } from './errors';

/** An ARN of an assumed role: `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
const ASSUMED_ROLE = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/i;
/** A role ARN, with optional path: `arn:aws:iam::<account>:role/<path/><role>`. */
const ROLE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/i;

/**
 * Whether `actor` is one of `approvers`. Identities compare without case (as the registry's
 * self-approval rule does). A caller that assumed a listed role (the ops API sees
 * `arn:aws:sts::123456789012:assumed-role/ml-release/alice`) counts as that role
 * (`arn:aws:iam::123456789012:role/ml-release`, with or without a path).
 */
export function isApprover(actor: string, approvers: readonly string[]): boolean {
  const who = actor.trim().toLowerCase();
  const assumed = ASSUMED_ROLE.exec(actor.trim());
  return approvers.some((approver) => {
    if (approver.trim().toLowerCase() === who) return true;
    const role = ROLE.exec(approver.trim());
    return (
      assumed !== null &&
      role !== null &&
      role[1] === assumed[1] &&
      role[2]!.toLowerCase() === assumed[2]!.toLowerCase()
    );
  });
}

/**
 * Publishes "Version Approved" (schemas/events/version-approved.schema.json), the deploy handler's
 * trigger. Safe to repeat: deploying is idempotent.
 */
export async function publishApproved(services: Services, record: VersionRecord, approvedBy: string) {
  const detail: Record<string, unknown> = { model: record.model, version: record.version, approvedBy };
  if (record.approval?.reason) detail.reason = record.approval.reason;
  await services.events.publish(NBOPS_EVENTS.versionApproved, detail);
}

/**
 * Approve or decline a version waiting for approval. Refusals are typed (ApprovalRefusedError with
 * a code): unknown version, wrong state, self-approval, not an approver, incomplete request. A
 * retried request (same requestId) returns the recorded decision with changed = false.
 */
export async function decideApproval(services: Services, request: ApprovalRequest): Promise<ApprovalOutcome> {
  const actor = request.actor?.trim() ?? '';
  if (!actor)
    throw new ApprovalRefusedError(
      'INVALID_REQUEST',
      'the request names no approver identity: sign the request',
    );
  if (!request.reason?.trim())
    throw new ApprovalRefusedError(
      'INVALID_REQUEST',
      `give a reason for the decision on version ${request.version} of ${request.model} (it is kept in the audit trail)`,
    );
  if (actor.toLowerCase().startsWith('nbops:'))
    throw new ApprovalRefusedError(
      'INVALID_REQUEST',
      `identities starting with "nbops:" are reserved for nbops itself; approve as yourself`,
    );

  const record = await services.registry.getVersion(request.model, request.version);
  if (!record)
    throw new ApprovalRefusedError(
      'UNKNOWN_VERSION',
      `version ${request.version} of ${request.model} is not registered: list versions with \`nbops versions ${request.model}\``,
    );

  const outcome = (changed: boolean): ApprovalOutcome => ({
    kind: request.decision === 'approve' ? 'approved' : 'declined',
    model: record.model,
    version: record.version,
    decidedBy: actor,
    changed,
  });
  // A retried request whose decision is already recorded.
  if (record.approval?.sourceEventId === request.requestId) {
    if (request.decision === 'approve' && record.status === 'APPROVED')
      await publishApproved(services, record, actor);
    return outcome(false);
  }
  if (record.status !== 'PENDING_APPROVAL')
    throw new ApprovalRefusedError(
      'WRONG_STATE',
      `version ${record.version} of ${record.model} is ${record.status}, not PENDING_APPROVAL${record.approval ? ` (${record.approval.decision === 'approve' ? 'approved' : 'declined'} by ${record.approval.approver})` : ''}: only versions that passed their gates and wait for a decision can be approved or declined`,
    );

  const policy = services.config.policy.approval ?? {};
  // Checked before the approvers list: "you uploaded it" is the refusal that tells the caller what to do.
  if (!policy.allowSelfApproval && actor.toLowerCase() === record.uploader.trim().toLowerCase())
    throw selfApprovalRefused(actor, record);
  const approvers = policy.approvers ?? [];
  if (approvers.length > 0 && !isApprover(actor, approvers))
    throw new ApprovalRefusedError(
      'NOT_APPROVER',
      `${actor} is not an approver: the platform policy (approval.approvers) lists ${approvers.join(', ')}; ask one of them`,
    );

  let result: Awaited<ReturnType<Services['registry']['recordApproval']>>;
  try {
    result = await services.registry.recordApproval(record.model, record.version, {
      approver: actor,
      decision: request.decision,
      reason: request.reason,
      sourceEventId: request.requestId,
      at: request.at,
      allowSelfApproval: policy.allowSelfApproval ?? false,
    });
  } catch (err) {
    if (err instanceof SelfApprovalError) throw selfApprovalRefused(actor, record);
    if (err instanceof IllegalTransitionError)
      throw new ApprovalRefusedError(
        'WRONG_STATE',
        `version ${record.version} of ${record.model} was decided by another request meanwhile (it is ${err.from}); re-read the version before deciding again`,
      );
    throw err;
  }
  if (request.decision === 'approve' && result.record.status === 'APPROVED')
    await publishApproved(services, result.record, actor);
  if (result.changed)
    await services.notifier.notify({
      severity: 'info',
      subject: `nbops: ${record.model} v${record.version} ${request.decision === 'approve' ? 'approved' : 'declined'} by ${actor}`,
      message: `${actor} ${request.decision === 'approve' ? 'approved' : 'declined'} version ${record.version} of ${record.model}: ${request.reason}`,
      model: record.model,
      version: record.version,
    });
  return outcome(result.changed);
}

function selfApprovalRefused(actor: string, record: VersionRecord): ApprovalRefusedError {
  return new ApprovalRefusedError(
    'SELF_APPROVAL',
    `${actor} uploaded version ${record.version} of ${record.model} and may not approve it: ask another approver (the platform policy does not allow self-approval)`,
  );
}

/** Approval by the auto policy (manifest deployment.approval = auto, not forced manual by policy). */
export async function autoApprove(
  services: Services,
  record: VersionRecord,
  sourceEventId: string,
  at: string,
): Promise<VersionRecord> {
  const result = await services.registry.recordApproval(record.model, record.version, {
    approver: ACTORS.autoApproval,
    decision: 'approve',
    reason:
      'the manifest asks for automatic approval (deployment.approval: auto) and the version passed its quality gates',
    sourceEventId,
    at,
    allowSelfApproval: true,
  });
  return result.record;
}
