// Drift schedules: EventBridge Scheduler requests checked against the Scheduler API model, the
// AWS adapter's upsert/delete behaviour, and the local host's timers putting the same event on the
// local bus; plus the two new handlers the wiring table routes to.
import { existsSync } from 'node:fs';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsSchedules, buildScheduleRequest } from '#adapters/aws/scheduler';
import type { AwsEvent } from '#adapters/local/aws-event';
import { LocalSchedules } from '#adapters/local/schedules';
import { checkRequest, RequestCheckError } from '#core/aws/api-model';
import { parseDriftEvaluationRequest } from '#core/events/schedule-drift';
import { MAX_MODEL_NAME_LENGTH } from '#core/manifest/names';
import type { EventSchedule } from '#core/ports';
import type { VersionRecord } from '#core/registry/types';
import { driftSchedule, driftScheduleName } from '#core/service/endpoint';
import { routes, routesFor } from '#core/wiring';
import { awsError } from '../handlers/support';
import { rawExample } from '../sagemaker/helpers';

const TARGET = {
  eventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/nbops',
  roleArn: 'arn:aws:iam::123456789012:role/nbops-scheduler',
};
const noWait = { retry: { sleep: async () => {}, random: () => 0 } };

function version(edit: (manifest: ReturnType<typeof rawExample>) => void = () => {}): VersionRecord {
  const manifest = rawExample();
  edit(manifest);
  return {
    model: 'churn',
    version: 3,
    status: 'DEPLOYED',
    uploadId: 'u',
    uploader: 'alice',
    owner: 'team',
    createdAt: '2025-03-01T00:00:00.000Z',
    updatedAt: '2025-03-01T00:00:00.000Z',
    facts: { manifest },
  };
}

const schedule: EventSchedule = driftSchedule(version())!;

describe('the drift schedule of a version', () => {
  it('runs on the manifest’s schedule and puts "Drift Evaluation Due" for the model', () => {
    expect(schedule).toEqual({
      name: 'nbops-churn-drift',
      expression: 'rate(1 hour)',
      description: 'nbops: drift evaluation of churn (auto, window 1h)',
      detailType: 'Drift Evaluation Due',
      detail: { model: 'churn', endpoint: 'churn' },
    });
    expect(driftSchedule(version((m) => delete m.drift))).toBeUndefined();
    expect(driftSchedule(version((m) => (m.serving.dataCapture.enabled = false)))).toBeUndefined();
  });

  it('fits EventBridge Scheduler’s name rule for the longest model names', () => {
    const longest = `m${'-a1b2'.repeat(20)}`.slice(0, MAX_MODEL_NAME_LENGTH);
    expect(longest).toHaveLength(MAX_MODEL_NAME_LENGTH);
    const name = driftScheduleName(longest);
    expect(checkRequest('scheduler', 'DeleteSchedule', { Name: name, GroupName: 'nbops' })).toEqual([]);
  });
});

describe('EventBridge Scheduler requests', () => {
  it('target the nbops bus with the run context, flexible window off, in the nbops group', () => {
    const request = buildScheduleRequest(schedule, {
      ...TARGET,
      deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq',
    });
    expect(checkRequest('scheduler', 'CreateSchedule', request)).toEqual([]);
    expect(checkRequest('scheduler', 'UpdateSchedule', request)).toEqual([]);
    expect(request).toMatchObject({
      Name: 'nbops-churn-drift',
      GroupName: 'nbops',
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: TARGET.eventBusArn,
        RoleArn: TARGET.roleArn,
        EventBridgeParameters: { DetailType: 'Drift Evaluation Due', Source: 'nbops' },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:dlq' },
      },
    });
    const input = JSON.parse(request.Target!.Input!);
    expect(input).toEqual({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      executionId: '<aws.scheduler.execution-id>',
    });
    // What a run delivers (Scheduler filled the attributes) is what the drift handler reads.
    const delivered = { ...input, scheduledTime: '2025-03-01T12:00:00Z', executionId: 'abc-123' };
    expect(parseDriftEvaluationRequest(delivered)).toEqual({
      model: 'churn',
      endpoint: 'churn',
      scheduledTime: '2025-03-01T12:00:00.000Z',
      eventId: 'abc-123',
    });
  });

  it('are refused before sending when they break the model (a bad role ARN)', async () => {
    const client = new SchedulerClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    const mock = mockClient(client);
    mock.on(GetScheduleCommand).rejects(awsError('ResourceNotFoundException', 'none'));
    const schedules = new AwsSchedules(client, { ...TARGET, roleArn: 'nbops-scheduler' }, noWait);
    await expect(schedules.upsertSchedule(schedule)).rejects.toThrow(RequestCheckError);
    expect(mock.commandCalls(CreateScheduleCommand)).toHaveLength(0);
    mock.restore();
  });
});

describe('AwsSchedules', () => {
  let mock: ReturnType<typeof mockClient>;
  afterEach(() => mock?.restore());

  function adapter() {
    const client = new SchedulerClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    mock = mockClient(client);
    return new AwsSchedules(client, TARGET, noWait);
  }

  it('creates a schedule that does not exist, leaves an identical one alone, updates a different one', async () => {
    const schedules = adapter();
    mock
      .on(GetScheduleCommand)
      .rejects(awsError('ResourceNotFoundException', 'Schedule nbops-churn-drift does not exist.'));
    await schedules.upsertSchedule(schedule);
    expect(mock.commandCalls(CreateScheduleCommand)).toHaveLength(1);

    const existing = buildScheduleRequest(schedule, TARGET) as CreateScheduleCommandInput;
    mock.reset();
    mock.on(GetScheduleCommand).resolves({ ...existing, Arn: 'arn' } as never);
    await schedules.upsertSchedule(schedule);
    expect(mock.commandCalls(UpdateScheduleCommand)).toHaveLength(0);
    expect(mock.commandCalls(CreateScheduleCommand)).toHaveLength(0);

    await schedules.upsertSchedule({ ...schedule, expression: 'rate(6 hours)' });
    expect(mock.commandCalls(UpdateScheduleCommand)[0]!.args[0].input).toMatchObject({
      Name: 'nbops-churn-drift',
      ScheduleExpression: 'rate(6 hours)',
    });
  });

  it('updates when another delivery created the schedule between Get and Create', async () => {
    const schedules = adapter();
    mock.on(GetScheduleCommand).rejects(awsError('ResourceNotFoundException', 'none'));
    mock
      .on(CreateScheduleCommand)
      .rejects(awsError('ConflictException', 'Schedule nbops-churn-drift already exists.'));
    await schedules.upsertSchedule(schedule);
    expect(mock.commandCalls(UpdateScheduleCommand)).toHaveLength(1);
  });

  it('deletes idempotently, in the nbops group', async () => {
    const schedules = adapter();
    mock.on(DeleteScheduleCommand).resolvesOnce({}).rejects(awsError('ResourceNotFoundException', 'none'));
    await schedules.deleteSchedule('nbops-churn-drift');
    await schedules.deleteSchedule('nbops-churn-drift');
    expect(mock.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([
      { Name: 'nbops-churn-drift', GroupName: 'nbops' },
      { Name: 'nbops-churn-drift', GroupName: 'nbops' },
    ]);
    mock.on(DeleteScheduleCommand).rejects(awsError('AccessDeniedException', 'no', 403));
    await expect(schedules.deleteSchedule('nbops-churn-drift')).rejects.toThrow('no');
  });
});

describe('LocalSchedules', () => {
  it('fires the schedule as the event the AWS schedule puts on the bus, routed to the drift handler', async () => {
    const put: AwsEvent[] = [];
    const local = new LocalSchedules({
      put: (event) => put.push(event),
      clock: { now: () => new Date('2025-03-01T12:00:00.000Z') },
      log: () => {},
    });
    await local.upsertSchedule(schedule);
    expect(local.list()).toEqual([schedule]);
    const event = local.fire('nbops-churn-drift');
    expect(put).toEqual([event]);
    expect(event).toMatchObject({ source: 'nbops', 'detail-type': 'Drift Evaluation Due' });
    expect(routesFor(event, { bucketName: 'b' }).map((r) => r.handler)).toEqual(['drift']);
    expect(parseDriftEvaluationRequest(event)).toMatchObject({
      model: 'churn',
      scheduledTime: '2025-03-01T12:00:00.000Z',
      eventId: event.detail.executionId,
    });
    await local.deleteSchedule('nbops-churn-drift');
    expect(local.list()).toEqual([]);
    expect(() => local.fire('nbops-churn-drift')).toThrow('no schedule "nbops-churn-drift"');
    local.close();
  });

  it('ticks rate schedules on a timer (scaled), and stops on delete and close', async () => {
    const put: AwsEvent[] = [];
    const local = new LocalSchedules({ put: (e) => put.push(e), timeScale: 0.00001, log: () => {} });
    await local.upsertSchedule(schedule); // 1 hour x 0.00001 = 36 ms
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(put.length).toBeGreaterThanOrEqual(2);
    local.close();
    const count = put.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(put).toHaveLength(count);
    const logged: string[] = [];
    const cron = new LocalSchedules({ put: (e) => put.push(e), log: (l) => logged.push(l) });
    await cron.upsertSchedule({ ...schedule, expression: 'cron(0 6 * * ? *)' });
    expect(logged[0]).toContain('is not a rate(); it does not tick locally');
    cron.close();
  });
});

describe('handlers for the new routes', () => {
  it.each(['drift', 'alarm'])(
    'functions/%s exports handler and makeHandler, and has a route',
    async (name) => {
      expect(routes({ bucketName: 'b' }).some((r) => r.handler === name)).toBe(true);
      const file = new URL(`../../../functions/${name}/index.ts`, import.meta.url);
      expect(existsSync(file)).toBe(true);
      const module = (await import(file.href)) as { handler?: unknown; makeHandler?: unknown };
      expect(typeof module.handler).toBe('function');
      expect(typeof module.makeHandler).toBe('function');
    },
  );
});
