import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { parseDriftEvaluationRequest } from '#core/events/schedule-drift';
import { NBOPS_EVENT_SOURCE, NBOPS_EVENTS } from '#core/wiring';
import schema from '../../../schemas/events/drift-evaluation-due.schema.json' with { type: 'json' };

const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
const valid = ajv.compile(schema);

const event = (detail: Record<string, unknown>) => ({
  version: '0',
  id: 'c0ffee00-0000-4000-8000-000000000001',
  'detail-type': NBOPS_EVENTS.driftEvaluationDue,
  source: NBOPS_EVENT_SOURCE,
  account: '123456789012',
  time: '2026-03-01T10:00:05Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

describe('Drift Evaluation Due (schemas/events)', () => {
  it('pins source and detail-type to the wiring table', () => {
    expect(schema.properties.source.const).toBe(NBOPS_EVENT_SOURCE);
    expect(schema.properties['detail-type'].const).toBe(NBOPS_EVENTS.driftEvaluationDue);
  });

  it('accepts what the scheduler and an operator send, and the parser reads it the same way', () => {
    const scheduled = event({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '2026-03-01T10:00:00Z',
      executionId: 'exec-1',
    });
    expect(valid(scheduled), ajv.errorsText(valid.errors)).toBe(true);
    expect(parseDriftEvaluationRequest(scheduled)).toMatchObject({ model: 'churn' });
    const operator = event({ model: 'churn' });
    expect(valid(operator)).toBe(true);
    expect(parseDriftEvaluationRequest(operator)).toMatchObject({ model: 'churn' });
  });

  it('refuses an event without a model, like the parser', () => {
    const bad = event({ endpoint: 'churn' });
    expect(valid(bad)).toBe(false);
    expect(() => parseDriftEvaluationRequest(bad)).toThrow(/model/);
  });
});
