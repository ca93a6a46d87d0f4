import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEvent } from '#adapters/local/aws-event';
import type { S3Notification } from '#adapters/local/emulators';
import { type DeliveryRecord, LocalEventBus, rateMillis } from '#adapters/local/event-bus';
import { s3NotificationToEvents } from '#adapters/local/s3-events';
import { parseNotebookUploads } from '#core/events/s3';
import { parseTrainingJobStateChange } from '#core/events/sagemaker';
import { parseScheduledTick } from '#core/events/schedule';
import type { HandlerName } from '#core/wiring';

const BUCKET = 'nbops-artifacts';
const at = new Date('2025-03-01T10:00:00.123Z');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-bus-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function trainingEvent(status: string) {
  return awsEvent({
    source: 'aws.sagemaker',
    detailType: 'SageMaker Training Job State Change',
    detail: { TrainingJobName: 'churn-v1-abc', TrainingJobStatus: status, SecondaryStatus: status },
    resources: ['arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-v1-abc'],
    at,
  });
}

function classicRecord(bucket: string, key: string, eventName = 'ObjectCreated:Put'): S3Notification {
  return {
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: at.toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:ALICE' },
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket },
          object: { key, size: 42, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '18F3A2B4C5D' },
        },
      },
    ],
  };
}

/** A bus whose dispatcher records (handler, event) and runs `behaviour` for each call. */
function recordingBus(
  behaviour: (handler: HandlerName, call: number) => unknown = () => ({ kind: 'ok' }),
  options: Partial<ConstructorParameters<typeof LocalEventBus>[0]> = {},
) {
  const calls: { handler: HandlerName; detailType: string; id: string; detail: Record<string, unknown> }[] =
    [];
  const bus = new LocalEventBus({
    bucketName: BUCKET,
    logFile: join(dir, 'events.jsonl'),
    deadLetterFile: join(dir, 'dead-letters.jsonl'),
    retryBaseMs: 5,
    log: () => {},
    ...options,
    dispatch: async (handler, event) => {
      calls.push({ handler, detailType: event['detail-type'], id: event.id, detail: event.detail });
      return behaviour(handler, calls.length);
    },
  });
  return { bus, calls };
}

describe('LocalEventBus routing (the wiring table)', () => {
  it('sends each event to the handlers whose route matches, and nothing else', async () => {
    const { bus, calls } = recordingBus();
    bus.put(trainingEvent('Completed'));
    bus.put(trainingEvent('InProgress')); // not a terminal status: no route
    bus.putS3Notification(classicRecord(BUCKET, 'notebooks/churn/churn.ipynb'));
    bus.putS3Notification(classicRecord(BUCKET, 'reports/churn/x.json')); // outside notebooks/
    bus.putS3Notification(classicRecord('someone-elses-bucket', 'notebooks/churn/churn.ipynb'));
    await bus.publish('Version Approved', { model: 'churn', version: 3, approvedBy: 'alice' });
    bus.put(
      awsEvent({
        source: 'aws.sagemaker',
        detailType: 'SageMaker Endpoint Deployment State Change',
        detail: { EndpointName: 'churn', EndpointStatus: 'UPDATING' },
        at,
      }),
    );
    bus.put(
      awsEvent({
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        detail: { alarmName: 'someone-elses-alarm', state: { value: 'ALARM' } },
        at,
      }),
    );
    await bus.idle();

    expect(calls.map((c) => `${c.handler} <- ${c.detailType}`).sort()).toEqual([
      'deploy <- Version Approved',
      'endpoint-state <- SageMaker Endpoint Deployment State Change',
      'submit <- Object Created',
      'training-state <- SageMaker Training Job State Change',
    ]);
    const training = calls.find((c) => c.handler === 'training-state')!;
    expect(training.detail.TrainingJobStatus).toBe('Completed');
  });

  it('publishes nbops events in the EventBridge envelope with source nbops', async () => {
    const received: unknown[] = [];
    const bus = new LocalEventBus({
      bucketName: BUCKET,
      clock: { now: () => at },
      dispatch: async (_handler, event) => {
        received.push(event);
      },
    });
    await bus.publish(
      'Retrain Requested',
      { model: 'churn', requestedBy: 'drift', reason: 'psi 0.4' },
      {
        resources: ['arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn'],
      },
    );
    await bus.idle();
    expect(received).toEqual([
      {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Retrain Requested',
        source: 'nbops',
        account: '000000000000',
        time: '2025-03-01T10:00:00Z',
        region: 'us-east-1',
        resources: ['arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn'],
        detail: { model: 'churn', requestedBy: 'drift', reason: 'psi 0.4' },
      },
    ]);
  });

  it('refuses an nbops event larger than EventBridge takes, naming the fix', async () => {
    const { bus } = recordingBus();
    await expect(bus.publish('Version Status Changed', { blob: 'x'.repeat(300 * 1024) })).rejects.toThrow(
      'EventBridge takes at most 262144 bytes per event. Put large data in S3',
    );
  });

  it('delivers the events LocalSageMaker emits in a form the core parsers read', async () => {
    const { bus, calls } = recordingBus();
    bus.put(trainingEvent('Failed'));
    await bus.idle();
    const event = { ...trainingEvent('Failed'), detail: calls[0]!.detail };
    expect(parseTrainingJobStateChange(event)).toMatchObject({
      trainingJobName: 'churn-v1-abc',
      status: 'Failed',
    });
  });
});

describe('LocalEventBus delivery guarantees', () => {
  it('delivers duplicates when asked, marked as such, so idempotency can be tested', async () => {
    const { bus, calls } = recordingBus(undefined, { duplicateRate: 1 });
    bus.put(trainingEvent('Completed'));
    await bus.idle();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.id).toBe(calls[1]!.id);
    expect(bus.deliveries.map((d) => d.duplicate).sort()).toEqual([false, true]);
  });

  it('retries a failing handler with backoff until it succeeds, logging every attempt', async () => {
    const { bus, calls } = recordingBus((_h, call) => {
      if (call < 3) throw new Error(`registry throttled (${call})`);
      return { kind: 'gates-failed' };
    });
    bus.put(trainingEvent('Completed'));
    await bus.idle();
    expect(calls).toHaveLength(3);
    expect(bus.deliveries.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'error'],
      [2, 'error'],
      [3, 'ok'],
    ]);
    expect(bus.deadLetters).toEqual([]);
    const lines = (await readFile(join(dir, 'events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DeliveryRecord);
    expect(lines.map((l) => l.outcome)).toEqual(['error', 'error', 'ok']);
    expect(lines[0]).toMatchObject({
      handler: 'training-state',
      route: 'training-job-state',
      detailType: 'SageMaker Training Job State Change',
      error: 'Error: registry throttled (1)',
    });
    expect(lines[2]!.result).toEqual({ kind: 'gates-failed' });
  });

  it('dead-letters an event after the last attempt fails, keeping the event for a replay', async () => {
    const { bus, calls } = recordingBus(() => {
      throw new TypeError('cannot read x of undefined');
    });
    const event = trainingEvent('Stopped');
    bus.put(event);
    await bus.idle();
    expect(calls).toHaveLength(3);
    expect(bus.deadLetters).toHaveLength(1);
    expect(bus.deadLetters[0]).toMatchObject({
      handler: 'training-state',
      attempts: 3,
      error: 'TypeError: cannot read x of undefined',
      event,
    });
    const letters = (await readFile(join(dir, 'dead-letters.jsonl'), 'utf8')).trim().split('\n');
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!).event.id).toBe(event.id);
  });

  it('gives each handler its own copy of the event', async () => {
    const { bus, calls } = recordingBus((_h) => undefined, { duplicateRate: 1 });
    const event = trainingEvent('Completed');
    bus.put(event);
    await bus.idle();
    calls[0]!.detail.TrainingJobStatus = 'changed by a handler';
    expect(calls[1]!.detail.TrainingJobStatus).toBe('Completed');
    expect(event.detail.TrainingJobStatus).toBe('Completed');
  });
});

describe('S3 notifications as EventBridge "Object Created" events', () => {
  it("keeps s3rver's raw keys as they are (a + stays a plus)", () => {
    const [event] = s3NotificationToEvents(classicRecord(BUCKET, 'notebooks/churn/a+b c%.ipynb'));
    expect(event).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: {
        version: '0',
        bucket: { name: BUCKET },
        object: { key: 'notebooks/churn/a+b c%.ipynb', size: 42, etag: 'd41d8cd98f00b204e9800998ecf8427e' },
        reason: 'PutObject',
        requester: 'AWS:ALICE',
      },
    });
    const [upload] = parseNotebookUploads(event);
    expect(upload).toMatchObject({ bucket: BUCKET, key: 'notebooks/churn/a+b c%.ipynb', size: 42 });
  });

  it("decodes AWS's form-encoded keys (space as +, %2B as a plus)", () => {
    const [event] = s3NotificationToEvents(classicRecord(BUCKET, 'notebooks/churn/a%2Bb+c.ipynb'), {
      keyEncoding: 'form',
    });
    expect((event!.detail.object as { key: string }).key).toBe('notebooks/churn/a+b c.ipynb');
  });

  it('maps copies and deletions to their EventBridge detail-types and reasons', () => {
    const [copy] = s3NotificationToEvents(classicRecord(BUCKET, 'k', 'ObjectCreated:Copy'));
    const [removed] = s3NotificationToEvents(classicRecord(BUCKET, 'k', 'ObjectRemoved:Delete'));
    expect(copy!.detail.reason).toBe('CopyObject');
    expect(removed!['detail-type']).toBe('Object Deleted');
    expect(removed!.detail).toMatchObject({ reason: 'DeleteObject', 'deletion-type': 'Permanently Deleted' });
  });
});

describe('schedules', () => {
  it('fires the wiring table schedule as an EventBridge "Scheduled Event" to its handler', async () => {
    const { bus, calls } = recordingBus();
    const event = bus.fireSchedule('stuck-sweep');
    await bus.idle();
    expect(calls.map((c) => c.handler)).toEqual(['sweeper']);
    expect(event).toMatchObject({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/stuck-sweep'],
      detail: {},
    });
    expect(parseScheduledTick(event).eventId).toBe(event.id);
    expect(() => bus.fireSchedule('no-such-route')).toThrow('no schedule route "no-such-route"');
  });

  it('runs rate() schedules on a timer scaled by timeScale', async () => {
    expect(rateMillis('rate(15 minutes)')).toBe(900_000);
    expect(rateMillis('rate(1 day)')).toBe(86_400_000);
    expect(rateMillis('cron(0 12 * * ? *)')).toBeUndefined();
    const { bus, calls } = recordingBus(undefined, { timeScale: 50 / 900_000 });
    bus.startSchedules();
    await new Promise((r) => setTimeout(r, 180));
    await bus.close();
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(calls.map((c) => c.handler))).toEqual(new Set(['sweeper']));
  });
});
