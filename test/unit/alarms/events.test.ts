// The events the drift and alarm handlers read, as AWS delivers them, and the EMF documents the
// drift handler writes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DRIFT_METRICS, driftMetricDocuments, emfDocument, printEmf } from '#core/alarms/metrics';
import type { DriftReport } from '#core/drift/evaluate';
import { parseAlarmStateChange, parseReasonData } from '#core/events/cloudwatch';
import { EventParseError } from '#core/events/parse';
import { parseDriftEvaluationRequest } from '#core/events/schedule-drift';
import { routesFor } from '#core/wiring';

afterEach(() => {
  vi.restoreAllMocks();
});

// The documented example (aws.md section 3), with CloudWatch's +0000 timestamps and reasonData a string.
const metricAlarmEvent = {
  version: '0',
  id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: '123456789012',
  time: '2019-10-02T17:04:40Z',
  region: 'us-east-1',
  resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:nbops-churn-latency'],
  detail: {
    alarmName: 'nbops-churn-latency',
    configuration: {
      description: 'nbops rollback alarm',
      metrics: [
        {
          id: 'm1',
          metricStat: {
            metric: {
              dimensions: { EndpointName: 'churn' },
              name: 'ModelLatency',
              namespace: 'AWS/SageMaker',
            },
            period: 60,
            stat: 'p99',
          },
          returnData: true,
        },
      ],
    },
    previousState: {
      value: 'OK',
      reason: 'Threshold Crossed: no datapoints were received',
      reasonData: '{"version":"1.0"}',
      timestamp: '2019-10-01T13:56:40.987+0000',
    },
    state: {
      value: 'ALARM',
      reason:
        'Threshold Crossed: 3 out of the last 5 datapoints [250000.0 (02/10/19 17:03:00)] were greater than the threshold (200000.0)',
      reasonData:
        '{"version":"1.0","queryDate":"2019-10-02T17:04:40.985+0000","statistic":"p99","period":60,"recentDatapoints":[250000.0,260000.5],"threshold":200000.0}',
      timestamp: '2019-10-02T17:04:40.989+0000',
    },
  },
};

describe('CloudWatch Alarm State Change', () => {
  it('becomes the alarm use case input: state time as ISO, reasonData parsed', () => {
    expect(parseAlarmStateChange(metricAlarmEvent)).toEqual({
      alarmName: 'nbops-churn-latency',
      state: 'ALARM',
      stateAt: '2019-10-02T17:04:40.989Z',
      reason: metricAlarmEvent.detail.state.reason,
      reasonData: {
        version: '1.0',
        queryDate: '2019-10-02T17:04:40.985+0000',
        statistic: 'p99',
        period: 60,
        recentDatapoints: [250000, 260000.5],
        threshold: 200000,
      },
      previousState: 'OK',
      composite: false,
      eventId: metricAlarmEvent.id,
      eventTime: '2019-10-02T17:04:40.000Z',
    });
  });

  it('reads composite alarms, which carry no metrics, and tolerates missing or broken reasonData', () => {
    const { configuration: _c, ...detail } = metricAlarmEvent.detail;
    const composite = {
      ...metricAlarmEvent,
      detail: {
        ...detail,
        alarmName: 'nbops-churn-burn-page',
        state: { ...detail.state, reasonData: 'not json' },
      },
    };
    expect(parseAlarmStateChange(composite)).toMatchObject({
      composite: true,
      alarmName: 'nbops-churn-burn-page',
    });
    expect(parseAlarmStateChange(composite).reasonData).toBeUndefined();
    expect(parseReasonData('{"triggeringAlarms":[]}')).toEqual({ triggeringAlarms: [] });
    expect(parseReasonData('[1]')).toBeUndefined();
  });

  it('names the field of an event it cannot use', () => {
    const bad = structuredClone(metricAlarmEvent);
    (bad.detail.state as Record<string, unknown>).value = 'BROKEN';
    expect(() => parseAlarmStateChange(bad)).toThrow(EventParseError);
    expect(() => parseAlarmStateChange(bad)).toThrow(
      'detail.state.value is "BROKEN"; expected one of OK, ALARM, INSUFFICIENT_DATA',
    );
    const noTime = structuredClone(metricAlarmEvent);
    delete (noTime.detail.state as Record<string, unknown>).timestamp;
    expect(() => parseAlarmStateChange(noTime)).toThrow('detail.state.timestamp must be a time');
  });

  it('is routed to the alarm handler for nbops alarms only', () => {
    const params = { bucketName: 'b' };
    expect(routesFor(metricAlarmEvent, params).map((r) => r.handler)).toEqual(['alarm']);
    const foreign = {
      ...metricAlarmEvent,
      detail: { ...metricAlarmEvent.detail, alarmName: 'payments-5xx' },
    };
    expect(routesFor(foreign, params)).toEqual([]);
  });
});

describe('Drift Evaluation Due', () => {
  const due = {
    version: '0',
    id: 'evt-1',
    'detail-type': 'Drift Evaluation Due',
    source: 'nbops',
    account: '123456789012',
    time: '2025-03-01T12:00:03Z',
    region: 'us-east-1',
    resources: ['arn:aws:scheduler:us-east-1:123456789012:schedule/nbops/nbops-churn-drift'],
    detail: {
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '2025-03-01T12:00:00Z',
      executionId: 'run-9',
    },
  };

  it('from the schedule via the bus: the run is identified by its execution id and due time', () => {
    expect(parseDriftEvaluationRequest(due)).toEqual({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '2025-03-01T12:00:00.000Z',
      eventId: 'run-9',
    });
    expect(routesFor(due, { bucketName: 'b' }).map((r) => r.handler)).toEqual(['drift']);
  });

  it('from an operator (model only), and as raw Scheduler input without an envelope', () => {
    expect(parseDriftEvaluationRequest({ ...due, detail: { model: 'churn' } })).toEqual({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '2025-03-01T12:00:03.000Z',
      eventId: 'evt-1',
    });
    expect(parseDriftEvaluationRequest(due.detail)).toMatchObject({
      eventId: 'run-9',
      scheduledTime: '2025-03-01T12:00:00.000Z',
    });
    expect(() =>
      parseDriftEvaluationRequest({ model: 'churn', scheduledTime: '2025-03-01T12:00:00Z' }),
    ).toThrow('executionId is missing (set it to <aws.scheduler.execution-id>)');
    expect(() => parseDriftEvaluationRequest({ ...due, detail: { endpoint: 'churn' } })).toThrow(
      'detail.model is missing',
    );
  });
});

describe('drift metrics in Embedded Metric Format', () => {
  const report = (insufficientData: boolean): DriftReport => ({
    method: 'auto',
    features: [
      {
        name: 'a',
        type: 'numeric',
        method: 'ks',
        statistic: 0.4,
        pValue: 1e-9,
        threshold: 0.05,
        drifted: !insufficientData,
        nReference: 10,
        nCurrent: 10,
        missingCurrent: 0,
        invalidCurrent: 0,
      },
      {
        name: 'b',
        type: 'categorical',
        method: 'chi2',
        statistic: null,
        pValue: null,
        threshold: 0.05,
        drifted: false,
        nReference: 0,
        nCurrent: 0,
        missingCurrent: 0,
        invalidCurrent: 0,
        note: 'no values',
      },
    ],
    datasetDrift: {
      share: insufficientData ? 0 : 1,
      drifted: !insufficientData,
      threshold: 0.5,
      driftedFeatures: insufficientData ? 0 : 1,
      evaluatedFeatures: 1,
    },
    records: insufficientData ? 3 : 500,
    minRecords: 100,
    insufficientData,
  });
  const context = {
    model: 'churn',
    version: 2,
    at: '2025-03-01T12:00:00.000Z',
    reportUri: 's3://b/r.html',
    timestamp: new Date(1_740_830_400_000),
  };

  it('one document for the dataset and one per evaluated feature, every metric also a top-level member', () => {
    const [dataset, feature, ...rest] = driftMetricDocuments(report(false), context);
    expect(rest).toEqual([]);
    expect(dataset).toMatchObject({
      _aws: {
        Timestamp: 1_740_830_400_000,
        CloudWatchMetrics: [
          {
            Namespace: 'nbops',
            Dimensions: [['Model']],
            Metrics: [
              { Name: DRIFT_METRICS.records, Unit: 'Count' },
              { Name: DRIFT_METRICS.share, Unit: 'None' },
              { Name: DRIFT_METRICS.datasetDrift, Unit: 'None' },
            ],
          },
        ],
      },
      Model: 'churn',
      RecordsEvaluated: 500,
      DatasetDriftShare: 1,
      DatasetDrift: 1,
      windowEnd: context.at,
      version: 2,
    });
    expect(feature).toMatchObject({ Model: 'churn', Feature: 'a', DriftScore: 0.4, FeatureDrifted: 1 });
    expect(
      (feature!._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions,
    ).toEqual([['Model', 'Feature']]);
  });

  it('without a verdict: no DatasetDrift and no FeatureDrifted, so the drift alarm keeps its state', () => {
    const docs = driftMetricDocuments(report(true), context);
    expect(docs.some((d) => 'DatasetDrift' in d || 'FeatureDrifted' in d)).toBe(false);
    expect(docs[0]).toMatchObject({ RecordsEvaluated: 3, insufficientData: true });
  });

  it('drops values CloudWatch rejects, keeps dimensions from being shadowed, and prints one line per document', () => {
    const doc = emfDocument({
      timestamp: new Date(0),
      dimensions: { Model: 'm' },
      metrics: [
        { name: 'X', value: Number.NaN },
        { name: 'Y', value: 2 },
      ],
      properties: { Model: 'shadow', note: 'kept' },
    });
    expect(doc).toMatchObject({ Model: 'm', Y: 2, note: 'kept' });
    expect('X' in doc).toBe(false);
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => {
      lines.push(chunk);
      return true;
    }) as typeof process.stdout.write);
    printEmf([doc, doc]);
    expect(lines).toEqual([`${JSON.stringify(doc)}\n`, `${JSON.stringify(doc)}\n`]);
  });
});
