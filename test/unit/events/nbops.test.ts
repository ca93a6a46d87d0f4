import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRetrainRequested, parseRetrainRequested, parseVersionApproved } from '#core/events/nbops';
import { EventParseError } from '#core/events/parse';
import { parseScheduledTick } from '#core/events/schedule';
import { NBOPS_EVENT_SOURCE, NBOPS_EVENTS } from '#core/wiring';
import retrainSchema from '../../../schemas/events/retrain-requested.schema.json' with { type: 'json' };
import approvedSchema from '../../../schemas/events/version-approved.schema.json' with { type: 'json' };
import { loadEvent } from '../../fixtures/events';

// `format` is documentation here; the parsers read times defensively.
const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
const validApproved = ajv.compile(approvedSchema);
const validRetrain = ajv.compile(retrainSchema);

describe('parseVersionApproved', () => {
  it('reads the approval and the event identity', () => {
    expect(parseVersionApproved(loadEvent('nbops-version-approved'))).toEqual({
      model: 'churn',
      version: 7,
      approvedBy: 'arn:aws:sts::123456789012:assumed-role/MLOps/bob',
      eventId: '0f3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
      eventTime: '2026-03-02T09:58:00.000Z',
    });
  });

  it('names the field that is missing or wrong', () => {
    const cases: [(e: { detail: Record<string, unknown> }) => void, string][] = [
      [(e) => delete e.detail.model, 'detail.model is missing'],
      [(e) => delete e.detail.approvedBy, 'detail.approvedBy is missing'],
      [(e) => (e.detail.version = 0), 'detail.version must be a whole number >= 1, got 0'],
      [(e) => (e.detail.version = '7'), 'detail.version must be a whole number >= 1, got "7"'],
      [(e) => (e.detail.version = 1.5), 'detail.version must be a whole number >= 1, got 1.5'],
    ];
    for (const [mutate, message] of cases) {
      const event = loadEvent('nbops-version-approved');
      mutate(event);
      expect(() => parseVersionApproved(event)).toThrow(`Version Approved event: ${message}`);
      // The schema refuses the same events, so other consumers of the bus agree with nbops.
      expect(validApproved(event)).toBe(false);
    }
  });

  it('refuses a Retrain Requested event (wrong route)', () => {
    expect(() => parseVersionApproved(loadEvent('nbops-retrain-requested'))).toThrow(EventParseError);
  });
});

describe('parseRetrainRequested', () => {
  it('reads the request, with and without a version', () => {
    const event = loadEvent('nbops-retrain-requested');
    expect(isRetrainRequested(event)).toBe(true);
    expect(isRetrainRequested(loadEvent('nbops-version-approved'))).toBe(false);
    expect(parseRetrainRequested(event)).toEqual({
      model: 'churn',
      version: 7,
      requestedBy: 'drift',
      reason: 'PSI of feature tenure_months is 0.31, above the threshold 0.2',
      eventId: '1a4c5d6e-7f8a-4b9c-8d0e-2f3a4b5c6d7e',
      eventTime: '2026-03-09T06:00:05.000Z',
    });
    delete event.detail.version;
    expect(parseRetrainRequested(event)).not.toHaveProperty('version');
    expect(validRetrain(event)).toBe(true);
  });

  it('names a missing reason, as the schema does', () => {
    const event = loadEvent('nbops-retrain-requested');
    delete event.detail.reason;
    expect(() => parseRetrainRequested(event)).toThrow('Retrain Requested event: detail.reason is missing');
    expect(validRetrain(event)).toBe(false);
  });
});

describe('event schemas (schemas/events)', () => {
  it('accept the fixtures', () => {
    expect(validApproved(loadEvent('nbops-version-approved')), ajv.errorsText(validApproved.errors)).toBe(
      true,
    );
    expect(validRetrain(loadEvent('nbops-retrain-requested')), ajv.errorsText(validRetrain.errors)).toBe(
      true,
    );
  });

  it('pin source and detail-type to the wiring table', () => {
    expect(approvedSchema.properties.source.const).toBe(NBOPS_EVENT_SOURCE);
    expect(approvedSchema.properties['detail-type'].const).toBe(NBOPS_EVENTS.versionApproved);
    expect(retrainSchema.properties['detail-type'].const).toBe(NBOPS_EVENTS.retrainRequested);
  });

  it('every event the schema accepts, the parser accepts with the same values', () => {
    const text = fc.string({ minLength: 1, maxLength: 20 });
    const approved = fc.record(
      {
        version: fc.constant('0'),
        id: text,
        'detail-type': fc.constant(NBOPS_EVENTS.versionApproved),
        source: fc.constant(NBOPS_EVENT_SOURCE),
        time: fc
          .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString()),
        detail: fc.record(
          {
            model: text,
            version: fc.integer({ min: 1, max: 1_000_000 }),
            approvedBy: text,
            reason: fc.string(),
          },
          { requiredKeys: ['model', 'version', 'approvedBy'] },
        ),
      },
      { requiredKeys: ['version', 'id', 'detail-type', 'source', 'time', 'detail'] },
    );
    fc.assert(
      fc.property(approved, (event) => {
        expect(validApproved(event)).toBe(true);
        expect(parseVersionApproved(event)).toMatchObject({
          model: event.detail.model,
          version: event.detail.version,
          approvedBy: event.detail.approvedBy,
          eventId: event.id,
        });
      }),
    );
  });
});

describe('parseScheduledTick', () => {
  it('takes identity and time from an EventBridge rule or Scheduler envelope', () => {
    expect(parseScheduledTick(loadEvent('scheduled-event'))).toEqual({
      eventId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      eventTime: '2026-03-02T10:15:00.000Z',
    });
    expect(parseScheduledTick(loadEvent('scheduler-envelope'))).toEqual({
      eventId: '8e6a4f2b-7d1c-4e5a-9b3f-0c2d4e6f8a1b',
      eventTime: '2026-03-02T10:15:00.000Z',
    });
  });

  it('reads a raw Scheduler input, keeping its other members', () => {
    expect(
      parseScheduledTick({
        endpoint: 'churn-prod',
        scheduledTime: '2026-03-02T10:15:00Z',
        executionId: 'exec-1',
      }),
    ).toEqual({
      eventId: 'exec-1',
      eventTime: '2026-03-02T10:15:00.000Z',
      input: { endpoint: 'churn-prod' },
    });
    expect(parseScheduledTick({}, () => new Date('2026-03-02T10:15:00Z'))).toEqual({
      eventId: 'tick-2026-03-02T10:15:00.000Z',
      eventTime: '2026-03-02T10:15:00.000Z',
    });
    expect(() => parseScheduledTick('now')).toThrow(EventParseError);
  });
});
