/**
 * The metric alarms SageMaker's AutoRollbackConfiguration watches while a new version takes
 * traffic: model latency over the SLO threshold, and an error ratio burning the availability
 * error budget at the fast page rate. They stay after the deployment as the endpoint's SLO alarms.
 *
 * @aws-sdk/client-cloudwatch is not a dependency, so PutMetricAlarm's input is typed here (the
 * members nbops uses) and checked against the CloudWatch API model like every other request.
 */
import { assertValidRequest } from '#core/aws/api-model';
import { endpointName, variantName } from '#core/manifest/names';
import { type BuildContext, type BuildOptions, sanitizeTagValue } from '#core/sagemaker/context';
import { BURN_RATE_WINDOWS, endpointAlarmNames } from './names';

export interface MetricDimension {
  Name: string;
  Value: string;
}

export interface MetricDataQuery {
  Id: string;
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: MetricDimension[] };
    Period: number;
    Stat: string;
  };
}

/** The members of CloudWatch PutMetricAlarm that nbops sets. */
export interface PutMetricAlarmInput {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  AlarmActions?: string[];
  OKActions?: string[];
  InsufficientDataActions?: string[];
  Namespace?: string;
  MetricName?: string;
  Dimensions?: MetricDimension[];
  Statistic?: 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';
  ExtendedStatistic?: string;
  Metrics?: MetricDataQuery[];
  Period?: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
  TreatMissingData?: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
  Tags?: { Key: string; Value: string }[];
}

export const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
const NAMESPACE = SAGEMAKER_NAMESPACE;
/** SageMaker publishes endpoint metrics every minute. */
const PERIOD_SECONDS = 60;
/** Rollback alarms look at the last 5 minutes and fire when 3 of them breach. */
export const EVALUATION_PERIODS = 5;
export const DATAPOINTS_TO_ALARM = 3;
const MAX_DESCRIPTION = 1024;

/** The fast page burn rate (1h/5m pair): 2% of a 30-day error budget in one hour. */
export const PAGE_BURN_RATE = BURN_RATE_WINDOWS.page[0].burnRate;

/** ModelLatency is reported in microseconds. */
export function latencyThresholdMicros(thresholdMs: number): number {
  return Math.round(thresholdMs * 1000);
}

/**
 * Error ratio that burns the budget of `availability` (percent) at `burnRate`: rate x (1 - SLO).
 * Below about 93.1% availability the page rate gives a ratio of 1 or more, which only a burst of
 * requests failing both as 5xx and as model errors can reach: such an SLO barely guards a rollout.
 */
export function burnRateThreshold(availability: number, burnRate: number = PAGE_BURN_RATE): number {
  // Rounded so 14.4 x 0.005 reads 0.072, not 0.07200000000000001.
  return Number((burnRate * (1 - availability / 100)).toPrecision(6));
}

/** An alarm's description: what it watches, for which model and owner, and the runbook (cut to 1024). */
export function alarmDescription(ctx: BuildContext, what: string): string {
  const runbook = ctx.manifest.runbook ?? 'none given (add runbook to the manifest)';
  const text = `nbops ${what} Model ${ctx.model}, endpoint ${endpointName(ctx.model)}, owner ${ctx.manifest.model.owner}. Runbook: ${runbook}`;
  if (text.length <= MAX_DESCRIPTION) return text;
  // Cut on a character boundary (a long runbook must not leave half a surrogate pair).
  let cut = '';
  for (const char of text) {
    if (cut.length + char.length > MAX_DESCRIPTION - 3) break;
    cut += char;
  }
  return `${cut}...`;
}

export function alarmTags(ctx: BuildContext): { Key: string; Value: string }[] {
  return [
    { Key: 'nbops:model', Value: ctx.model },
    { Key: 'nbops:endpoint', Value: endpointName(ctx.model) },
    { Key: 'nbops:owner', Value: sanitizeTagValue(ctx.owner) },
  ];
}

/** The dimensions of the endpoint's (only) variant: what SageMaker's invocation metrics carry. */
export function endpointDimensions(model: string): MetricDimension[] {
  return [
    { Name: 'EndpointName', Value: endpointName(model) },
    { Name: 'VariantName', Value: variantName() },
  ];
}

/**
 * The rollback alarms for the manifest's SLOs: a latency alarm when slo.latency is set, an error
 * ratio alarm when slo.availability is set; none without a serving section. Their names are what
 * buildUpdateEndpoint's rollbackAlarmNames expects.
 */
export function buildRollbackAlarms(ctx: BuildContext, options?: BuildOptions): PutMetricAlarmInput[] {
  const serving = ctx.manifest.serving;
  const slo = ctx.manifest.slo;
  if (!serving || !slo) return [];
  const names = endpointAlarmNames(ctx.model);
  const dimensions = endpointDimensions(ctx.model);
  const alarms: PutMetricAlarmInput[] = [];

  if (slo.latency) {
    const { percentile, thresholdMs } = slo.latency;
    alarms.push({
      AlarmName: names.latency,
      AlarmDescription: alarmDescription(
        ctx,
        `rollback alarm: ${percentile} model latency above ${thresholdMs} ms in ${DATAPOINTS_TO_ALARM} of ${EVALUATION_PERIODS} minutes.`,
      ),
      Namespace: NAMESPACE,
      MetricName: 'ModelLatency',
      Dimensions: dimensions,
      ExtendedStatistic: percentile,
      Period: PERIOD_SECONDS,
      EvaluationPeriods: EVALUATION_PERIODS,
      DatapointsToAlarm: DATAPOINTS_TO_ALARM,
      Threshold: latencyThresholdMicros(thresholdMs),
      ComparisonOperator: 'GreaterThanThreshold',
      // No traffic is not a latency problem (and must not roll back a quiet deployment).
      TreatMissingData: 'notBreaching',
      Tags: alarmTags(ctx),
    });
  }

  if (slo.availability !== undefined) {
    const threshold = burnRateThreshold(slo.availability);
    const stat = (id: string, metricName: string): MetricDataQuery => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: { Namespace: NAMESPACE, MetricName: metricName, Dimensions: dimensions },
        Period: PERIOD_SECONDS,
        Stat: 'Sum',
      },
    });
    alarms.push({
      AlarmName: names.errorRate,
      AlarmDescription: alarmDescription(
        ctx,
        `rollback alarm: error ratio (5xx + model errors) / invocations above ${threshold} (${PAGE_BURN_RATE}x the budget of ${slo.availability}% availability) in ${DATAPOINTS_TO_ALARM} of ${EVALUATION_PERIODS} minutes.`,
      ),
      Metrics: [
        {
          Id: 'error_ratio',
          Expression: '(errors_5xx + errors_model) / MAX([invocations, 1])',
          Label: 'Error ratio',
          ReturnData: true,
        },
        stat('errors_5xx', 'Invocation5XXErrors'),
        stat('errors_model', 'InvocationModelErrors'),
        stat('invocations', 'Invocations'),
      ],
      EvaluationPeriods: EVALUATION_PERIODS,
      DatapointsToAlarm: DATAPOINTS_TO_ALARM,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Tags: alarmTags(ctx),
    });
  }

  if (options?.check !== false)
    for (const alarm of alarms) assertValidRequest('cloudwatch', 'PutMetricAlarm', alarm);
  return alarms;
}

/** The names to pass to buildUpdateEndpoint: the rollback alarms this manifest gets. */
export function rollbackAlarmNames(ctx: BuildContext): string[] {
  return buildRollbackAlarms(ctx, { check: false }).map((a) => a.AlarmName);
}
