/**
 * S3 "object created" events in both shapes AWS delivers, turned into NotebookUpload inputs.
 *
 * - EventBridge (`source: aws.s3`, `detail-type: Object Created`, kebab-case fields such as
 *   `version-id`). The key is used as sent, NOT URL-decoded: AWS documents URL encoding only for
 *   the classic notification format, EventBridge events are JSON where a key needs no escaping,
 *   and the emulators that model both formats apart (moto) send the raw key to EventBridge while
 *   form-encoding it in classic records. See docs/events.md for the evidence and how to check it.
 * - Classic notification records (`Records[]`, sent straight to Lambda/SQS/SNS and by s3rver):
 *   `eventVersion` 2.x (major compared, minor free), `eventName` without the `s3:` prefix, and the
 *   key URL-encoded form style (space as `+`), decoded here.
 *
 * Only ObjectCreated:* records produce uploads; other records (ObjectRemoved, ...) are skipped.
 */
import { createHash } from 'node:crypto';
import { unquoteEtag } from '#core/ports';
import type { NotebookUpload } from '../service/contracts';
import { EventParseError, FieldReader, isObject, isoTime, readEnvelope } from './parse';

export const S3_EVENTBRIDGE_SOURCE = 'aws.s3';
export const S3_OBJECT_CREATED = 'Object Created';
const EXPECTED = 'S3 object created';
/** The classic notification format's major version this parser understands. */
const CLASSIC_MAJOR_VERSION = '2';

/** True when the event is in the classic notification format (a `Records` list). */
export function isClassicS3Notification(event: unknown): boolean {
  return isObject(event) && Array.isArray(event.Records);
}

/**
 * The uploads an S3 event reports, in the order of its records. Throws EventParseError naming the
 * field when the event is malformed.
 */
export function parseNotebookUploads(event: unknown): NotebookUpload[] {
  if (isClassicS3Notification(event)) return parseClassic(event);
  return parseEventBridge(event);
}

function parseEventBridge(event: unknown): NotebookUpload[] {
  const envelope = readEnvelope(event, EXPECTED, S3_EVENTBRIDGE_SOURCE, [
    S3_OBJECT_CREATED,
    // Other S3 detail-types are valid S3 events that are simply not uploads.
    'Object Deleted',
    'Object Restore Initiated',
    'Object Restore Completed',
    'Object Restore Expired',
    'Object Tags Added',
    'Object Tags Deleted',
    'Object ACL Updated',
    'Object Storage Class Changed',
    'Object Access Tier Changed',
  ]);
  if (envelope.detailType !== S3_OBJECT_CREATED) return [];
  const detail = envelope.detail;
  const object = detail.object('object');
  const upload: NotebookUpload = {
    bucket: detail.object('bucket').string('name'),
    key: object.string('key'),
    etag: unquoteEtag(object.optionalString('etag')),
    size: object.number('size'),
    eventId: envelope.id,
    eventTime: envelope.time,
    uploader: detail.optionalString('requester') ?? 'unknown',
  };
  const versionId = object.optionalString('version-id');
  if (versionId) upload.versionId = versionId;
  const sequencer = object.optionalString('sequencer');
  if (sequencer) upload.sequencer = sequencer;
  return [upload];
}

function parseClassic(event: unknown): NotebookUpload[] {
  const records = FieldReader.of(EXPECTED, event).array('Records');
  const uploads: NotebookUpload[] = [];
  records.forEach((raw, i) => {
    const record = FieldReader.of(EXPECTED, raw, `Records[${i}]`);
    const version = record.string('eventVersion');
    if (version.split('.')[0] !== CLASSIC_MAJOR_VERSION)
      record.fail('eventVersion', `is "${version}"; nbops reads version 2.x of the S3 notification format`);
    const eventName = record.string('eventName').replace(/^s3:/, '');
    if (!eventName.startsWith('ObjectCreated:')) return;
    const s3 = record.object('s3');
    const object = s3.object('object');
    const bucket = s3.object('bucket').string('name');
    const key = decodeS3EventKey(object.string('key'), object.at('key'));
    const sequencer = object.optionalString('sequencer');
    const requestId = record.optionalObject('responseElements')?.optionalString('x-amz-request-id');
    const eventTime = isoTime(record.value.eventTime);
    if (eventTime === undefined) throw record.error('eventTime', 'must be an ISO-8601 time');
    const upload: NotebookUpload = {
      bucket,
      key,
      etag: unquoteEtag(object.optionalString('eTag')),
      size: object.number('size'),
      eventId: classicEventId(bucket, key, sequencer ?? requestId ?? eventTime),
      eventTime,
      uploader: record.optionalObject('userIdentity')?.optionalString('principalId') ?? 'unknown',
    };
    const versionId = object.optionalString('versionId');
    if (versionId) upload.versionId = versionId;
    if (sequencer) upload.sequencer = sequencer;
    uploads.push(upload);
  });
  return uploads;
}

/**
 * A stable id for one classic record: the same object write always gives the same id (S3 redelivers
 * the same bucket, key and sequencer), different writes of one key differ by their sequencer.
 */
export function classicEventId(bucket: string, key: string, sequencer: string): string {
  return `s3-${createHash('sha256').update(`${bucket}\u0000${key}\u0000${sequencer}`).digest('hex').slice(0, 32)}`;
}

/** Decodes a classic-notification key: form style, so `+` is a space and `%2B` a plus. */
export function decodeS3EventKey(encoded: string, field = 's3.object.key'): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new EventParseError(EXPECTED, field, `"${encoded}" is not a valid URL-encoded key`);
  }
}

/**
 * Encodes a key the way S3 does in classic notifications (form style: space as `+`). For hosts
 * whose S3 stand-in sends raw keys (s3rver), so the parser sees what AWS would send.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+');
}
