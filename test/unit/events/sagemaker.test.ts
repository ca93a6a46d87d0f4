import { describe, expect, it } from 'vitest';
import { enumValues } from '#core/aws/api-model';
import { EventParseError, isoTime } from '#core/events/parse';
import {
  normaliseEndpointStatus,
  normaliseTrainingJobStatus,
  parseEndpointStateChange,
  parseTrainingJobStateChange,
} from '#core/events/sagemaker';
import { loadEvent } from '../../fixtures/events';

describe('parseTrainingJobStateChange', () => {
  it('reads a completed job', () => {
    expect(parseTrainingJobStateChange(loadEvent('sagemaker-training-completed'))).toEqual({
      trainingJobName: 'churn-v7-1a2b3c4d',
      status: 'Completed',
      secondaryStatus: 'Completed',
      eventId: '2d7e6f9a-6b4f-4f7e-9c5a-0f0e8d1b2c3d',
      eventTime: '2026-03-02T09:53:20.000Z',
    });
  });

  it('carries the failure reason of a failed job, and the secondary status of a stopped one', () => {
    const failed = parseTrainingJobStateChange(loadEvent('sagemaker-training-failed'));
    expect(failed.status).toBe('Failed');
    expect(failed.failureReason).toMatch(/^AlgorithmError: notebook cell 7 raised ValueError/);

    const stopped = parseTrainingJobStateChange(loadEvent('sagemaker-training-stopped'));
    expect(stopped).toMatchObject({ status: 'Stopped', secondaryStatus: 'MaxWaitTimeExceeded' });
    expect(stopped).not.toHaveProperty('failureReason');
  });

  it('names what is missing, and refuses events meant for another handler', () => {
    const noName = loadEvent('sagemaker-training-completed');
    delete noName.detail.TrainingJobName;
    expect(() => parseTrainingJobStateChange(noName)).toThrow(
      'SageMaker Training Job State Change event: detail.TrainingJobName is missing',
    );

    const endpoint = loadEvent('sagemaker-endpoint-in-service');
    expect(() => parseTrainingJobStateChange(endpoint)).toThrow(
      'detail-type is "SageMaker Endpoint State Change"; this handler takes "SageMaker Training Job State Change"',
    );

    const noId = loadEvent('sagemaker-training-completed');
    delete noId.id;
    expect(() => parseTrainingJobStateChange(noId)).toThrow(EventParseError);
    expect(() => parseTrainingJobStateChange(noId)).toThrow('id is missing');
  });
});

describe('parseEndpointStateChange', () => {
  it('normalises UPPER_SNAKE statuses of endpoint events to the API spelling', () => {
    expect(parseEndpointStateChange(loadEvent('sagemaker-endpoint-in-service'))).toEqual({
      endpointName: 'churn-prod',
      endpointConfigName: 'churn-prod-v7-1a2b3c4d',
      status: 'InService',
      source: 'endpoint',
      eventId: 'b7c1e2d3-4f5a-4b6c-9d8e-7f6a5b4c3d2e',
      eventTime: '2026-03-02T10:02:01.000Z',
    });
    expect(parseEndpointStateChange(loadEvent('sagemaker-endpoint-failed'))).toMatchObject({
      status: 'Failed',
      failureReason: expect.stringContaining('did not pass the ping health check'),
    });
    expect(parseEndpointStateChange(loadEvent('sagemaker-endpoint-update-rollback-failed'))).toMatchObject({
      status: 'UpdateRollbackFailed',
      endpointConfigName: 'churn-prod-v6-9f8e7d6c',
    });
  });

  it('reads deployment events with the config being rolled out', () => {
    expect(parseEndpointStateChange(loadEvent('sagemaker-endpoint-deployment-updating'))).toEqual({
      endpointName: 'churn-prod',
      endpointConfigName: 'churn-prod-v7-1a2b3c4d',
      pendingEndpointConfigName: 'churn-prod-v8-5e6f7a8b',
      status: 'Updating',
      source: 'deployment',
      eventId: 'e0f4b5a6-7c8d-4e9f-a0b1-2c3d4e5f6a7b',
      eventTime: '2026-03-02T10:54:30.000Z',
    });
    expect(parseEndpointStateChange(loadEvent('sagemaker-endpoint-deployment-rolling-back'))).toMatchObject({
      status: 'RollingBack',
      source: 'deployment',
    });
  });

  it('names a missing status', () => {
    const event = loadEvent('sagemaker-endpoint-in-service');
    delete event.detail.EndpointStatus;
    expect(() => parseEndpointStateChange(event)).toThrow('detail.EndpointStatus is missing');
  });
});

describe('status spelling', () => {
  it('maps the UPPER_SNAKE form of every API EndpointStatus value back to it', () => {
    const values = enumValues('sagemaker', 'EndpointStatus');
    expect(values.length).toBeGreaterThanOrEqual(9);
    for (const value of values) {
      const snake = value.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
      expect(normaliseEndpointStatus(snake)).toBe(value);
      expect(normaliseEndpointStatus(value)).toBe(value);
    }
    expect(normaliseEndpointStatus('IN_SERVICE')).toBe('InService');
    expect(normaliseEndpointStatus('UPDATE_ROLLBACK_FAILED')).toBe('UpdateRollbackFailed');
    expect(normaliseEndpointStatus('ROLLING_BACK')).toBe('RollingBack');
    expect(normaliseEndpointStatus('OUT_OF_SERVICE')).toBe('OutOfService');
    expect(normaliseEndpointStatus('SYSTEM_UPDATING')).toBe('SystemUpdating');
  });

  it('passes unknown values through unchanged', () => {
    expect(normaliseEndpointStatus('HIBERNATING')).toBe('HIBERNATING');
    expect(normaliseTrainingJobStatus('COMPLETED')).toBe('Completed');
    expect(normaliseTrainingJobStatus('Pending')).toBe('Pending');
  });
});

describe('isoTime', () => {
  it('reads epoch milliseconds as numbers and strings, epoch seconds, and ISO times', () => {
    const iso = '2020-03-10T09:18:09.050Z';
    expect(isoTime(1583831889050)).toBe(iso);
    expect(isoTime('1583831889050')).toBe(iso);
    expect(isoTime('1583831889050.0')).toBe(iso);
    expect(isoTime(1583831889.05)).toBe(iso);
    expect(isoTime(iso)).toBe(iso);
    expect(isoTime('2019-10-01T13:56:40.987+0000')).toBe('2019-10-01T13:56:40.987Z');
  });

  it('gives undefined for anything else', () => {
    for (const junk of [undefined, null, '', 'yesterday', {}, Number.NaN, Number.POSITIVE_INFINITY, '1e999'])
      expect(isoTime(junk)).toBeUndefined();
  });
});
