// The local CloudWatch alarms, checked against values computed by hand: statistics and percentiles,
// M-of-N evaluation with missing data, the metric math nbops's alarm builders use, composite
// rules, the state-change event's format, EMF ingestion and the saved state.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  AlarmStateFileError,
  computeStatistic,
  evaluateDatapoints,
  LocalAlarms,
  parseAlarmRule,
  parseMathExpression,
} from '#adapters/local/alarms';
import type { AwsEvent } from '#adapters/local/aws-event';
import { buildRollbackAlarms } from '#core/alarms/rollback';
import { buildEndpointAlarms } from '#core/alarms/slo';
import { classifyAwsError } from '#core/aws/errors';
import { applyManifestDefaults, validateManifestShape } from '#core/manifest/schema';
import { resolvePolicy } from '#core/policy/policy';
import type { BuildContext } from '#core/sagemaker/context';

/** The churn example's build context (what the deploy use case builds alarms from). */
function churnContext(): BuildContext {
  const shape = validateManifestShape(parse(readFileSync('examples/churn/manifest.yaml', 'utf8')));
  if (!shape.ok) throw new Error('example manifest invalid');
  const manifest = applyManifestDefaults(shape.value);
  return {
    model: 'churn',
    version: 1,
    manifest,
    policy: resolvePolicy({
      aws: {
        accountId: '000000000000',
        region: 'us-east-1',
        artifactBucket: 'nbops-local',
        executionRoleArn: 'arn:aws:iam::000000000000:role/nbops-local-sagemaker-execution',
      },
    }),
    notebook: { file: 'churn.ipynb', sha256: 'a1'.repeat(32) },
    runtime: { hash: 'ab'.repeat(32) },
    owner: manifest.model.owner,
  };
}

/** 10:00:00 UTC on a minute boundary: periods of 60 s end exactly here. */
const NOW = Date.parse('2025-03-01T10:00:00.000Z');
const MINUTE = 60_000;

function fixedAlarms(options: { now?: number; timeScale?: number; stateFile?: string } = {}) {
  let now = options.now ?? NOW;
  const events: AwsEvent[] = [];
  const alarms = new LocalAlarms({
    clock: { now: () => new Date(now) },
    timeScale: options.timeScale ?? 1,
    emit: (e) => events.push(e),
    log: () => {},
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
  });
  return {
    alarms,
    events,
    setNow: (t: number) => {
      now = t;
    },
  };
}

const DIMS = { EndpointName: 'churn', VariantName: 'AllTraffic' };
const sm = (metricName: string, value: number, timestamp: number) => ({
  namespace: 'AWS/SageMaker',
  metricName,
  dimensions: DIMS,
  value,
  timestamp,
});

describe('statistics', () => {
  const values = [4, 1, 3, 2, 10];
  it('computes the basic statistics', () => {
    expect(computeStatistic(values, 'SampleCount')).toBe(5);
    expect(computeStatistic(values, 'Sum')).toBe(20);
    expect(computeStatistic(values, 'Average')).toBe(4);
    expect(computeStatistic(values, 'Minimum')).toBe(1);
    expect(computeStatistic(values, 'Maximum')).toBe(10);
    expect(computeStatistic([], 'Sum')).toBeUndefined();
  });

  it('computes percentiles by nearest rank', () => {
    // sorted 1 2 3 4 10: p50 -> rank ceil(2.5) = 3; p99 -> rank 5; p20 -> rank 1; p100 -> the maximum
    expect(computeStatistic(values, 'p50')).toBe(3);
    expect(computeStatistic(values, 'p99')).toBe(10);
    expect(computeStatistic(values, 'p20')).toBe(1);
    expect(computeStatistic(values, 'p100')).toBe(10);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(computeStatistic(hundred, 'p99')).toBe(99);
    expect(computeStatistic(hundred, 'p99.9')).toBe(100);
    expect(computeStatistic(hundred, 'p90')).toBe(90);
  });
});

describe('M of N with missing data', () => {
  const base = {
    threshold: 2,
    comparison: 'GreaterThanThreshold' as const,
    datapointsToAlarm: 3,
    current: 'OK' as const,
  };
  const points = [1, undefined, 5, 5, undefined];

  it('counts present datapoints only for missing and ignore', () => {
    expect(evaluateDatapoints({ ...base, datapoints: points, treatMissingData: 'missing' })).toEqual({
      state: 'OK',
      breaching: 2,
      evaluated: 3,
    });
    expect(evaluateDatapoints({ ...base, datapoints: points, treatMissingData: 'ignore' }).state).toBe('OK');
  });

  it('counts missing datapoints as breaching or not', () => {
    expect(evaluateDatapoints({ ...base, datapoints: points, treatMissingData: 'breaching' })).toEqual({
      state: 'ALARM',
      breaching: 4,
      evaluated: 5,
    });
    expect(evaluateDatapoints({ ...base, datapoints: points, treatMissingData: 'notBreaching' }).state).toBe(
      'OK',
    );
  });

  it('with no datapoint at all: INSUFFICIENT_DATA, the current state (ignore), or by the rule', () => {
    const none = [undefined, undefined, undefined, undefined, undefined];
    expect(evaluateDatapoints({ ...base, datapoints: none, treatMissingData: 'missing' }).state).toBe(
      'INSUFFICIENT_DATA',
    );
    expect(
      evaluateDatapoints({ ...base, current: 'ALARM', datapoints: none, treatMissingData: 'ignore' }).state,
    ).toBe('ALARM');
    expect(evaluateDatapoints({ ...base, datapoints: none, treatMissingData: 'breaching' }).state).toBe(
      'ALARM',
    );
    expect(evaluateDatapoints({ ...base, datapoints: none, treatMissingData: 'notBreaching' }).state).toBe(
      'OK',
    );
  });

  it('compares with each operator', () => {
    const at = (
      comparison: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold',
    ) =>
      evaluateDatapoints({
        ...base,
        comparison,
        datapointsToAlarm: 1,
        datapoints: [2],
        treatMissingData: 'missing',
      }).state;
    expect(at('GreaterThanOrEqualToThreshold')).toBe('ALARM');
    expect(at('LessThanThreshold')).toBe('OK');
    expect(at('LessThanOrEqualToThreshold')).toBe('ALARM');
  });
});

describe('the rollback alarms of the churn example', () => {
  const ctx = churnContext();
  const [latency, errors] = buildRollbackAlarms(ctx) as unknown as PutMetricAlarmCommandInput[];

  it('the error-ratio alarm computes (5xx + model errors) / MAX([invocations, 1]) per minute, 3 of 5', async () => {
    const { alarms, events } = fixedAlarms();
    await alarms.putMetricAlarm(errors!);
    expect(alarms.state(errors!.AlarmName!)).toBe('INSUFFICIENT_DATA');
    // Minutes ending at NOW: -5 .. -1. Per minute: invocations, 5xx, model errors.
    const minutes: [number, number, number][] = [
      [10, 0, 0], // 0
      [10, 1, 1], // 0.2
      [0, 0, 0], // no traffic: missing
      [20, 1, 1], // 0.1
      [10, 0, 1], // 0.1
    ];
    minutes.forEach(([inv, e5, em], i) => {
      const t = NOW - (5 - i) * MINUTE + 1_000;
      for (let k = 0; k < inv; k++) {
        alarms.putMetricData(sm('Invocations', 1, t));
        alarms.putMetricData(sm('Invocation5XXErrors', k < e5 ? 1 : 0, t));
        alarms.putMetricData(sm('InvocationModelErrors', k < em ? 1 : 0, t));
      }
    });
    expect(alarms.datapoints(errors!.AlarmName!).map((p) => p.value)).toEqual([0, 0.2, undefined, 0.1, 0.1]);
    const changes = await alarms.evaluate();
    // 3 of the 4 present datapoints are above 0.072 (the missing one is not breaching).
    expect(changes).toEqual([expect.objectContaining({ alarmName: errors!.AlarmName, state: 'ALARM' })]);
    expect(alarms.state(errors!.AlarmName!)).toBe('ALARM');

    const event = events.at(-1)!;
    expect(event).toMatchObject({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      resources: [`arn:aws:cloudwatch:us-east-1:000000000000:alarm:${errors!.AlarmName}`],
      detail: {
        alarmName: errors!.AlarmName,
        state: { value: 'ALARM' },
        previousState: { value: 'INSUFFICIENT_DATA' },
      },
    });
    const detail = event.detail as {
      state: { reasonData: unknown; reason: string; timestamp: string };
      configuration: { metrics: { id: string; expression?: string; returnData: boolean }[] };
    };
    expect(typeof detail.state.reasonData).toBe('string');
    const reasonData = JSON.parse(detail.state.reasonData as string);
    expect(reasonData).toMatchObject({
      version: '1.0',
      threshold: 0.072,
      recentDatapoints: [0.1, 0.1, 0.2, 0],
    });
    expect(detail.state.reason).toMatch(/^Threshold Crossed: 3 out of the last 5 datapoints/);
    expect(detail.state.timestamp).toBe('2025-03-01T10:00:00.000+0000');
    expect(detail.configuration.metrics[0]).toMatchObject({
      id: 'error_ratio',
      expression: '(errors_5xx + errors_model) / MAX([invocations, 1])',
      returnData: true,
    });

    // Unchanged state: no second event.
    await alarms.evaluate();
    expect(events).toHaveLength(1);
  });

  it('the latency alarm takes the p99 of ModelLatency (microseconds) per minute', async () => {
    const { alarms } = fixedAlarms();
    await alarms.putMetricAlarm(latency!);
    // Three minutes with 100 invocations at 1..100 ms: p99 = 99 ms = 99,000 us, under 200 ms.
    for (let m = 1; m <= 3; m++)
      for (let ms = 1; ms <= 100; ms++) alarms.putMetricData(sm('ModelLatency', ms * 1000, NOW - m * MINUTE));
    await alarms.evaluate();
    expect(alarms.state(latency!.AlarmName!)).toBe('OK');
    expect(alarms.datapoints(latency!.AlarmName!).map((p) => p.value)).toEqual([
      undefined,
      undefined,
      99_000,
      99_000,
      99_000,
    ]);
    // The slowest 2% of one minute above 200 ms: the p99 crosses in that minute only (1 of 5).
    for (let k = 0; k < 2; k++) alarms.putMetricData(sm('ModelLatency', 250_000, NOW - MINUTE));
    await alarms.evaluate();
    expect(alarms.state(latency!.AlarmName!)).toBe('OK');
  });

  it('counts only complete periods: a minute still filling is not evaluated', async () => {
    const { alarms, setNow } = fixedAlarms();
    await alarms.putMetricAlarm(errors!);
    for (let m = 0; m < 3; m++) {
      alarms.putMetricData(sm('Invocations', 1, NOW + m * MINUTE + 10));
      alarms.putMetricData(sm('Invocation5XXErrors', 1, NOW + m * MINUTE + 10));
      alarms.putMetricData(sm('InvocationModelErrors', 0, NOW + m * MINUTE + 10));
    }
    setNow(NOW + 2 * MINUTE + 30_000);
    await alarms.evaluate();
    expect(alarms.state(errors!.AlarmName!)).toBe('OK'); // 2 complete breaching minutes of 3 needed
    setNow(NOW + 3 * MINUTE);
    await alarms.evaluate();
    expect(alarms.state(errors!.AlarmName!)).toBe('ALARM');
  });

  it('scales periods by timeScale (60 s at 0.01 is 600 ms)', async () => {
    const { alarms } = fixedAlarms({ timeScale: 0.01 });
    await alarms.putMetricAlarm(errors!);
    for (let p = 1; p <= 3; p++) {
      const t = NOW - p * 600 + 5;
      alarms.putMetricData(sm('Invocations', 1, t));
      alarms.putMetricData(sm('Invocation5XXErrors', 1, t));
      alarms.putMetricData(sm('InvocationModelErrors', 1, t));
    }
    expect(alarms.datapoints(errors!.AlarmName!).map((p) => p.value)).toEqual([
      undefined,
      undefined,
      2,
      2,
      2,
    ]);
    await alarms.evaluate();
    expect(alarms.state(errors!.AlarmName!)).toBe('ALARM');
  });

  it('takes every alarm the SLO builders make (composites included) and evaluates the page composite', async () => {
    const { alarms } = fixedAlarms({ timeScale: 0.001 });
    const built = buildEndpointAlarms(ctx);
    for (const a of built.metric) await alarms.putMetricAlarm(a as unknown as PutMetricAlarmCommandInput);
    for (const c of built.composite) await alarms.putCompositeAlarm(c);
    const page = built.composite[0]!.AlarmName;
    await alarms.evaluate();
    expect(alarms.state(page)).toBe('OK');
    // Errors across the last hour (scaled: 3.6 s): every window's ratio is 1.
    for (let t = NOW - 3_600; t < NOW; t += 5) {
      alarms.putMetricData(sm('Invocations', 1, t));
      alarms.putMetricData(sm('Invocation5XXErrors', 1, t));
      alarms.putMetricData(sm('InvocationModelErrors', 0, t));
    }
    await alarms.evaluate();
    expect(alarms.state(page)).toBe('ALARM');
  });
});

describe('metric math', () => {
  const alarm = (
    expression: string,
    extra: Partial<PutMetricAlarmCommandInput> = {},
  ): PutMetricAlarmCommandInput => ({
    AlarmName: 'nbops-test-math',
    Metrics: [
      { Id: 'e', Expression: expression, ReturnData: true },
      {
        Id: 'a',
        ReturnData: false,
        MetricStat: { Metric: { Namespace: 'T', MetricName: 'A', Dimensions: [] }, Period: 60, Stat: 'Sum' },
      },
      {
        Id: 'b',
        ReturnData: false,
        MetricStat: { Metric: { Namespace: 'T', MetricName: 'B', Dimensions: [] }, Period: 60, Stat: 'Sum' },
      },
    ],
    EvaluationPeriods: 4,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    ...extra,
  });
  /** a per minute: 2, -, 6, 8; b: 1, 1, -, 4 (oldest first). */
  async function values(expression: string): Promise<(number | undefined)[]> {
    const { alarms } = fixedAlarms();
    await alarms.putMetricAlarm(alarm(expression));
    const a = [2, undefined, 6, 8];
    const b = [1, 1, undefined, 4];
    for (let i = 0; i < 4; i++) {
      const t = NOW - (4 - i) * MINUTE;
      if (a[i] !== undefined)
        alarms.putMetricData({ namespace: 'T', metricName: 'A', dimensions: {}, value: a[i]!, timestamp: t });
      if (b[i] !== undefined)
        alarms.putMetricData({ namespace: 'T', metricName: 'B', dimensions: {}, value: b[i]!, timestamp: t });
    }
    return alarms.datapoints('nbops-test-math').map((p) => p.value);
  }

  it('arithmetic keeps only periods where every operand has a value; precedence and ^ as usual', async () => {
    expect(await values('a + b * 2')).toEqual([4, undefined, undefined, 16]);
    expect(await values('(a - b) / 2')).toEqual([0.5, undefined, undefined, 2]);
    expect(await values('a / (b - 1)')).toEqual([undefined, undefined, undefined, 8 / 3]);
    expect(await values('2 ^ 3 ^ 2 + a * 0')).toEqual([512, undefined, 512, 512]);
    expect(await values('-a + 10')).toEqual([8, undefined, 4, 2]);
  });

  it('MAX/MIN/SUM/AVG over [..] work per period; over one series they give one value', async () => {
    expect(await values('MAX([a, b, 3])')).toEqual([3, 3, 6, 8]);
    expect(await values('MIN([a, b])')).toEqual([1, 1, 6, 4]);
    expect(await values('SUM([a, b])')).toEqual([3, 1, 6, 12]);
    expect(await values('AVG([a, b])')).toEqual([1.5, 1, 6, 6]);
    expect(await values('MAX(a) + a * 0')).toEqual([8, undefined, 8, 8]);
  });

  it('FILL, IF and comparisons', async () => {
    expect(await values('FILL(a, 0)')).toEqual([2, 0, 6, 8]);
    expect(await values('FILL(b, REPEAT)')).toEqual([1, 1, 1, 4]);
    expect(await values('FILL(a, LINEAR)')).toEqual([2, 4, 6, 8]);
    expect(await values('IF(a > 5, a, 0)')).toEqual([0, undefined, 6, 8]);
    expect(await values('IF(b >= 1, 100)')).toEqual([100, 100, undefined, 100]);
    expect(await values('ABS(b - a)')).toEqual([1, undefined, undefined, 4]);
  });

  it('refuses what it cannot evaluate, naming it, as a CloudWatch ValidationError', async () => {
    const { alarms } = fixedAlarms();
    const refused = async (input: PutMetricAlarmCommandInput) => {
      const err = await alarms.putMetricAlarm(input).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name).toBe('ValidationError');
      expect(classifyAwsError(err).kind).toBe('validation');
      return err!.message;
    };
    expect(await refused(alarm('ANOMALY_DETECTION_BAND(a, 2)'))).toMatch(
      /ANOMALY_DETECTION_BAND is not supported by the local alarms \(supported: MAX/,
    );
    expect(await refused(alarm('a + c'))).toMatch(/refers to "c"/);
    expect(await refused(alarm('FILL(a)'))).toMatch(/FILL takes 2/);
    expect(await refused(alarm('[a, b]'))).toMatch(/array/);
    expect(
      await refused({
        AlarmName: 'nbops-test-tm',
        Namespace: 'T',
        MetricName: 'A',
        ExtendedStatistic: 'tm99',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    ).toMatch(/tm99 is not computed by the local alarms/);
    expect(
      await refused({ ...alarm('a'), ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }),
    ).toMatch(/anomaly detection/);
    // The API model is checked first, as the AWS adapter does.
    await expect(alarms.putMetricAlarm({ ...alarm('a'), EvaluationPeriods: 0 })).rejects.toThrow(
      /EvaluationPeriods/,
    );
  });

  it('parses and rejects syntax with positions', () => {
    expect(parseMathExpression('(x + y) / MAX([z, 1])')).toMatchObject({ type: 'binary', op: '/' });
    expect(() => parseMathExpression('a +')).toThrow(/ends where a value was expected/);
    expect(() => parseMathExpression('a $ b')).toThrow(/cannot read/);
  });
});

describe('composite alarms', () => {
  async function withChildren(states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>) {
    const { alarms, events } = fixedAlarms();
    for (const [name, state] of Object.entries(states)) {
      // A threshold alarm on its own metric: 1 -> ALARM, 0 -> OK, nothing -> INSUFFICIENT_DATA.
      await alarms.putMetricAlarm({
        AlarmName: name,
        Namespace: 'T',
        MetricName: name,
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      if (state !== 'INSUFFICIENT_DATA')
        alarms.putMetricData({
          namespace: 'T',
          metricName: name,
          dimensions: {},
          value: state === 'ALARM' ? 1 : 0,
          timestamp: NOW - 30_000,
        });
    }
    return { alarms, events };
  }

  it('evaluates ALARM/OK/INSUFFICIENT_DATA, AND, OR, NOT and parentheses', async () => {
    const { alarms, events } = await withChildren({ a: 'ALARM', b: 'OK', c: 'INSUFFICIENT_DATA' });
    const rules: [string, 'ALARM' | 'OK'][] = [
      ['ALARM("a") AND OK(b)', 'ALARM'],
      ['ALARM(a) AND ALARM(b)', 'OK'],
      ['ALARM(b) OR INSUFFICIENT_DATA("c")', 'ALARM'],
      ['NOT ALARM(a) OR (OK(b) AND NOT ALARM(c))', 'ALARM'],
      ['NOT (ALARM(a) AND OK(b))', 'OK'],
      ['ALARM(b) OR ALARM(c) OR FALSE', 'OK'],
      ['ALARM("arn:aws:cloudwatch:us-east-1:000000000000:alarm:a") AND TRUE', 'ALARM'],
    ];
    for (const [i, [rule]] of rules.entries())
      await alarms.putCompositeAlarm({ AlarmName: `composite-${i}`, AlarmRule: rule });
    await alarms.evaluate();
    for (const [i, [rule, expected]] of rules.entries())
      expect(alarms.state(`composite-${i}`), rule).toBe(expected);
    const composite = events.find((e) => (e.detail as { alarmName: string }).alarmName === 'composite-0')!;
    expect(composite.detail).toMatchObject({
      configuration: { alarmRule: 'ALARM("a") AND OK(b)' },
      state: { value: 'ALARM' },
    });
    expect(
      JSON.parse((composite.detail as { state: { reasonData: string } }).state.reasonData),
    ).toMatchObject({
      triggeringAlarms: [
        { arn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:a', state: { value: 'ALARM' } },
      ],
    });
  });

  it('refuses rules that name missing alarms or do not parse', async () => {
    const { alarms } = await withChildren({ a: 'OK' });
    await expect(
      alarms.putCompositeAlarm({ AlarmName: 'x', AlarmRule: 'ALARM(a) AND ALARM(nope)' }),
    ).rejects.toThrow(/alarms \[nope\] in the alarm rule do not exist/);
    await expect(alarms.putCompositeAlarm({ AlarmName: 'x', AlarmRule: 'ALARM(a) AND' })).rejects.toThrow(
      /ends where/,
    );
    expect(() => parseAlarmRule('ALARM(a) XOR OK(b)')).toThrow(/unexpected "XOR"/);
  });
});

describe('EMF, persistence and the port', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nbops-alarms-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ingests EMF documents under each of their dimension sets, exactly matched', async () => {
    const { alarms } = fixedAlarms();
    const put = (name: string, dims: { Name: string; Value: string }[]) =>
      alarms.putMetricAlarm({
        AlarmName: name,
        Namespace: 'nbops',
        MetricName: 'DatasetDrift',
        Dimensions: dims,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'ignore',
      });
    await put('by-model', [{ Name: 'Model', Value: 'churn' }]);
    await put('by-model-and-service', [
      { Name: 'Model', Value: 'churn' },
      { Name: 'service', Value: 'drift' },
    ]);
    const stored = alarms.ingestEmf(
      JSON.stringify({
        _aws: {
          Timestamp: NOW - 60_000,
          CloudWatchMetrics: [
            {
              Namespace: 'nbops',
              Dimensions: [['Model']],
              Metrics: [{ Name: 'DatasetDrift', Unit: 'None' }],
            },
          ],
        },
        Model: 'churn',
        DatasetDrift: 1,
      }),
    );
    expect(stored).toBe(1);
    expect(alarms.ingestEmf('{"level":"INFO","message":"not a metric"}')).toBe(0);
    await alarms.evaluate();
    expect(alarms.state('by-model')).toBe('ALARM');
    expect(alarms.state('by-model-and-service')).toBe('INSUFFICIENT_DATA');
  });

  it('saves definitions and states, reads them back, and reports an unreadable file', async () => {
    const stateFile = join(dir, 'cloudwatch', 'alarms.json');
    const first = fixedAlarms({ stateFile });
    const ctx = churnContext();
    const [, errors] = buildRollbackAlarms(ctx) as unknown as PutMetricAlarmCommandInput[];
    await first.alarms.putMetricAlarm(errors!);
    for (let m = 1; m <= 3; m++) {
      first.alarms.putMetricData(sm('Invocations', 1, NOW - m * MINUTE));
      first.alarms.putMetricData(sm('Invocation5XXErrors', 1, NOW - m * MINUTE));
      first.alarms.putMetricData(sm('InvocationModelErrors', 0, NOW - m * MINUTE));
    }
    await first.alarms.evaluate();
    await first.alarms.close();

    const again = await LocalAlarms.open({ stateFile, log: () => {} });
    expect(await again.describeAlarms([errors!.AlarmName!, 'missing'])).toEqual([
      { name: errors!.AlarmName, state: 'ALARM' },
    ]);
    await again.deleteAlarms([errors!.AlarmName!]);
    expect(await again.describeAlarms([errors!.AlarmName!])).toEqual([]);
    await again.close();

    await writeFile(stateFile, '{"format":"nbops-local-alarms/v1","alarms":[{"kind":"metric"');
    await expect(LocalAlarms.open({ stateFile })).rejects.toBeInstanceOf(AlarmStateFileError);
  });
});
