/**
 * The drift handler's input. A run of a model's drift schedule reaches it as the nbops event
 * "Drift Evaluation Due" (source `nbops`) that EventBridge Scheduler puts on the nbops bus (the
 * local host's schedules put the same event); its detail is the schedule's input with the run's
 * context attributes filled in:
 *   {"model":"churn","endpoint":"churn","scheduledTime":"2025-03-01T10:00:00Z","executionId":"..."}
 * A schedule that targets the function directly delivers that object without an envelope; it is
 * accepted too. An operator can publish the event with only `model` to evaluate now.
 */
import type { DriftEvaluationRequest } from '../service/contracts';
import { NBOPS_EVENT_SOURCE, NBOPS_EVENTS } from '../wiring';
import { describe, EventParseError, FieldReader, isObject, isoTime, readEnvelope } from './parse';

const EXPECTED = NBOPS_EVENTS.driftEvaluationDue;

export function parseDriftEvaluationRequest(event: unknown): DriftEvaluationRequest {
  if (isObject(event) && 'detail-type' in event) {
    const envelope = readEnvelope(event, EXPECTED, NBOPS_EVENT_SOURCE, [EXPECTED]);
    return fromInput(envelope.detail, envelope.id, envelope.time);
  }
  const input = FieldReader.of(EXPECTED, event);
  const executionId = input.optionalString('executionId');
  if (!executionId) throw input.error('executionId', 'is missing (set it to <aws.scheduler.execution-id>)');
  if (input.value.scheduledTime === undefined)
    throw input.error('scheduledTime', 'is missing (set it to <aws.scheduler.scheduled-time>)');
  return fromInput(input, executionId, '');
}

function fromInput(detail: FieldReader, envelopeId: string, envelopeTime: string): DriftEvaluationRequest {
  const model = detail.string('model');
  const raw = detail.value.scheduledTime;
  const scheduledTime = raw === undefined ? envelopeTime : isoTime(raw);
  if (!scheduledTime)
    throw new EventParseError(
      EXPECTED,
      detail.at('scheduledTime'),
      `must be an ISO-8601 time, got ${describe(raw)}`,
    );
  return {
    model,
    // nbops names an endpoint after its model.
    endpoint: detail.optionalString('endpoint') ?? model,
    scheduledTime,
    // A run's execution id is the same on Scheduler's retries of that run.
    eventId: detail.optionalString('executionId') ?? envelopeId,
  };
}
