/**
 * Every CloudWatch alarm of a model's endpoint, built from its manifest: the SLO alarms, the
 * drift alarm, and the composites that decide who is told. Pure builders; every request is checked
 * against the CloudWatch API model and against the limits the model cannot express (limits.ts).
 *
 *   latency          ModelLatency pNN > slo.latency.thresholdMs (in MICROseconds), 3 of 5 minutes  page, rollback
 *   errors-5m        error ratio > 14.4 x budget, 3 of 5 one-minute datapoints                     rollback, page pair
 *   errors-1h        error ratio over 1 h  > 14.4 x budget                                         page pair
 *   errors-30m/-6h   error ratio over 30 min / 6 h > 6 x budget                                     page pair
 *   errors-2h/-1d    error ratio over 2 h / 1 day > 3 x budget                                      ticket pair
 *   burn-page        (1h AND 5m) OR (6h AND 30m)                                                    page
 *   burn-ticket      1d AND 2h, muted while burn-page is in ALARM (ActionsSuppressor)               ticket
 *   drift            nbops DatasetDrift (Maximum) >= 1 for the model                               ticket
 *
 * error ratio = (Invocation5XXErrors + InvocationModelErrors) / Invocations, budget = 1 - availability.
 * Each window is one metric-math alarm whose period is the window (one evaluation period), so its
 * datapoint is the ratio over the whole window. The 5-minute window is the exception: it is also
 * the blue/green rollback alarm (rollback.ts), evaluated per minute (3 of the last 5) so a bad
 * canary is caught within minutes of a 10-minute bake.
 */
import { assertValidRequest } from '#core/aws/api-model';
import type { BuildContext, BuildOptions } from '#core/sagemaker/context';
import { checkAlarmRule, checkMetricAlarmLimits } from './limits';
import { DRIFT_METRICS, MODEL_DIMENSION, NBOPS_NAMESPACE } from './metrics';
import {
  ALARM_KINDS,
  type AlarmKind,
  BURN_RATE_WINDOWS,
  type BurnWindow,
  endpointAlarmNames,
  parseAlarmName,
} from './names';
import {
  alarmDescription,
  alarmTags,
  buildRollbackAlarms,
  burnRateThreshold,
  endpointDimensions,
  type MetricDataQuery,
  type PutMetricAlarmInput,
  SAGEMAKER_NAMESPACE,
} from './rollback';

/** The members of CloudWatch PutCompositeAlarm that nbops sets. */
export interface PutCompositeAlarmInput {
  AlarmName: string;
  AlarmRule: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  AlarmActions?: string[];
  OKActions?: string[];
  InsufficientDataActions?: string[];
  ActionsSuppressor?: string;
  ActionsSuppressorWaitPeriod?: number;
  ActionsSuppressorExtensionPeriod?: number;
  Tags?: { Key: string; Value: string }[];
}

/** Seconds in each burn-rate window. */
export const WINDOW_SECONDS: Record<BurnWindow, number> = {
  '5m': 300,
  '30m': 1_800,
  '1h': 3_600,
  '2h': 7_200,
  '6h': 21_600,
  '1d': 86_400,
};

/** What an alarm of each kind means to the on-call engineer. */
export type AlarmRole = 'page' | 'ticket' | 'component';

/**
 * page: wake someone (and roll back a fresh deployment); ticket: look today; component: one input
 * of a composite, never acted on alone.
 */
export const ALARM_ROLES: Record<AlarmKind, AlarmRole> = Object.fromEntries(
  ALARM_KINDS.map((kind) => [
    kind,
    kind === 'latency' || kind === 'burn-page'
      ? 'page'
      : kind === 'burn-ticket' || kind === 'drift'
        ? 'ticket'
        : 'component',
  ]),
) as Record<AlarmKind, AlarmRole>;

/** The burn rate and severity each window alarms at (a window belongs to exactly one pair). */
export const WINDOW_BURN: Record<
  BurnWindow,
  { burnRate: number; severity: 'page' | 'ticket'; pairedWith: BurnWindow }
> = (() => {
  const out = {} as Record<
    BurnWindow,
    { burnRate: number; severity: 'page' | 'ticket'; pairedWith: BurnWindow }
  >;
  for (const severity of ['page', 'ticket'] as const)
    for (const pair of BURN_RATE_WINDOWS[severity]) {
      out[pair.long] = { burnRate: pair.burnRate, severity, pairedWith: pair.short };
      out[pair.short] = { burnRate: pair.burnRate, severity, pairedWith: pair.long };
    }
  return out;
})();

/** How long the ticket composite waits for the page composite before acting, and keeps quiet after it. */
export const SUPPRESSOR_WAIT_SECONDS = 120;
export const SUPPRESSOR_EXTENSION_SECONDS = 600;
/** Drift evaluations are seconds long; a 5-minute period catches the datapoint of a run. */
const DRIFT_PERIOD_SECONDS = 300;

export interface AlarmTopics {
  /** Notified by page alarms (AlarmActions and OKActions). */
  pageTopicArn?: string;
  /** Notified by ticket alarms. */
  ticketTopicArn?: string;
}

export interface EndpointAlarms {
  /** Metric alarms, to be put before the composites that name them. */
  metric: PutMetricAlarmInput[];
  /** Composite alarms, in dependency order (burn-page before burn-ticket, its suppressor). */
  composite: PutCompositeAlarmInput[];
  /** What AutoRollbackConfiguration watches during a blue/green deployment (at most 10). */
  rollback: string[];
}

/**
 * The alarms the manifest asks for: latency with slo.latency, the burn-rate set with
 * slo.availability, the drift alarm with a drift section; none without a serving section.
 */
export function buildEndpointAlarms(
  ctx: BuildContext,
  options: BuildOptions & { topics?: AlarmTopics } = {},
): EndpointAlarms {
  const out: EndpointAlarms = { metric: [], composite: [], rollback: [] };
  if (!ctx.manifest.serving) return out;
  const names = endpointAlarmNames(ctx.model);
  const actions = (role: AlarmRole) => {
    const topic = role === 'page' ? options.topics?.pageTopicArn : options.topics?.ticketTopicArn;
    return role !== 'component' && topic ? { AlarmActions: [topic], OKActions: [topic] } : {};
  };

  for (const alarm of buildRollbackAlarms(ctx, { check: false })) {
    const kind = parseAlarmName(alarm.AlarmName)?.kind;
    out.metric.push({ ...alarm, ...(kind ? actions(ALARM_ROLES[kind]) : {}) });
    out.rollback.push(alarm.AlarmName);
  }

  const availability = ctx.manifest.slo?.availability;
  if (availability !== undefined) {
    for (const window of ['30m', '1h', '2h', '6h', '1d'] as const)
      out.metric.push(errorWindowAlarm(ctx, window, availability));
    const rule = (pairs: readonly { long: BurnWindow; short: BurnWindow }[]) =>
      pairs
        .map((p) => `(ALARM("${names.errorWindows[p.long]}") AND ALARM("${names.errorWindows[p.short]}"))`)
        .join(' OR ');
    const budget = Number((100 - availability).toPrecision(6));
    out.composite.push({
      AlarmName: names.burnPage,
      AlarmRule: rule(BURN_RATE_WINDOWS.page),
      AlarmDescription: alarmDescription(
        ctx,
        `page: the ${availability}% availability SLO burns its 30-day error budget (${budget}% of requests) 14.4x too fast over 1 h and 5 min, or 6x over 6 h and 30 min.`,
      ),
      ...actions('page'),
      Tags: alarmTags(ctx),
    });
    out.composite.push({
      AlarmName: names.burnTicket,
      AlarmRule: rule(BURN_RATE_WINDOWS.ticket),
      AlarmDescription: alarmDescription(
        ctx,
        `ticket: the ${availability}% availability SLO burns its 30-day error budget 3x too fast over 1 day and 2 h (muted while ${names.burnPage} pages).`,
      ),
      ActionsSuppressor: names.burnPage,
      ActionsSuppressorWaitPeriod: SUPPRESSOR_WAIT_SECONDS,
      ActionsSuppressorExtensionPeriod: SUPPRESSOR_EXTENSION_SECONDS,
      ...actions('ticket'),
      Tags: alarmTags(ctx),
    });
  }

  if (ctx.manifest.drift) out.metric.push({ ...driftAlarm(ctx), ...actions('ticket') });

  if (options.check !== false) assertValidAlarms(out);
  return out;
}

/** The error ratio over one window: one datapoint per window, compared with the window's burn rate. */
function errorWindowAlarm(ctx: BuildContext, window: BurnWindow, availability: number): PutMetricAlarmInput {
  const { burnRate, severity, pairedWith } = WINDOW_BURN[window];
  const threshold = burnRateThreshold(availability, burnRate);
  const period = WINDOW_SECONDS[window];
  const dimensions = endpointDimensions(ctx.model);
  const stat = (id: string, metricName: string): MetricDataQuery => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: SAGEMAKER_NAMESPACE, MetricName: metricName, Dimensions: dimensions },
      Period: period,
      Stat: 'Sum',
    },
  });
  return {
    AlarmName: endpointAlarmNames(ctx.model).errorWindows[window],
    AlarmDescription: alarmDescription(
      ctx,
      `${severity} burn-rate window: error ratio (5xx + model errors) / invocations over ${window} above ${threshold} (${burnRate}x the budget of ${availability}% availability); fires the ${severity} alarm together with the ${pairedWith} window.`,
    ),
    Metrics: [
      {
        Id: 'error_ratio',
        Expression: '(errors_5xx + errors_model) / MAX([invocations, 1])',
        Label: `Error ratio over ${window}`,
        ReturnData: true,
      },
      stat('errors_5xx', 'Invocation5XXErrors'),
      stat('errors_model', 'InvocationModelErrors'),
      stat('invocations', 'Invocations'),
    ],
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanThreshold',
    // No traffic spends no budget.
    TreatMissingData: 'notBreaching',
    Tags: alarmTags(ctx),
  };
}

/** The drift evaluation's dataset verdict (DatasetDrift is 1 or 0; absent without a verdict). */
function driftAlarm(ctx: BuildContext): PutMetricAlarmInput {
  const drift = ctx.manifest.drift!;
  return {
    AlarmName: endpointAlarmNames(ctx.model).drift,
    AlarmDescription: alarmDescription(
      ctx,
      `ticket: the scheduled drift evaluation (${drift.schedule}, ${drift.method}, window ${drift.window}) found dataset drift: at least ${drift.datasetShare * 100}% of features drifted. ${drift.action === 'retrain' ? 'Policy: retrain the production notebook (cooldown ' + drift.retrainCooldown + ').' : 'Policy: alarm only.'}`,
    ),
    Namespace: NBOPS_NAMESPACE,
    MetricName: DRIFT_METRICS.datasetDrift,
    Dimensions: [{ Name: MODEL_DIMENSION, Value: ctx.model }],
    Statistic: 'Maximum',
    Period: DRIFT_PERIOD_SECONDS,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    // Between evaluations there is no datapoint: the last verdict stands until the next one.
    TreatMissingData: 'ignore',
    Tags: alarmTags(ctx),
  };
}

/** Throws (naming every problem) unless each alarm passes the API model and the alarm limits. */
export function assertValidAlarms(alarms: Pick<EndpointAlarms, 'metric' | 'composite'>): void {
  const problems: string[] = [];
  const known = new Set(alarms.metric.map((a) => a.AlarmName));
  for (const alarm of alarms.metric) {
    assertValidRequest('cloudwatch', 'PutMetricAlarm', alarm);
    problems.push(...checkMetricAlarmLimits(alarm));
  }
  for (const alarm of alarms.composite) {
    assertValidRequest('cloudwatch', 'PutCompositeAlarm', alarm);
    const rule = checkAlarmRule(alarm.AlarmRule);
    problems.push(...rule.problems.map((p) => `${alarm.AlarmName}: ${p}`));
    for (const name of rule.alarms)
      if (!known.has(name))
        problems.push(`${alarm.AlarmName}: the rule names ${name}, which is put after it or not at all`);
    if (alarm.ActionsSuppressor && !known.has(alarm.ActionsSuppressor))
      problems.push(
        `${alarm.AlarmName}: ActionsSuppressor ${alarm.ActionsSuppressor} is put after it or not at all`,
      );
    known.add(alarm.AlarmName);
  }
  if (problems.length > 0) throw new Error(`nbops built invalid alarms:\n  - ${problems.join('\n  - ')}`);
}

/**
 * Every alarm name a model can have, composites first: the order DeleteAlarms needs (a metric
 * alarm named in a composite's rule is deleted after the composite).
 */
export function allAlarmNames(model: string): string[] {
  const names = endpointAlarmNames(model);
  return [names.burnTicket, names.burnPage, names.latency, ...Object.values(names.errorWindows), names.drift];
}

/** Alarms a model has from an earlier manifest that this one no longer asks for (composites first). */
export function staleAlarmNames(model: string, alarms: EndpointAlarms): string[] {
  const wanted = new Set([...alarms.metric, ...alarms.composite].map((a) => a.AlarmName));
  return allAlarmNames(model).filter((name) => !wanted.has(name));
}
