import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventParseError } from '#core/events/parse';
import {
  classicEventId,
  decodeS3EventKey,
  encodeS3EventKey,
  isClassicS3Notification,
  parseNotebookUploads,
} from '#core/events/s3';
import { loadEvent } from '../../fixtures/events';

const TRICKY_KEY = 'notebooks/churn/Churn model+v2 Ü.ipynb';

describe('parseNotebookUploads: EventBridge "Object Created"', () => {
  it('reads bucket, raw key, version, etag, size, sequencer, requester and the event identity', () => {
    const uploads = parseNotebookUploads(loadEvent('s3-eventbridge-object-created'));
    expect(uploads).toEqual([
      {
        bucket: 'nbops-artifacts',
        key: TRICKY_KEY,
        versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        etag: 'b1946ac92492d2347c6235b4d2611184',
        size: 48213,
        sequencer: '617f08299329d189',
        eventId: '17793124-05d4-b198-2fde-7ededc63b103',
        eventTime: '2026-03-02T09:15:27.000Z',
        uploader: 'arn:aws:sts::111122223333:assumed-role/DataScientist/alice',
      },
    ]);
  });

  it('keeps EventBridge keys as sent: a `+` or `%` in them is part of the name', () => {
    const event = loadEvent('s3-eventbridge-object-created');
    event.detail.object.key = 'notebooks/churn/a+b%20c.ipynb';
    expect(parseNotebookUploads(event)[0]?.key).toBe('notebooks/churn/a+b%20c.ipynb');
  });

  it('returns no uploads for other S3 detail-types, and an upload without optional fields', () => {
    const deleted = loadEvent('s3-eventbridge-object-created');
    deleted['detail-type'] = 'Object Deleted';
    expect(parseNotebookUploads(deleted)).toEqual([]);

    const minimal = loadEvent('s3-eventbridge-object-created');
    delete minimal.detail.object['version-id'];
    delete minimal.detail.object.sequencer;
    delete minimal.detail.requester;
    const [upload] = parseNotebookUploads(minimal);
    expect(upload).not.toHaveProperty('versionId');
    expect(upload).not.toHaveProperty('sequencer');
    expect(upload?.uploader).toBe('unknown');
  });

  it('names the missing or mistyped field', () => {
    const noKey = loadEvent('s3-eventbridge-object-created');
    delete noKey.detail.object.key;
    expect(() => parseNotebookUploads(noKey)).toThrow(
      new EventParseError('S3 object created', 'detail.object.key', 'is missing'),
    );
    expect(() => parseNotebookUploads(noKey)).toThrow(
      'S3 object created event: detail.object.key is missing',
    );

    const badSize = loadEvent('s3-eventbridge-object-created');
    badSize.detail.object.size = 'big';
    expect(() => parseNotebookUploads(badSize)).toThrow('detail.object.size must be a number, got "big"');

    const wrongSource = loadEvent('s3-eventbridge-object-created');
    wrongSource.source = 'aws.sagemaker';
    expect(() => parseNotebookUploads(wrongSource)).toThrow(
      'source is "aws.sagemaker"; this handler takes "aws.s3"',
    );

    for (const junk of [null, 'text', 42, [], {}])
      expect(() => parseNotebookUploads(junk)).toThrow(EventParseError);
  });
});

describe('parseNotebookUploads: classic notification records', () => {
  it('decodes form-encoded keys, skips non-create records and keeps record order', () => {
    const uploads = parseNotebookUploads(loadEvent('s3-classic-records'));
    expect(uploads.map((u) => u.key)).toEqual([TRICKY_KEY, 'notebooks/fraud/fraud.nbops.yaml']);
    expect(uploads[0]).toEqual({
      bucket: 'nbops-artifacts',
      key: TRICKY_KEY,
      versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
      etag: 'd41d8cd98f00b204e9800998ecf8427e',
      size: 48213,
      sequencer: '0055AED6DCD90281E5',
      eventId: classicEventId('nbops-artifacts', TRICKY_KEY, '0055AED6DCD90281E5'),
      eventTime: '2026-03-02T09:15:27.512Z',
      uploader: 'AWS:AIDAJDPLRKLG7UEXAMPLE',
    });
    expect(uploads[1]?.etag).toBe('9b2cf535f27731c974343645a3985328-2');
  });

  it('gives each record a stable id: the same write redelivered has the same id, another write a new one', () => {
    const first = parseNotebookUploads(loadEvent('s3-classic-records'));
    const again = parseNotebookUploads(loadEvent('s3-classic-records'));
    expect(again.map((u) => u.eventId)).toEqual(first.map((u) => u.eventId));
    expect(new Set(first.map((u) => u.eventId)).size).toBe(2);

    const rewrite = loadEvent('s3-classic-records');
    rewrite.Records[0].s3.object.sequencer = '0055AED6DCD90281F0';
    expect(parseNotebookUploads(rewrite)[0]?.eventId).not.toBe(first[0]?.eventId);
  });

  it('falls back to the request id when a record has no sequencer', () => {
    const event = loadEvent('s3-classic-records');
    delete event.Records[0].s3.object.sequencer;
    expect(parseNotebookUploads(event)[0]?.eventId).toBe(
      classicEventId('nbops-artifacts', TRICKY_KEY, 'C3D13FE58DE4C810'),
    );
  });

  it('accepts any 2.x eventVersion (s3rver sends 2.0, AWS 2.1-2.3) and refuses another major version', () => {
    for (const version of ['2.0', '2.1', '2.3', '2.10']) {
      const event = loadEvent('s3-classic-records');
      event.Records[0].eventVersion = version;
      expect(parseNotebookUploads(event)).toHaveLength(2);
    }
    const v3 = loadEvent('s3-classic-records');
    v3.Records[2].eventVersion = '3.0';
    expect(() => parseNotebookUploads(v3)).toThrow(
      'Records[2].eventVersion is "3.0"; nbops reads version 2.x of the S3 notification format',
    );
  });

  it('names the record and field of a problem, including a key that is not valid URL encoding', () => {
    const noBucket = loadEvent('s3-classic-records');
    delete noBucket.Records[2].s3.bucket.name;
    expect(() => parseNotebookUploads(noBucket)).toThrow('Records[2].s3.bucket.name is missing');

    const badKey = loadEvent('s3-classic-records');
    badKey.Records[0].s3.object.key = 'notebooks/churn/100%.ipynb';
    expect(() => parseNotebookUploads(badKey)).toThrow(
      'Records[0].s3.object.key "notebooks/churn/100%.ipynb" is not a valid URL-encoded key',
    );

    expect(() => parseNotebookUploads({ Records: ['x'] })).toThrow('Records[0] must be a JSON object');
  });

  it('accepts an event name with the s3: prefix and an empty record list', () => {
    const prefixed = loadEvent('s3-classic-records');
    prefixed.Records[0].eventName = 's3:ObjectCreated:Put';
    expect(parseNotebookUploads(prefixed)).toHaveLength(2);
    expect(parseNotebookUploads({ Records: [] })).toEqual([]);
    expect(isClassicS3Notification({ Records: [] })).toBe(true);
    expect(isClassicS3Notification(loadEvent('s3-eventbridge-object-created'))).toBe(false);
  });
});

describe('S3 event key encoding', () => {
  it('decodes what S3 encodes, for any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (key) => {
        expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
      }),
    );
  });

  it('follows the documented form style: a space is `+`, a plus is %2B', () => {
    expect(encodeS3EventKey('red flower+1.jpg')).toBe('red+flower%2B1.jpg');
    expect(decodeS3EventKey('red+flower%2B1.jpg')).toBe('red flower+1.jpg');
  });
});
