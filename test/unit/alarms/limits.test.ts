// The alarm limits the API model cannot express: each check catches the mistake it names and
// passes what CloudWatch accepts.
import { describe, expect, it } from 'vitest';
import { checkAlarmRule, checkMetricAlarmLimits } from '#core/alarms/limits';
import type { MetricDataQuery, PutMetricAlarmInput } from '#core/alarms/rollback';

const single = (over: Partial<PutMetricAlarmInput> = {}): PutMetricAlarmInput => ({
  AlarmName: 'a',
  Namespace: 'nbops',
  MetricName: 'DatasetDrift',
  Statistic: 'Maximum',
  Period: 300,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  ...over,
});

const stat = (id: string, period = 60): MetricDataQuery => ({
  Id: id,
  ReturnData: false,
  MetricStat: {
    Metric: { Namespace: 'AWS/SageMaker', MetricName: 'Invocations' },
    Period: period,
    Stat: 'Sum',
  },
});

const math = (metrics: MetricDataQuery[], over: Partial<PutMetricAlarmInput> = {}): PutMetricAlarmInput => ({
  AlarmName: 'm',
  Metrics: metrics,
  EvaluationPeriods: 1,
  Threshold: 0.1,
  ComparisonOperator: 'GreaterThanThreshold',
  ...over,
});

describe('metric alarm limits', () => {
  it('accept valid single-metric and metric-math alarms', () => {
    expect(checkMetricAlarmLimits(single())).toEqual([]);
    expect(
      checkMetricAlarmLimits(
        math([{ Id: 'ratio', Expression: 'a / MAX([b, 1])', ReturnData: true }, stat('a'), stat('b')]),
      ),
    ).toEqual([]);
  });

  it('Period x EvaluationPeriods: at most 1 day under an hour, 7 days otherwise; a period at most 1 day', () => {
    expect(checkMetricAlarmLimits(single({ Period: 60, EvaluationPeriods: 1440 }))).toEqual([]);
    expect(checkMetricAlarmLimits(single({ Period: 60, EvaluationPeriods: 1441 }))[0]).toContain(
      'exceeds 86400 s (1 day for periods under an hour)',
    );
    expect(checkMetricAlarmLimits(single({ Period: 3600, EvaluationPeriods: 168 }))).toEqual([]);
    expect(checkMetricAlarmLimits(single({ Period: 3600, EvaluationPeriods: 169 }))[0]).toContain(
      'exceeds 604800 s',
    );
    expect(checkMetricAlarmLimits(single({ Period: 3 * 86_400 }))[0]).toContain('longer than the 86400 s');
    expect(checkMetricAlarmLimits(single({ Period: 45 }))[0]).toContain(
      'must be 10, 20, 30 or a multiple of 60',
    );
  });

  it('DatapointsToAlarm between 1 and EvaluationPeriods', () => {
    expect(checkMetricAlarmLimits(single({ EvaluationPeriods: 5, DatapointsToAlarm: 3 }))).toEqual([]);
    expect(checkMetricAlarmLimits(single({ EvaluationPeriods: 2, DatapointsToAlarm: 3 }))[0]).toContain(
      'DatapointsToAlarm 3 must be between 1 and EvaluationPeriods (2)',
    );
  });

  it('one source of data: a metric or metric math, with one statistic', () => {
    expect(checkMetricAlarmLimits(single({ Metrics: [stat('a')] }))).toContainEqual(
      'a: give exactly one of MetricName (one metric) or Metrics (metric math)',
    );
    expect(checkMetricAlarmLimits(single({ ExtendedStatistic: 'p99' }))).toContainEqual(
      'a: give exactly one of Statistic or ExtendedStatistic',
    );
  });

  it('metric math: one result, valid and unique ids, known references, one period, at most 10 metrics', () => {
    const two = math([
      { Id: 'x', Expression: 'a', ReturnData: true },
      { Id: 'y', Expression: 'a * 2' },
      stat('a'),
    ]);
    expect(checkMetricAlarmLimits(two)[0]).toContain('exactly one query must return data');
    expect(
      checkMetricAlarmLimits(math([{ Id: 'Ratio', Expression: 'a', ReturnData: true }, stat('a')]))[0],
    ).toContain('must start with a lowercase letter');
    expect(
      checkMetricAlarmLimits(math([{ Id: 'r', Expression: 'a / nope', ReturnData: true }, stat('a')])),
    ).toContainEqual('m: expression "r" names "nope", which is not a query id');
    expect(
      checkMetricAlarmLimits(
        math([{ Id: 'r', Expression: 'a + b', ReturnData: true }, stat('a', 60), stat('b', 300)]),
      ),
    ).toContainEqual('m: every MetricStat of one alarm must use the same Period (got 60, 300)');
    const eleven = Array.from({ length: 11 }, (_, i) => stat(`m${i}`));
    expect(
      checkMetricAlarmLimits(math([{ Id: 'r', Expression: 'm0', ReturnData: true }, ...eleven])),
    ).toContainEqual('m: 11 MetricStat queries; at most 10');
    expect(
      checkMetricAlarmLimits(
        math([{ Id: 'r', Expression: 'a', ReturnData: true }, stat('a')], { Period: 60 }),
      ),
    ).toContainEqual('m: a metric-math alarm sets Period in each MetricStat, not on the alarm');
  });
});

describe('composite alarm rules', () => {
  it('accept the grammar CloudWatch documents and list the alarms named', () => {
    const rule = '(ALARM("a-1h") AND ALARM(a-5m)) OR (NOT OK("b") AND INSUFFICIENT_DATA(c)) OR TRUE';
    expect(checkAlarmRule(rule)).toEqual({ problems: [], alarms: ['a-1h', 'a-5m', 'b', 'c'] });
    expect(checkAlarmRule('ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:x)').problems).toEqual([]);
  });

  it('refuse unbalanced parentheses, dangling operators, unknown words and empty rules', () => {
    expect(checkAlarmRule('(ALARM(a) AND ALARM(b)').problems[0]).toContain('unclosed parenthesis');
    expect(checkAlarmRule('ALARM(a) AND').problems[0]).toContain('ends where a condition was expected');
    expect(checkAlarmRule('ALARM(a) ALARM(b)').problems[0]).toContain('has more after a complete rule');
    expect(checkAlarmRule('ALARMS(a)').problems[0]).toContain('unexpected "ALARMS(a)"');
    expect(checkAlarmRule('AND ALARM(a)').problems[0]).toContain('has AND where a condition was expected');
    expect(checkAlarmRule('').problems[0]).toContain('ends where a condition was expected');
  });

  it('refuse more than 100 alarms', () => {
    const rule = Array.from({ length: 101 }, (_, i) => `ALARM(a${i})`).join(' OR ');
    expect(checkAlarmRule(rule).problems).toContainEqual('AlarmRule names 101 alarms; at most 100');
  });
});
