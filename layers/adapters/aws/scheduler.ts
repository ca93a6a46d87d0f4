/**
 * The SchedulesPort on EventBridge Scheduler. Each schedule targets the nbops event bus with
 * EventBridge Scheduler's PutEvents target, so a run puts an ordinary nbops event (source `nbops`)
 * on the bus and the wiring table routes it like any other: the same path on both hosts, and an
 * operator can start the same evaluation by publishing the same event.
 *
 * Target.Input is the event's detail; Scheduler fills the context attributes per run:
 *   {"model":"churn","endpoint":"churn","scheduledTime":"<aws.scheduler.scheduled-time>",
 *    "executionId":"<aws.scheduler.execution-id>"}
 * FlexibleTimeWindow is OFF (runs start on time), expressions are UTC, every schedule lives in
 * one group (`nbops` by default). Requests are checked against the Scheduler API model first.
 */
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type DeleteScheduleCommandInput,
  GetScheduleCommand,
  type GetScheduleCommandInput,
  type GetScheduleCommandOutput,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { classifyAwsError } from '#core/aws/errors';
import type { RetryOptions } from '#core/aws/retry';
import type { EventSchedule, SchedulesPort } from '#core/ports';
import { NBOPS_EVENT_SOURCE } from '#core/wiring';
import { type AdapterOptions, checkedCall, retryOptions } from './call';

export const DEFAULT_SCHEDULE_GROUP = 'nbops';

/** Context attributes Scheduler replaces in Target.Input on every run. */
export const SCHEDULER_CONTEXT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
} as const;

export interface SchedulerTarget {
  /** ARN of the nbops event bus the runs put their events on. */
  eventBusArn: string;
  /** The role Scheduler assumes to call events:PutEvents on that bus. */
  roleArn: string;
  /** Schedule group (default `nbops`). */
  groupName?: string;
  /** SQS queue for runs Scheduler could not deliver after its retries. */
  deadLetterArn?: string;
}

/** Retries of one run: for an hour, as the platform's own schedules. */
const RETRY_POLICY = { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 };

/** The CreateSchedule request for a schedule (UpdateSchedule takes the same members). */
export function buildScheduleRequest(
  schedule: EventSchedule,
  target: SchedulerTarget,
): CreateScheduleCommandInput {
  return {
    Name: schedule.name,
    GroupName: target.groupName ?? DEFAULT_SCHEDULE_GROUP,
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    ...(schedule.description ? { Description: schedule.description.slice(0, 512) } : {}),
    Target: {
      Arn: target.eventBusArn,
      RoleArn: target.roleArn,
      EventBridgeParameters: { DetailType: schedule.detailType, Source: NBOPS_EVENT_SOURCE },
      Input: JSON.stringify({ ...schedule.detail, ...SCHEDULER_CONTEXT }),
      RetryPolicy: RETRY_POLICY,
      ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
    },
  };
}

export class AwsSchedules implements SchedulesPort {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: SchedulerClient,
    private readonly target: SchedulerTarget,
    options: AdapterOptions = {},
  ) {
    this.retry = retryOptions(options);
  }

  /**
   * GetSchedule first: an existing schedule with this definition is left alone (redelivered events
   * write nothing); a different one is updated; none is created (and updated after all if another
   * delivery created it meanwhile).
   */
  async upsertSchedule(schedule: EventSchedule): Promise<void> {
    const input = buildScheduleRequest(schedule, this.target);
    const existing = await this.getSchedule(input.Name!, input.GroupName!);
    if (existing && sameDefinition(existing, input)) return;
    const update = () =>
      checkedCall(
        'scheduler',
        'UpdateSchedule',
        input,
        () => this.client.send(new UpdateScheduleCommand(input)),
        this.retry,
      );
    if (existing) {
      await update();
      return;
    }
    try {
      await checkedCall(
        'scheduler',
        'CreateSchedule',
        input,
        () => this.client.send(new CreateScheduleCommand(input)),
        this.retry,
      );
    } catch (err) {
      // Another delivery created it between our two calls: make sure it holds this definition.
      if (!isConflict(err)) throw err;
      await update();
    }
  }

  private async getSchedule(name: string, groupName: string): Promise<GetScheduleCommandOutput | undefined> {
    const input: GetScheduleCommandInput = { Name: name, GroupName: groupName };
    try {
      return await checkedCall(
        'scheduler',
        'GetSchedule',
        input,
        () => this.client.send(new GetScheduleCommand(input)),
        this.retry,
      );
    } catch (err) {
      if (classifyAwsError(err).kind === 'not-found') return undefined;
      throw err;
    }
  }

  async deleteSchedule(name: string): Promise<void> {
    const input: DeleteScheduleCommandInput = {
      Name: name,
      GroupName: this.target.groupName ?? DEFAULT_SCHEDULE_GROUP,
    };
    try {
      await checkedCall(
        'scheduler',
        'DeleteSchedule',
        input,
        () => this.client.send(new DeleteScheduleCommand(input)),
        this.retry,
      );
    } catch (err) {
      if (classifyAwsError(err).kind !== 'not-found') throw err;
    }
  }
}

/** Whether an existing schedule already is what `wanted` asks for (members nbops sets). */
export function sameDefinition(
  existing: GetScheduleCommandOutput,
  wanted: CreateScheduleCommandInput,
): boolean {
  const target = existing.Target;
  const w = wanted.Target!;
  return (
    existing.ScheduleExpression === wanted.ScheduleExpression &&
    existing.ScheduleExpressionTimezone === wanted.ScheduleExpressionTimezone &&
    existing.State === wanted.State &&
    existing.FlexibleTimeWindow?.Mode === wanted.FlexibleTimeWindow?.Mode &&
    (existing.Description ?? '') === (wanted.Description ?? '') &&
    target?.Arn === w.Arn &&
    target?.RoleArn === w.RoleArn &&
    target?.Input === w.Input &&
    target?.EventBridgeParameters?.DetailType === w.EventBridgeParameters?.DetailType &&
    target?.EventBridgeParameters?.Source === w.EventBridgeParameters?.Source &&
    target?.RetryPolicy?.MaximumEventAgeInSeconds === w.RetryPolicy?.MaximumEventAgeInSeconds &&
    target?.RetryPolicy?.MaximumRetryAttempts === w.RetryPolicy?.MaximumRetryAttempts &&
    target?.DeadLetterConfig?.Arn === w.DeadLetterConfig?.Arn
  );
}

function isConflict(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConflictException';
}
