/**
 * nbops's own events on the bus (`source: nbops`, detail-types in core/wiring.ts NBOPS_EVENTS).
 * Their detail shapes are defined here and, for tools outside TypeScript, in
 * schemas/events/*.schema.json; a test keeps the two in agreement.
 */
import type { VersionApproved } from '../service/contracts';
import { NBOPS_EVENT_SOURCE, NBOPS_EVENTS } from '../wiring';
import { type FieldReader, readEnvelope } from './parse';

/** `detail` of a "Version Approved" event (schemas/events/version-approved.schema.json). */
export interface VersionApprovedDetail {
  model: string;
  version: number;
  /** Who approved: an IAM principal ARN, a user name, or `nbops:auto-approval` for automatic approval. */
  approvedBy: string;
  reason?: string;
}

/** `detail` of a "Retrain Requested" event (schemas/events/retrain-requested.schema.json). */
export interface RetrainRequestedDetail {
  model: string;
  /** The version whose notebook to train again; absent = the current champion. */
  version?: number;
  /** Who or what asked: an operator's identity, or `drift`/`alarm:<name>` for automatic requests. */
  requestedBy: string;
  reason: string;
}

/** A "Retrain Requested" event as the submit handler receives it. */
export interface RetrainRequested extends RetrainRequestedDetail {
  eventId: string;
  eventTime: string;
}

export function parseVersionApproved(event: unknown): VersionApproved {
  const envelope = readEnvelope(event, NBOPS_EVENTS.versionApproved, NBOPS_EVENT_SOURCE, [
    NBOPS_EVENTS.versionApproved,
  ]);
  const detail = envelope.detail;
  return {
    model: detail.string('model'),
    version: versionNumber(detail, 'version'),
    approvedBy: detail.string('approvedBy'),
    eventId: envelope.id,
    eventTime: envelope.time,
  };
}

export function parseRetrainRequested(event: unknown): RetrainRequested {
  const envelope = readEnvelope(event, NBOPS_EVENTS.retrainRequested, NBOPS_EVENT_SOURCE, [
    NBOPS_EVENTS.retrainRequested,
  ]);
  const detail = envelope.detail;
  const request: RetrainRequested = {
    model: detail.string('model'),
    requestedBy: detail.string('requestedBy'),
    reason: detail.string('reason'),
    eventId: envelope.id,
    eventTime: envelope.time,
  };
  if (detail.value.version !== undefined && detail.value.version !== null)
    request.version = versionNumber(detail, 'version');
  return request;
}

/** True for an nbops "Retrain Requested" event (the submit handler also receives those). */
export function isRetrainRequested(event: unknown): boolean {
  const e = event as Record<string, unknown> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.source === NBOPS_EVENT_SOURCE &&
    e['detail-type'] === NBOPS_EVENTS.retrainRequested
  );
}

function versionNumber(detail: FieldReader, key: string): number {
  const v = detail.value[key];
  if (v === undefined || v === null) detail.fail(key, 'is missing');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    detail.fail(key, `must be a whole number >= 1, got ${JSON.stringify(v)}`);
  return v;
}
