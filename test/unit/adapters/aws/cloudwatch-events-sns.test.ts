import {
  CloudWatchClient,
  CloudWatchServiceException,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsAlarms } from '#adapters/aws/cloudwatch-alarms';
import { AwsEvents } from '#adapters/aws/eventbridge-events';
import { SnsNotifier, snsSubject } from '#adapters/aws/sns-notifier';
import { checkRequest, RequestCheckError } from '#core/aws/api-model';
import { examplePlan } from './example-plan';

const cw = mockClient(CloudWatchClient);
const eb = mockClient(EventBridgeClient);
const sns = mockClient(SNSClient);
const noWait = { retry: { sleep: async () => {} } };

beforeEach(() => {
  cw.reset();
  eb.reset();
  sns.reset();
});

describe('AwsAlarms', () => {
  const alarms = () => new AwsAlarms(new CloudWatchClient({ region: 'eu-west-1' }), noWait);

  it('puts the rollback alarms nbops builds, each checked against the CloudWatch model', async () => {
    cw.on(PutMetricAlarmCommand).resolves({});
    const planned = examplePlan().filter((r) => r.operation === 'PutMetricAlarm');
    expect(planned.length).toBeGreaterThan(0);
    for (const request of planned) await alarms().putMetricAlarm(request.input as PutMetricAlarmCommandInput);
    const sent = cw.commandCalls(PutMetricAlarmCommand).map((c) => c.args[0].input);
    expect(sent).toEqual(planned.map((r) => r.input));
    for (const input of sent) expect(checkRequest('cloudwatch', 'PutMetricAlarm', input)).toEqual([]);
  });

  it('refuses an alarm that breaks the model without calling CloudWatch', async () => {
    const bad = {
      AlarmName: '',
      EvaluationPeriods: 0,
      ComparisonOperator: 'Above',
    } as unknown as PutMetricAlarmCommandInput;
    const attempt = alarms().putMetricAlarm(bad);
    await expect(attempt).rejects.toThrow(RequestCheckError);
    await expect(attempt).rejects.toThrow(/AlarmName: /);
    await expect(attempt).rejects.toThrow(/ComparisonOperator: /);
    expect(cw.calls()).toHaveLength(0);
  });

  it('deletes in batches of 100, once per name, and nothing for an empty list', async () => {
    cw.on(DeleteAlarmsCommand).resolves({});
    const names = Array.from({ length: 150 }, (_, i) => `nbops-churn-${i}`);
    await alarms().deleteAlarms([...names, 'nbops-churn-0']);
    await alarms().deleteAlarms([]);
    const batches = cw.commandCalls(DeleteAlarmsCommand).map((c) => c.args[0].input.AlarmNames);
    expect(batches.map((b) => b?.length)).toEqual([100, 50]);
  });

  it('describes metric and composite alarms across pages, in the order asked, skipping unknown names', async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [{ AlarmName: 'nbops-b', StateValue: 'ALARM' }],
        NextToken: 'page-2',
      })
      .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'nbops-a', StateValue: 'OK' }] });
    const states = await alarms().describeAlarms(['nbops-a', 'nbops-b', 'nbops-missing']);
    expect(states).toEqual([
      { name: 'nbops-a', state: 'OK' },
      { name: 'nbops-b', state: 'ALARM' },
    ]);
    const inputs = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    expect(inputs[1]?.NextToken).toBe('page-2');
  });

  it('retries throttling', async () => {
    cw.on(DeleteAlarmsCommand)
      .rejectsOnce(
        new CloudWatchServiceException({
          name: 'Throttling',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
          message: 'Rate exceeded',
        }),
      )
      .resolves({});
    await alarms().deleteAlarms(['nbops-a']);
    expect(cw.commandCalls(DeleteAlarmsCommand)).toHaveLength(2);
  });
});

describe('AwsEvents', () => {
  const events = () => new AwsEvents(new EventBridgeClient({ region: 'eu-west-1' }), 'nbops-bus', noWait);

  it('puts one nbops event on the service bus', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    await events().publish(
      'Version Approved',
      { model: 'churn', version: 7, approvedBy: 'bob' },
      {
        resources: ['arn:aws:sagemaker:eu-west-1:1:model/churn-v7'],
      },
    );
    const input = eb.commandCalls(PutEventsCommand)[0]!.args[0].input;
    expect(input).toEqual({
      Entries: [
        {
          Source: 'nbops',
          DetailType: 'Version Approved',
          Detail: '{"model":"churn","version":7,"approvedBy":"bob"}',
          EventBusName: 'nbops-bus',
          Resources: ['arn:aws:sagemaker:eu-west-1:1:model/churn-v7'],
        },
      ],
    });
    expect(checkRequest('events', 'PutEvents', input)).toEqual([]);
  });

  it('retries an entry EventBridge throttled, and reports one it refused', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] })
      .resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'no events:PutEvents' }],
      });
    await events().publish('Retrain Requested', { model: 'churn' });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    await expect(events().publish('Retrain Requested', { model: 'churn' })).rejects.toThrow(
      'EventBridge did not accept the "Retrain Requested" event: AccessDeniedException (no events:PutEvents)',
    );
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('refuses an event too large for EventBridge before sending it', async () => {
    await expect(events().publish('Version Approved', { blob: 'x'.repeat(300 * 1024) })).rejects.toThrow(
      /takes at most 262144 bytes per event. Put large data in S3/,
    );
    expect(eb.calls()).toHaveLength(0);
  });
});

describe('SnsNotifier', () => {
  const topics = {
    pageTopicArn: 'arn:aws:sns:eu-west-1:1:page',
    ticketTopicArn: 'arn:aws:sns:eu-west-1:1:ticket',
  };

  it('publishes to the topic of the severity, with model, version and severity attributes', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), topics, () => {}, noWait);
    await notifier.notify({
      severity: 'page',
      subject: 'churn v7 rolled back',
      message: 'details',
      model: 'churn',
      version: 7,
    });
    await notifier.notify({
      severity: 'ticket',
      subject: 'churn v8 waits for approval',
      message: 'approve it',
    });
    const inputs = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({
      TopicArn: topics.pageTopicArn,
      Subject: 'churn v7 rolled back',
      Message: 'details',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'page' },
        model: { DataType: 'String', StringValue: 'churn' },
        version: { DataType: 'Number', StringValue: '7' },
      },
    });
    expect(inputs[1]).toMatchObject({
      TopicArn: topics.ticketTopicArn,
      MessageAttributes: { severity: { StringValue: 'ticket' } },
    });
    expect(inputs[1]?.MessageAttributes).not.toHaveProperty('model');
  });

  it('logs info notifications when there is no info topic, and publishes them when there is', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const logged: unknown[] = [];
    const info = { severity: 'info' as const, subject: 'churn v7 deployed', message: 'ok', model: 'churn' };
    await new SnsNotifier(
      new SNSClient({ region: 'eu-west-1' }),
      topics,
      (_m, fields) => void logged.push(fields),
    ).notify(info);
    expect(sns.calls()).toHaveLength(0);
    expect(logged).toEqual([info]);
    await new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), {
      ...topics,
      infoTopicArn: 'arn:aws:sns:eu-west-1:1:info',
    }).notify(info);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.TopicArn).toBe('arn:aws:sns:eu-west-1:1:info');
  });

  it('makes subjects SNS accepts: printable ASCII, one line, at most 100 characters', () => {
    expect(snsSubject('Modèle churn v7\nrolled back ✓')).toBe('Modele churn v7 rolled back ?');
    const long = snsSubject(`churn ${'x'.repeat(200)}`);
    expect(long).toHaveLength(100);
    expect(long.endsWith('...')).toBe(true);
    expect(snsSubject('  \n ')).toBe('nbops notification');
  });
});
