// training-state, deploy, endpoint-state and sweeper: each parses its event into the contract
// input, calls its use case (a stub: the seam under test is the handler) and returns the outcome.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  DeployOutcome,
  EndpointOutcome,
  EndpointStateChange,
  SweepOutcome,
  SweepRequest,
  TrainingJobStateChange,
  TrainingOutcome,
  VersionApproved,
} from '#core/service/contracts';
import { makeHandler as deployHandler } from '../../../functions/deploy/index';
import { makeHandler as endpointHandler } from '../../../functions/endpoint-state/index';
import { makeHandler as sweeperHandler } from '../../../functions/sweeper/index';
import { makeHandler as trainingHandler } from '../../../functions/training-state/index';
import { loadEvent } from '../../fixtures/events';
import { lambdaContext, metricValues, SERVICES, testDeps } from './support';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('training-state handler', () => {
  it('passes the parsed state change to onTrainingJobStateChange and returns its outcome', async () => {
    const deps = testDeps('training-state', { metrics: true });
    const onTrainingJobStateChange = vi.fn(
      async (_s: unknown, change: TrainingJobStateChange): Promise<TrainingOutcome> => ({
        kind: 'training-failed',
        model: 'churn',
        version: 7,
        reason: change.failureReason ?? '',
      }),
    );
    const handler = trainingHandler({ ...deps, onTrainingJobStateChange });
    const result = await handler(loadEvent('sagemaker-training-failed'), lambdaContext());
    expect(onTrainingJobStateChange).toHaveBeenCalledWith(SERVICES, {
      trainingJobName: 'churn-v7-1a2b3c4d',
      status: 'Failed',
      secondaryStatus: 'Failed',
      failureReason: expect.stringContaining('Input contains NaN'),
      eventId: '5a1c9d3e-7f20-4b6a-8e11-2c4d6f8a0b1c',
      eventTime: '2026-03-02T09:31:02.000Z',
    });
    expect(result).toMatchObject({
      kind: 'training-failed',
      reason: expect.stringContaining('Input contains NaN'),
    });
    expect(metricValues(deps.captured)).toEqual({ TrainingFailed: 1 });
  });

  it('ignores an event meant for another handler without calling the use case', async () => {
    const deps = testDeps('training-state');
    const onTrainingJobStateChange = vi.fn();
    const result = await trainingHandler({ ...deps, onTrainingJobStateChange })(
      loadEvent('sagemaker-endpoint-in-service'),
      lambdaContext(),
    );
    expect(result).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('detail-type') });
    expect(onTrainingJobStateChange).not.toHaveBeenCalled();
  });
});

describe('deploy handler', () => {
  it('deploys the approved version', async () => {
    const deps = testDeps('deploy', { metrics: true });
    const deployVersion = vi.fn(
      async (_s: unknown, approved: VersionApproved): Promise<DeployOutcome> => ({
        kind: 'deploying',
        model: approved.model,
        version: approved.version,
        endpointName: 'churn-prod',
        endpointConfigName: 'churn-prod-v7-1a2b3c4d',
        firstDeployment: false,
      }),
    );
    const result = await deployHandler({ ...deps, deployVersion })(
      loadEvent('nbops-version-approved'),
      lambdaContext(),
    );
    expect(deployVersion).toHaveBeenCalledWith(SERVICES, {
      model: 'churn',
      version: 7,
      approvedBy: 'arn:aws:sts::123456789012:assumed-role/MLOps/bob',
      eventId: '0f3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
      eventTime: '2026-03-02T09:58:00.000Z',
    });
    expect(result).toMatchObject({ kind: 'deploying', endpointName: 'churn-prod' });
    expect(metricValues(deps.captured)).toEqual({ Deploying: 1 });
  });

  it('ignores an approval without a version number', async () => {
    const deps = testDeps('deploy');
    const deployVersion = vi.fn();
    const event = loadEvent('nbops-version-approved');
    delete event.detail.version;
    expect(await deployHandler({ ...deps, deployVersion })(event, lambdaContext())).toEqual({
      kind: 'ignored',
      reason: 'Version Approved event: detail.version is missing',
    });
    expect(deployVersion).not.toHaveBeenCalled();
  });
});

describe('endpoint-state handler', () => {
  it('passes endpoint and deployment events with API-spelled statuses', async () => {
    const deps = testDeps('endpoint-state');
    const seen: EndpointStateChange[] = [];
    const onEndpointStateChange = vi.fn(
      async (_s: unknown, change: EndpointStateChange): Promise<EndpointOutcome> => {
        seen.push(change);
        return { kind: 'in-progress', model: 'churn', version: 8, status: change.status };
      },
    );
    const handler = endpointHandler({ ...deps, onEndpointStateChange });
    for (const fixture of [
      'sagemaker-endpoint-in-service',
      'sagemaker-endpoint-failed',
      'sagemaker-endpoint-deployment-updating',
      'sagemaker-endpoint-deployment-rolling-back',
    ] as const)
      await handler(loadEvent(fixture), lambdaContext());
    expect(seen.map((c) => [c.source, c.status, c.pendingEndpointConfigName])).toEqual([
      ['endpoint', 'InService', undefined],
      ['endpoint', 'Failed', undefined],
      ['deployment', 'Updating', 'churn-prod-v8-5e6f7a8b'],
      ['deployment', 'RollingBack', 'churn-prod-v8-5e6f7a8b'],
    ]);
  });
});

describe('sweeper handler', () => {
  it('sweeps on each tick of the schedule and counts what it marked', async () => {
    const deps = testDeps('sweeper', { metrics: true });
    const sweepStuckVersions = vi.fn(
      async (_s: unknown, _request: SweepRequest): Promise<SweepOutcome> => ({
        marked: [
          { model: 'churn', version: 7, from: 'TRAINING', to: 'TRAINING_FAILED', reason: 'stuck for 26h' },
        ],
        resolved: [],
        resent: [{ model: 'fraud', version: 3, waitedSeconds: 960 }],
        errors: [],
      }),
    );
    const result = await sweeperHandler({ ...deps, sweepStuckVersions })(
      loadEvent('scheduled-event'),
      lambdaContext(),
    );
    expect(sweepStuckVersions).toHaveBeenCalledWith(SERVICES, {
      eventId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      eventTime: '2026-03-02T10:15:00.000Z',
    });
    expect(result).toMatchObject({ kind: 'swept', marked: [{ model: 'churn', version: 7 }] });
    expect(metricValues(deps.captured)).toEqual({
      Swept: 1,
      StuckVersionsMarked: 1,
      LostEventsResolved: 0,
      DeploymentsResent: 1,
      SweepErrors: 0,
    });
  });
});
