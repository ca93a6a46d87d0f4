/**
 * Scheduled invocations (the sweeper, later drift). Three shapes reach a scheduled handler:
 * - an EventBridge rule's "Scheduled Event" (`source: aws.events`, `detail: {}`),
 * - an EventBridge Scheduler envelope (`source: aws.scheduler`, `detail: "{}"`, a string),
 * - a Scheduler or rule target `Input`, delivered as-is without an envelope.
 * The tick's identity and time come from the envelope when there is one; for raw input, from its
 * `executionId`/`scheduledTime` members (the Scheduler's context attributes) when present.
 */
import { describe, EventParseError, isObject, isoTime } from './parse';

export interface ScheduledTick {
  /** Stable identity of this tick (EventBridge id or Scheduler execution id). */
  eventId: string;
  /** ISO-8601 time the tick was scheduled for. */
  eventTime: string;
  /** Any other members of a raw input (e.g. `endpoint` for a per-endpoint drift schedule). */
  input?: Record<string, unknown>;
}

const EXPECTED = 'Scheduled';

/** `now` gives the time (and identity) of a raw input that carries neither. */
export function parseScheduledTick(event: unknown, now: () => Date = () => new Date()): ScheduledTick {
  if (!isObject(event))
    throw new EventParseError(EXPECTED, '', `must be a JSON object, got ${describe(event)}`);
  if ('detail-type' in event && 'source' in event) {
    const id = event.id;
    const time = isoTime(event.time);
    if (typeof id !== 'string' || id === '') throw new EventParseError(EXPECTED, 'id', 'is missing');
    if (time === undefined)
      throw new EventParseError(EXPECTED, 'time', `must be an ISO-8601 time, got ${describe(event.time)}`);
    return { eventId: id, eventTime: time };
  }
  const time = isoTime(event.scheduledTime) ?? now().toISOString();
  const execution =
    typeof event.executionId === 'string' && event.executionId ? event.executionId : undefined;
  const { scheduledTime: _t, executionId: _e, ...rest } = event;
  const tick: ScheduledTick = { eventId: execution ?? `tick-${time}`, eventTime: time };
  if (Object.keys(rest).length > 0) tick.input = rest;
  return tick;
}
