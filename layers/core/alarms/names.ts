/**
 * The CloudWatch alarm names nbops uses for a model's endpoint. Every name is
 * `nbops-<model>-<kind>`, so the alarm route (ALARM_NAME_PREFIX) sees only nbops alarms and
 * parseAlarmName can tell which model and which alarm fired. The endpoint name is the model name,
 * so "per model" and "per endpoint" are the same thing.
 *
 * Names are stable across versions: PutMetricAlarm overwrites an alarm in place, so redeploying
 * never leaves stale alarms behind and AutoRollbackConfiguration can name the same alarms each time.
 */
import { ALARM_NAME_PREFIX } from '#core/wiring';

/**
 * Error-budget burn-rate windows (Google SRE workbook, 30-day SLO): each severity pairs a long and
 * a short window; a composite alarm fires when both windows burn faster than the rate. The
 * workbook's slow ticket pair (1 over 3 days and 6 hours) is left out: a CloudWatch alarm period
 * is at most one day, so a 3-day error ratio cannot be one alarm's datapoint.
 */
export const BURN_RATE_WINDOWS = {
  page: [
    { long: '1h', short: '5m', burnRate: 14.4 },
    { long: '6h', short: '30m', burnRate: 6 },
  ],
  ticket: [{ long: '1d', short: '2h', burnRate: 3 }],
} as const;

export type BurnWindow = '5m' | '30m' | '1h' | '2h' | '6h' | '1d';

/** Every burn-rate window, shortest first. */
export const BURN_WINDOWS: readonly BurnWindow[] = ['5m', '30m', '1h', '2h', '6h', '1d'];

/** The kinds of alarm nbops creates per endpoint, as they appear at the end of the name. */
export const ALARM_KINDS = [
  'latency',
  'errors-5m',
  'errors-30m',
  'errors-1h',
  'errors-2h',
  'errors-6h',
  'errors-1d',
  'burn-page',
  'burn-ticket',
  'drift',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export function alarmName(model: string, kind: AlarmKind): string {
  return `${ALARM_NAME_PREFIX}${model}-${kind}`;
}

export interface EndpointAlarmNames {
  /** ModelLatency percentile over the SLO threshold (rollback alarm). */
  latency: string;
  /**
   * Error ratio over the short page window (5 minutes) above the fast page burn rate: the
   * rollback alarm for errors, and the short half of the 1h/5m page pair.
   */
  errorRate: string;
  /** Error-ratio alarms per burn-rate window (the drift/SLO work creates the ones not used for rollback). */
  errorWindows: Record<BurnWindow, string>;
  /** Composite alarms: page = (1h AND 5m) OR (6h AND 30m); ticket = 1d AND 2h. */
  burnPage: string;
  burnTicket: string;
  /** Dataset drift detected by the scheduled evaluation. */
  drift: string;
}

/** Every alarm name of a model's endpoint. */
export function endpointAlarmNames(model: string): EndpointAlarmNames {
  const errorWindows = Object.fromEntries(
    BURN_WINDOWS.map((w) => [w, alarmName(model, `errors-${w}`)]),
  ) as Record<BurnWindow, string>;
  return {
    latency: alarmName(model, 'latency'),
    errorRate: errorWindows['5m'],
    errorWindows,
    burnPage: alarmName(model, 'burn-page'),
    burnTicket: alarmName(model, 'burn-ticket'),
    drift: alarmName(model, 'drift'),
  };
}

/**
 * The model and kind of an nbops alarm name; undefined for any other alarm. Model names contain
 * hyphens, so the kind is matched from the end (longest kind first).
 */
export function parseAlarmName(name: string): { model: string; kind: AlarmKind } | undefined {
  if (!name.startsWith(ALARM_NAME_PREFIX)) return undefined;
  const rest = name.slice(ALARM_NAME_PREFIX.length);
  const kinds = [...ALARM_KINDS].sort((a, b) => b.length - a.length);
  for (const kind of kinds) {
    const suffix = `-${kind}`;
    if (rest.endsWith(suffix) && rest.length > suffix.length) {
      const model = rest.slice(0, -suffix.length);
      if (/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(model)) return { model, kind };
    }
  }
  return undefined;
}
