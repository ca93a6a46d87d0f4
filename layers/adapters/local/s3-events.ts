/**
 * Classic S3 notification records (what s3rver emits, what S3 sends straight to Lambda/SQS/SNS)
 * turned into the EventBridge events S3 sends once a bucket has EventBridge notifications on,
 * which is what the `notebook-uploaded` route in core/wiring.ts matches.
 *
 * The object key: classic records from AWS carry it URL-encoded form style (space as `+`); s3rver
 * sends it raw. EventBridge events carry it as stored (JSON needs no escaping; see
 * layers/core/events/s3.ts and docs/events.md for the evidence), so the converter decodes AWS
 * records and passes s3rver's through: say which with `keyEncoding` ('raw' for s3rver, the
 * default; 'form' for records from AWS). Decoding s3rver's raw keys would turn `a+b.ipynb` into
 * `a b.ipynb`.
 */

import { type AwsEvent, type AwsLocation, awsEvent, LOCAL_LOCATION } from './aws-event';
import type { S3Notification, S3NotificationRecord } from './emulators';

export type S3KeyEncoding = 'raw' | 'form';

/** The `detail.reason` S3 gives for each classic event name. */
const CREATED_REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Post': 'POST Object',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
};

/** Extra fields AWS records carry that s3rver's type does not declare. */
interface RecordExtras {
  requestParameters?: { sourceIPAddress?: string };
  responseElements?: Record<string, string>;
}

function decodeKey(key: string, encoding: S3KeyEncoding): string {
  if (encoding === 'raw') return key;
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** One EventBridge event per record that has an EventBridge equivalent (created and deleted objects). */
export function s3NotificationToEvents(
  notification: S3Notification,
  options: { keyEncoding?: S3KeyEncoding; location?: AwsLocation } = {},
): AwsEvent[] {
  const events: AwsEvent[] = [];
  for (const record of notification.Records ?? []) {
    const event = s3RecordToEvent(record, options);
    if (event) events.push(event);
  }
  return events;
}

export function s3RecordToEvent(
  record: S3NotificationRecord & RecordExtras,
  options: { keyEncoding?: S3KeyEncoding; location?: AwsLocation } = {},
): AwsEvent | undefined {
  const eventName = record.eventName.replace(/^s3:/, '');
  const created = eventName.startsWith('ObjectCreated:');
  const deleted = eventName.startsWith('ObjectRemoved:');
  if (!created && !deleted) return undefined;
  const bucket = record.s3.bucket.name;
  const object = record.s3.object;
  const key = decodeKey(object.key, options.keyEncoding ?? 'raw');
  const detailObject: Record<string, unknown> = { key };
  if (created) {
    detailObject.size = object.size ?? 0;
    if (object.eTag) detailObject.etag = object.eTag.replace(/^"|"$/g, '');
  }
  if (object.versionId) detailObject['version-id'] = object.versionId;
  detailObject.sequencer = String(object.sequencer);
  const detail: Record<string, unknown> = {
    version: '0',
    bucket: { name: bucket },
    object: detailObject,
    'request-id': record.responseElements?.['x-amz-request-id'] ?? 'local',
    requester: record.userIdentity?.principalId ?? 'local',
    'source-ip-address': record.requestParameters?.sourceIPAddress ?? '127.0.0.1',
    reason: created ? (CREATED_REASONS[eventName] ?? 'PutObject') : 'DeleteObject',
  };
  if (deleted) detail['deletion-type'] = 'Permanently Deleted';
  const location = options.location ?? {
    ...LOCAL_LOCATION,
    region: record.awsRegion || LOCAL_LOCATION.region,
  };
  const at = new Date(record.eventTime);
  return awsEvent({
    source: 'aws.s3',
    detailType: created ? 'Object Created' : 'Object Deleted',
    detail,
    resources: [`arn:aws:s3:::${bucket}`],
    at: Number.isNaN(at.getTime()) ? new Date() : at,
    location,
  });
}
