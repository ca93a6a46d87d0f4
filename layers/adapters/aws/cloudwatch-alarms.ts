/**
 * The AlarmsPort on CloudWatch. Requests are checked against the CloudWatch API model before they
 * are sent and retried on throttling (see call.ts).
 */
import {
  type CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  PutCompositeAlarmCommand,
  type PutCompositeAlarmCommandInput,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import type { RetryOptions } from '#core/aws/retry';
import type { AlarmState, AlarmsPort } from '#core/ports';
import { type AdapterOptions, checkedCall, retryOptions } from './call';

/** DeleteAlarms and DescribeAlarms take at most 100 names per call. */
const NAMES_PER_CALL = 100;
const STATES = new Set<AlarmState['state']>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

export class AwsAlarms implements AlarmsPort {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: CloudWatchClient,
    options: AdapterOptions = {},
  ) {
    this.retry = retryOptions(options);
  }

  async putMetricAlarm(input: PutMetricAlarmCommandInput): Promise<void> {
    await checkedCall(
      'cloudwatch',
      'PutMetricAlarm',
      input,
      () => this.client.send(new PutMetricAlarmCommand(input)),
      this.retry,
    );
  }

  async putCompositeAlarm(input: PutCompositeAlarmCommandInput): Promise<void> {
    await checkedCall(
      'cloudwatch',
      'PutCompositeAlarm',
      input,
      () => this.client.send(new PutCompositeAlarmCommand(input)),
      this.retry,
    );
  }

  /** Deleting alarms that do not exist is not an error in CloudWatch, so this is idempotent. */
  async deleteAlarms(names: string[]): Promise<void> {
    for (const batch of chunks(unique(names), NAMES_PER_CALL)) {
      const input = { AlarmNames: batch };
      await checkedCall(
        'cloudwatch',
        'DeleteAlarms',
        input,
        () => this.client.send(new DeleteAlarmsCommand(input)),
        this.retry,
      );
    }
  }

  /** The states of the named alarms that exist (metric and composite), in the order asked. */
  async describeAlarms(names: string[]): Promise<AlarmState[]> {
    const wanted = unique(names);
    const found = new Map<string, AlarmState>();
    for (const batch of chunks(wanted, NAMES_PER_CALL)) {
      let token: string | undefined;
      do {
        const input: DescribeAlarmsCommandInput = {
          AlarmNames: batch,
          // Without AlarmTypes, DescribeAlarms returns metric alarms only.
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: token,
        };
        const out = await checkedCall(
          'cloudwatch',
          'DescribeAlarms',
          input,
          () => this.client.send(new DescribeAlarmsCommand(input)),
          this.retry,
        );
        for (const alarm of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
          const state = alarm.StateValue as AlarmState['state'] | undefined;
          if (alarm.AlarmName && state && STATES.has(state))
            found.set(alarm.AlarmName, { name: alarm.AlarmName, state });
        }
        token = out.NextToken;
      } while (token);
    }
    return wanted.flatMap((name) => found.get(name) ?? []);
  }
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
