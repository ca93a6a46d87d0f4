/**
 * What the drift and alarm tests share, on top of the lifecycle harness (s3rver + dynalite through
 * the production adapters): a model in production, its model.tar.gz with a real baseline, data
 * capture in SageMaker's layout, CloudWatch alarm events as EventBridge delivers them, and a
 * recording of the alarm calls the harness's CloudWatch mock does not keep.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarArchive } from '#core/archive/tar';
import { baselineDocument, baselineFromRows, seededRandom } from '#core/drift/baseline';
import type { FeatureSpec } from '#core/drift/values';
import { captureKeyPrefix, parseS3Uri } from '#core/layout';
import type { AlarmState } from '#core/ports';
import { ACCOUNT, REGION } from '../lifecycle/fake-sagemaker';
import { churnNotebook, type Harness, shipVersion, trainVersion } from '../lifecycle/harness';

export const GOOD = { 'validation:auc': 0.9, 'validation:accuracy': 0.84, 'train:loss': 0.31 };

/** The churn example's serving.features, in payload order. */
export const FEATURES: FeatureSpec[] = [
  { name: 'tenure_months', type: 'numeric' },
  { name: 'monthly_charges', type: 'numeric' },
  { name: 'total_charges', type: 'numeric' },
  { name: 'contract', type: 'categorical' },
  { name: 'support_calls', type: 'numeric' },
  { name: 'has_fiber', type: 'categorical' },
];

const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];

/** Rows like the training data; `drifted` shifts charges up and contracts to month-to-month. */
export function churnRows(n: number, seed: number, drifted = false): (string | number)[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const tenure = 1 + Math.floor(random() * 72);
    const monthly = Math.round((20 + random() * 100 + (drifted ? 45 : 0)) * 100) / 100;
    const contract = drifted && random() < 0.8 ? CONTRACTS[0]! : CONTRACTS[Math.floor(random() * 3)]!;
    return [
      tenure,
      monthly,
      Math.round(tenure * monthly * 100) / 100,
      contract,
      Math.floor(random() * 6),
      random() < 0.4 ? 'true' : 'false',
    ];
  });
}

/** v1 (and, with `versions: 2`, v2 replacing it) trained, approved and DEPLOYED. */
export async function deployedChurn(h: Harness, versions: 1 | 2 = 1): Promise<void> {
  for (let v = 1; v <= versions; v++) {
    const body = churnNotebook((nb) => {
      nb.metadata.nbops.parameters.epochs = 100 * v;
      nb.cells[2].source = [`epochs = ${100 * v}\n`, 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000'];
    });
    const trained = await trainVersion(h, body, GOOD);
    if (trained.training.kind !== 'pending-approval') throw new Error(JSON.stringify(trained.training));
    await shipVersion(h, trained.version);
  }
}

/** model.tar.gz at the version's recorded artifact URI, holding a model file and its baseline. */
export async function putModelArtifact(
  h: Harness,
  version: number,
  files: { baseline?: unknown; extra?: Record<string, Uint8Array | string> } = {},
): Promise<string> {
  const record = await h.services.registry.getVersion('churn', version);
  const uri = record?.facts.artifact?.uri;
  const where = uri && parseS3Uri(uri);
  if (!where) throw new Error(`v${version} has no artifact URI`);
  const entry = (path: string, data: Uint8Array | string) => ({
    path,
    type: 'file' as const,
    mode: 0o644,
    mtime: 1_700_000_000,
    data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
  });
  const baseline =
    files.baseline === undefined
      ? baselineDocument(baselineFromRows(churnRows(2000, 7), FEATURES))
      : files.baseline;
  const entries = [
    entry('inference.py', 'def model_fn(model_dir):\n    return None\n'),
    // A large model file before the baseline, as `tar` orders a model folder.
    entry(
      'model.bin',
      new Uint8Array(300_000).map((_, i) => (i * 31) % 251),
    ),
    ...Object.entries(files.extra ?? {}).map(([path, data]) => entry(path, data)),
    ...(baseline === null ? [] : [entry('nbops-baseline.json', JSON.stringify(baseline))]),
  ];
  await h.services.store.put(where, gzipSync(tarArchive(entries)));
  return uri;
}

/** Data capture of `rows` as SageMaker writes it: one JSONL file per hour, CSV payloads. */
export async function putCapture(
  h: Harness,
  rows: (string | number)[][],
  from: Date,
  spacingSeconds = 1,
): Promise<void> {
  const byHour = new Map<string, string[]>();
  rows.forEach((row, i) => {
    const at = new Date(from.getTime() + i * spacingSeconds * 1000);
    const hour = at.toISOString().slice(0, 13);
    const line = JSON.stringify({
      captureData: {
        endpointInput: {
          observedContentType: 'text/csv',
          mode: 'INPUT',
          data: row.join(','),
          encoding: 'CSV',
        },
        endpointOutput: { observedContentType: 'text/csv', mode: 'OUTPUT', data: '0.42', encoding: 'CSV' },
      },
      eventMetadata: { eventId: randomUUID(), inferenceTime: at.toISOString() },
      eventVersion: '0',
    });
    byHour.set(hour, [...(byHour.get(hour) ?? []), line]);
  });
  for (const [hour, lines] of byHour) {
    const [date, hh] = hour.split('T') as [string, string];
    const key = `${captureKeyPrefix('churn', 'AllTraffic')}${date.replaceAll('-', '/')}/${hh}/05-00-000-${randomUUID()}.jsonl`;
    await h.services.store.put({ bucket: h.bucket, key }, `${lines.join('\n')}\n`);
  }
}

/** "Drift Evaluation Due" as the schedule puts it on the nbops bus. */
export function driftEvent(scheduledTime: string, executionId: string = randomUUID()): object {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Drift Evaluation Due',
    source: 'nbops',
    account: ACCOUNT,
    time: scheduledTime.replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/nbops/nbops-churn-drift`],
    detail: { model: 'churn', endpoint: 'churn', scheduledTime, executionId },
  };
}

/** CloudWatch's `+0000` timestamp form. */
const cwTime = (iso: string) => iso.replace('Z', '+0000');

/** "CloudWatch Alarm State Change" as EventBridge delivers it. */
export function alarmEvent(
  alarmName: string,
  state: AlarmState['state'],
  stateAt: string,
  options: { id?: string; reasonData?: Record<string, unknown>; reason?: string; composite?: boolean } = {},
): object {
  const composite = options.composite ?? /-burn-(page|ticket)$/.test(alarmName);
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: ACCOUNT,
    time: stateAt.replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${alarmName}`],
    detail: {
      alarmName,
      configuration: composite
        ? { alarmRule: 'ALARM(x)', description: 'nbops composite' }
        : {
            description: 'nbops alarm',
            metrics: [
              {
                id: 'm1',
                metricStat: {
                  metric: {
                    namespace: 'AWS/SageMaker',
                    name: 'ModelLatency',
                    dimensions: { EndpointName: 'churn' },
                  },
                  period: 60,
                  stat: 'p99',
                },
                returnData: true,
              },
            ],
          },
      previousState: {
        value: state === 'ALARM' ? 'OK' : 'ALARM',
        reason: 'earlier',
        timestamp: cwTime('2025-01-01T00:00:00.000Z'),
      },
      state: {
        value: state,
        reason: options.reason ?? `Threshold Crossed: ${state}`,
        ...(options.reasonData ? { reasonData: JSON.stringify(options.reasonData) } : {}),
        timestamp: cwTime(stateAt),
      },
    },
  };
}

export interface AlarmCalls {
  composite: string[];
  deleted: string[][];
}

/**
 * Records PutCompositeAlarm and DeleteAlarms (the harness's CloudWatch mock keeps metric alarms
 * only) and makes composites and deletions visible to DescribeAlarms through h.alarmStates.
 */
export function recordAlarmCalls(h: Harness): AlarmCalls {
  const calls: AlarmCalls = { composite: [], deleted: [] };
  const alarms = h.services.alarms;
  h.services.alarms = {
    putMetricAlarm: (input) => alarms.putMetricAlarm(input),
    async putCompositeAlarm(input) {
      calls.composite.push(input.AlarmName!);
      if (!h.alarmStates.has(input.AlarmName!)) h.alarmStates.set(input.AlarmName!, 'INSUFFICIENT_DATA');
    },
    async deleteAlarms(names) {
      calls.deleted.push(names);
      for (const name of names) h.alarmStates.delete(name);
    },
    describeAlarms: (names) => alarms.describeAlarms(names),
  };
  return calls;
}

/** The S3 "Object Created" event of an object already in the bucket (as S3 sends it after a put). */
export async function objectCreated(
  h: Harness,
  key: string,
  requester = 'AROAEXAMPLE:nbops-submit',
): Promise<object> {
  const head = await h.services.store.head({ bucket: h.bucket, key });
  if (!head) throw new Error(`no object ${key}`);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: ACCOUNT,
    time: h.now().toISOString(),
    region: REGION,
    resources: [`arn:aws:s3:::${h.bucket}`],
    detail: {
      version: '0',
      bucket: { name: h.bucket },
      object: { key, size: head.size, etag: head.etag.replace(/"/g, ''), sequencer: '0A1B2C3D4E5F' },
      'request-id': randomUUID(),
      requester,
      reason: 'PutObject',
    },
  };
}
