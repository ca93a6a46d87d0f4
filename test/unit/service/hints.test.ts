import { describe, expect, it } from 'vitest';
import { trainingFailureHint } from '#core/service/hints';
import { rawExample, resolve } from '../sagemaker/helpers';

const manifest = resolve(rawExample());

describe('trainingFailureHint', () => {
  it('explains spot capacity running out (MaxWaitTimeExceeded) with the manifest limit', () => {
    const hint = trainingFailureHint(
      { status: 'Stopped', secondaryStatus: 'MaxWaitTimeExceeded', failureReason: 'MaxWaitTimeExceeded' },
      manifest,
    );
    expect(hint).toContain('training.spot.maxWait (2h)');
    expect(hint).toContain('ml.g5.xlarge');
  });

  it('explains the runtime limit (MaxRuntimeExceeded)', () => {
    const hint = trainingFailureHint({ status: 'Stopped', secondaryStatus: 'MaxRuntimeExceeded' }, manifest);
    expect(hint).toContain('training.maxRuntime (1h)');
  });

  it('names the failing cell from the runtime failure file quoted in FailureReason', () => {
    const hint = trainingFailureHint({
      status: 'Failed',
      secondaryStatus: 'Failed',
      failureReason:
        "AlgorithmError: cell 7: ValueError: could not convert string to float: 'abc'\n(cell id train; executed notebook: output/data/churn.ipynb), exit code: 1",
    });
    expect(hint).toMatch(/^cell 7 of the notebook raised ValueError: could not convert string to float/);
  });

  it('turns a quota failure into the Service Quotas instruction', () => {
    const hint = trainingFailureHint({
      status: 'Failed',
      failureReason:
        "ResourceLimitExceeded: The account-level service limit 'ml.p4d.24xlarge for spot training job usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1 Instances.",
    });
    expect(hint).toContain('request an increase in Service Quotas');
    expect(hint).toContain('ml.p4d.24xlarge');
  });

  it('says a stopped job was stopped, and has nothing to add to an unknown failure', () => {
    expect(trainingFailureHint({ status: 'Stopped', secondaryStatus: 'Stopped' })).toMatch(/was stopped/);
    expect(
      trainingFailureHint({ status: 'Failed', failureReason: 'InternalServerError: oops' }),
    ).toBeUndefined();
  });
});
