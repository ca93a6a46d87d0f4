// The endpoint's alarms, contract-checked: every request against the CloudWatch API model and
// against the limits the model cannot express (Period x EvaluationPeriods, metric-math counts,
// composite rule syntax), for the example manifest and for generated SLOs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAlarmRule, checkMetricAlarmLimits } from '#core/alarms/limits';
import { ALARM_KINDS, BURN_WINDOWS } from '#core/alarms/names';
import {
  ALARM_ROLES,
  allAlarmNames,
  buildEndpointAlarms,
  type EndpointAlarms,
  staleAlarmNames,
  WINDOW_SECONDS,
} from '#core/alarms/slo';
import { checkRequest } from '#core/aws/api-model';
import { buildUpdateEndpoint } from '#core/sagemaker/requests';
import { context } from '../sagemaker/helpers';

const TOPICS = {
  pageTopicArn: 'arn:aws:sns:us-east-1:123456789012:nbops-page',
  ticketTopicArn: 'arn:aws:sns:us-east-1:123456789012:nbops-ticket',
};

function expectValid(alarms: EndpointAlarms): void {
  for (const alarm of alarms.metric) {
    expect(checkRequest('cloudwatch', 'PutMetricAlarm', alarm), alarm.AlarmName).toEqual([]);
    expect(checkMetricAlarmLimits(alarm), alarm.AlarmName).toEqual([]);
  }
  const put = new Set(alarms.metric.map((a) => a.AlarmName));
  for (const alarm of alarms.composite) {
    expect(checkRequest('cloudwatch', 'PutCompositeAlarm', alarm), alarm.AlarmName).toEqual([]);
    const rule = checkAlarmRule(alarm.AlarmRule);
    expect(rule.problems).toEqual([]);
    // Composites name only alarms put before them.
    for (const name of rule.alarms) expect(put.has(name), `${alarm.AlarmName} names ${name}`).toBe(true);
    put.add(alarm.AlarmName);
  }
  expect(alarms.rollback.length).toBeLessThanOrEqual(10);
}

describe('endpoint alarms for the example manifest (availability 99.5%, p99 under 200 ms, drift)', () => {
  const alarms = buildEndpointAlarms(context(), { topics: TOPICS });
  const byName = new Map(alarms.metric.map((a) => [a.AlarmName, a]));

  it('are valid CloudWatch requests within every limit', () => {
    expectValid(alarms);
    expect(alarms.metric.map((a) => a.AlarmName)).toEqual([
      'nbops-churn-latency',
      'nbops-churn-errors-5m',
      'nbops-churn-errors-30m',
      'nbops-churn-errors-1h',
      'nbops-churn-errors-2h',
      'nbops-churn-errors-6h',
      'nbops-churn-errors-1d',
      'nbops-churn-drift',
    ]);
  });

  it('watch latency at the manifest percentile, in microseconds', () => {
    expect(byName.get('nbops-churn-latency')).toMatchObject({
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 200_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm on the error ratio over each window, one datapoint per window, at that window’s burn rate', () => {
    const expected: Record<string, number> = {
      '30m': 0.03,
      '1h': 0.072,
      '2h': 0.015,
      '6h': 0.03,
      '1d': 0.015,
    };
    for (const [window, threshold] of Object.entries(expected)) {
      const alarm = byName.get(`nbops-churn-errors-${window}`)!;
      expect(alarm.Threshold, window).toBe(threshold);
      expect(alarm.EvaluationPeriods).toBe(1);
      const stats = alarm.Metrics!.filter((m) => m.MetricStat);
      expect(stats.map((m) => m.MetricStat!.Metric.MetricName).sort()).toEqual([
        'Invocation5XXErrors',
        'InvocationModelErrors',
        'Invocations',
      ]);
      for (const m of stats) {
        expect(m.MetricStat!.Period).toBe(WINDOW_SECONDS[window as '1h']);
        expect(m.MetricStat!.Stat).toBe('Sum');
      }
      expect(alarm.Metrics!.find((m) => m.ReturnData)?.Expression).toBe(
        '(errors_5xx + errors_model) / MAX([invocations, 1])',
      );
    }
    // The 5-minute window doubles as the rollback alarm: 3 of the last 5 one-minute datapoints.
    expect(byName.get('nbops-churn-errors-5m')).toMatchObject({
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      Threshold: 0.072,
    });
  });

  it('combine the windows in composites: page = (1h AND 5m) OR (6h AND 30m), ticket = 1d AND 2h, muted while paging', () => {
    const [page, ticket] = alarms.composite;
    expect(page).toMatchObject({
      AlarmName: 'nbops-churn-burn-page',
      AlarmRule:
        '(ALARM("nbops-churn-errors-1h") AND ALARM("nbops-churn-errors-5m")) OR (ALARM("nbops-churn-errors-6h") AND ALARM("nbops-churn-errors-30m"))',
      AlarmActions: [TOPICS.pageTopicArn],
      OKActions: [TOPICS.pageTopicArn],
    });
    expect(ticket).toMatchObject({
      AlarmName: 'nbops-churn-burn-ticket',
      AlarmRule: '(ALARM("nbops-churn-errors-1d") AND ALARM("nbops-churn-errors-2h"))',
      ActionsSuppressor: 'nbops-churn-burn-page',
      AlarmActions: [TOPICS.ticketTopicArn],
    });
    expect(ticket!.ActionsSuppressorWaitPeriod).toBeGreaterThan(0);
    expect(ticket!.ActionsSuppressorExtensionPeriod).toBeGreaterThan(0);
  });

  it('raise the drift alarm on the nbops DatasetDrift metric of the model, keeping state between runs', () => {
    expect(byName.get('nbops-churn-drift')).toMatchObject({
      Namespace: 'nbops',
      MetricName: 'DatasetDrift',
      Dimensions: [{ Name: 'Model', Value: 'churn' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmActions: [TOPICS.ticketTopicArn],
    });
  });

  it('notify only from page and ticket alarms; windows are components', () => {
    for (const alarm of alarms.metric) {
      const kind = alarm.AlarmName.replace('nbops-churn-', '') as keyof typeof ALARM_ROLES;
      if (ALARM_ROLES[kind] === 'component') expect(alarm.AlarmActions, alarm.AlarmName).toBeUndefined();
      else expect(alarm.AlarmActions, alarm.AlarmName).toHaveLength(1);
    }
  });

  it('hand the rollback alarms to the blue/green update, and the runbook to every description', () => {
    expect(alarms.rollback).toEqual(['nbops-churn-latency', 'nbops-churn-errors-5m']);
    const update = buildUpdateEndpoint(
      context(() => {}, { version: 2 }),
      'churn-v2-00000000',
      alarms.rollback,
    );
    expect(checkRequest('sagemaker', 'UpdateEndpoint', update)).toEqual([]);
    for (const a of [...alarms.metric, ...alarms.composite])
      expect(a.AlarmDescription).toContain('https://wiki.example.com/ml/churn/runbook');
  });
});

describe('alarms follow the manifest', () => {
  it('without topics, no alarm has actions (the alarm handler notifies)', () => {
    const alarms = buildEndpointAlarms(context());
    for (const a of [...alarms.metric, ...alarms.composite]) expect(a.AlarmActions).toBeUndefined();
  });

  it('without slo: only the drift alarm, and no rollback alarms', () => {
    const alarms = buildEndpointAlarms(context((m) => delete m.slo));
    expect(alarms.metric.map((a) => a.AlarmName)).toEqual(['nbops-churn-drift']);
    expect(alarms.composite).toEqual([]);
    expect(alarms.rollback).toEqual([]);
  });

  it('without drift or serving: no drift alarm, or nothing at all', () => {
    expect(buildEndpointAlarms(context((m) => delete m.drift)).metric.map((a) => a.AlarmName)).not.toContain(
      'nbops-churn-drift',
    );
    expect(buildEndpointAlarms(context((m) => delete m.serving))).toEqual({
      metric: [],
      composite: [],
      rollback: [],
    });
  });

  it('names the alarms an earlier manifest left behind, composites first', () => {
    const latencyOnly = buildEndpointAlarms(
      context((m) => {
        delete m.slo.availability;
        delete m.drift;
      }),
    );
    expect(staleAlarmNames('churn', latencyOnly)).toEqual([
      'nbops-churn-burn-ticket',
      'nbops-churn-burn-page',
      ...BURN_WINDOWS.map((w) => `nbops-churn-errors-${w}`),
      'nbops-churn-drift',
    ]);
    expect(staleAlarmNames('churn', buildEndpointAlarms(context()))).toEqual([]);
    // Every kind of alarm is covered, once: retiring the model deletes them all.
    expect(allAlarmNames('churn').sort()).toEqual(ALARM_KINDS.map((k) => `nbops-churn-${k}`).sort());
  });

  it('are valid for any SLO the manifest schema allows', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 50, max: 99.999, noNaN: true }),
        fc.constantFrom('p50', 'p90', 'p95', 'p99', 'p99.9'),
        fc.double({ min: 0.01, max: 600_000, noNaN: true }),
        fc.stringMatching(/^[a-z][a-z0-9]{0,20}(-[a-z0-9]{1,8}){0,2}$/),
        (availability, percentile, thresholdMs, name) => {
          const ctx = context((m) => {
            m.model.name = name;
            m.slo = { availability, latency: { percentile, thresholdMs } };
          });
          const alarms = buildEndpointAlarms(ctx, { topics: TOPICS });
          expectValid(alarms);
          for (const a of alarms.metric) if (a.Metrics) expect(a.Threshold).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
