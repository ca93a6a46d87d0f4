/**
 * "CloudWatch Alarm State Change" (EventBridge, `source: aws.cloudwatch`) as the alarm use case's
 * input. Facts from the CloudWatch user guide and observed events:
 * - `state.value` / `previousState.value` are OK | ALARM | INSUFFICIENT_DATA;
 * - `state.timestamp` uses a `+0000` offset (not ISO), so it goes through isoTime;
 * - `state.reasonData` is a JSON string (absent for some transitions); a composite alarm's holds
 *   `triggeringAlarms`, a metric alarm's `recentDatapoints`, `threshold`, `evaluatedDatapoints`;
 * - composite alarms send the same detail-type with no `configuration.metrics`.
 */
import type { AlarmStateChange, AlarmStateValue } from '../service/contracts';
import { describe, type FieldReader, isObject, isoTime, readEnvelope } from './parse';

export const CLOUDWATCH_SOURCE = 'aws.cloudwatch';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

const STATES: readonly AlarmStateValue[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

export function parseAlarmStateChange(event: unknown): AlarmStateChange {
  const envelope = readEnvelope(event, ALARM_STATE_CHANGE, CLOUDWATCH_SOURCE, [ALARM_STATE_CHANGE]);
  const detail = envelope.detail;
  const state = detail.object('state');
  const stateAt = isoTime(state.value.timestamp);
  if (stateAt === undefined)
    throw state.error('timestamp', `must be a time, got ${describe(state.value.timestamp)}`);
  const change: AlarmStateChange = {
    alarmName: detail.string('alarmName'),
    state: stateValue(state),
    stateAt,
    reason: state.optionalString('reason') ?? '',
    composite: !hasMetrics(detail),
    eventId: envelope.id,
    eventTime: envelope.time,
  };
  const reasonData = parseReasonData(state.value.reasonData);
  if (reasonData) change.reasonData = reasonData;
  const previous = detail.optionalObject('previousState');
  const previousValue = previous?.value.value;
  if (typeof previousValue === 'string' && (STATES as readonly string[]).includes(previousValue))
    change.previousState = previousValue as AlarmStateValue;
  return change;
}

function stateValue(state: FieldReader): AlarmStateValue {
  const value = state.string('value');
  if (!(STATES as readonly string[]).includes(value))
    state.fail('value', `is ${describe(value)}; expected one of ${STATES.join(', ')}`);
  return value as AlarmStateValue;
}

function hasMetrics(detail: FieldReader): boolean {
  const configuration = detail.value.configuration;
  return isObject(configuration) && Array.isArray(configuration.metrics) && configuration.metrics.length > 0;
}

/** reasonData is a JSON string; an object is accepted too (hand-made events). Unreadable: undefined. */
export function parseReasonData(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
