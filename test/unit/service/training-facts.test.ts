import type { DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { describe, expect, it } from 'vitest';
import { deploymentLimitSeconds, trainingLimitSeconds } from '#core/service/sweeper';
import { finalMetrics, trainingCost } from '#core/service/training';
import { rawExample, resolve } from '../sagemaker/helpers';

const job = (over: Partial<DescribeTrainingJobCommandOutput>) =>
  ({ $metadata: {}, ...over }) as DescribeTrainingJobCommandOutput;

describe('finalMetrics', () => {
  it('keeps the latest value of each metric and drops non-numbers', () => {
    expect(
      finalMetrics(
        job({
          FinalMetricDataList: [
            { MetricName: 'auc', Value: 0.8, Timestamp: new Date('2025-01-01T00:00:00Z') },
            { MetricName: 'auc', Value: 0.9, Timestamp: new Date('2025-01-01T00:01:00Z') },
            { MetricName: 'loss', Value: Number.NaN },
            { Value: 1 },
          ],
        }),
      ),
    ).toEqual({ auc: 0.9 });
  });
});

describe('trainingCost', () => {
  it('bills Billable x InstanceCount and reports spot savings', () => {
    expect(
      trainingCost(
        job({
          ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 2, VolumeSizeInGB: 30 },
          TrainingTimeInSeconds: 1000,
          BillableTimeInSeconds: 300,
          EnableManagedSpotTraining: true,
        }),
      ),
    ).toEqual({
      instanceCount: 2,
      trainingSeconds: 1000,
      billableSeconds: 300,
      computeSeconds: 600,
      spotSavingsPercent: 70,
    });
  });
  it('reports no savings for on-demand jobs', () => {
    expect(
      trainingCost(job({ TrainingTimeInSeconds: 10, BillableTimeInSeconds: 10 })).spotSavingsPercent,
    ).toBe(undefined);
  });
});

describe('stuck limits', () => {
  it('allows maxRuntime, plus maxWait with spot', () => {
    const spot = resolve(rawExample()); // maxRuntime 1h, spot maxWait 2h
    expect(trainingLimitSeconds(spot)).toBe(3 * 3600);
    const raw = rawExample();
    raw.training.spot = { enabled: false };
    expect(trainingLimitSeconds(resolve(raw))).toBe(3600);
  });
  it("uses the deployment's MaximumExecutionTimeoutInSeconds", () => {
    // canary, bake 5m: two steps of 300 s + 300 s termination wait + 1800 s provisioning slack.
    expect(deploymentLimitSeconds(resolve(rawExample()))).toBe(2700);
  });
});
