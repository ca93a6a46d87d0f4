import { describe, expect, it } from 'vitest';
import { endpointConfigName, trainingJobName } from '#core/manifest/names';
import { isApprover } from '#core/service/approvals';
import { endpointConfigVersion, parseTrainingJobName } from '#core/service/context';
import type { NotebookUpload } from '#core/service/contracts';
import { uploadIdOf } from '#core/service/submit';

describe('parseTrainingJobName', () => {
  it('reverses trainingJobName, also for model names that look like versions', () => {
    for (const [model, version] of [
      ['churn', 7],
      ['churn-v2', 3],
      ['a-v1-b', 999999],
    ] as const) {
      const name = trainingJobName(model, version, 'ab12cd34ef');
      expect(parseTrainingJobName(name)).toEqual({ model, version, hash: 'ab12cd34' });
    }
  });

  it('rejects names nbops does not make', () => {
    for (const name of [
      'kmeans-1',
      'churn-v0-ab12cd34',
      'Churn-v1-ab12cd34',
      'churn-v1-AB12CD34',
      'churn-v1',
    ])
      expect(parseTrainingJobName(name)).toBeUndefined();
  });
});

describe('endpointConfigVersion', () => {
  it('finds the version of a config of this model only', () => {
    expect(endpointConfigVersion('churn', endpointConfigName('churn', 12, 'deadbeef00'))).toBe(12);
    expect(endpointConfigVersion('churn', 'churn-v3')).toBe(3);
    expect(endpointConfigVersion('churn', 'churn-v2-v3-deadbeef')).toBeUndefined();
    expect(endpointConfigVersion('churn', 'other-v3')).toBeUndefined();
    expect(endpointConfigVersion('churn', undefined)).toBeUndefined();
  });
});

describe('isApprover', () => {
  const approvers = ['arn:aws:iam::123456789012:role/teams/ml-release', 'Lead@Example.com'];
  it('matches identities without case', () => {
    expect(isApprover('lead@example.com', approvers)).toBe(true);
    expect(isApprover('other@example.com', approvers)).toBe(false);
  });
  it('counts a session of a listed role as that role (path ignored), in the same account only', () => {
    expect(isApprover('arn:aws:sts::123456789012:assumed-role/ml-release/alice', approvers)).toBe(true);
    expect(isApprover('arn:aws:sts::210987654321:assumed-role/ml-release/alice', approvers)).toBe(false);
    expect(isApprover('arn:aws:sts::123456789012:assumed-role/ml-release-admin/alice', approvers)).toBe(
      false,
    );
  });
});

describe('uploadIdOf', () => {
  const upload: NotebookUpload = {
    bucket: 'b',
    key: 'notebooks/churn/my churn+v2 ü.ipynb',
    etag: '"abc"',
    size: 10,
    sequencer: '0055AED6DCD90281E5',
    eventId: 'e',
    eventTime: '2025-01-01T00:00:00Z',
    uploader: 'u',
  };
  it('uses the object version when there is one, else ETag and sequencer', () => {
    expect(uploadIdOf({ ...upload, versionId: 'v1' })).toBe(
      's3://b/notebooks/churn/my churn+v2 ü.ipynb?versionId=v1',
    );
    expect(uploadIdOf(upload)).toBe('s3://b/notebooks/churn/my churn+v2 ü.ipynb#abc@0055AED6DCD90281E5');
    expect(uploadIdOf({ ...upload, sequencer: '0055AED6DCD90281E6' })).not.toBe(uploadIdOf(upload));
  });
  it('hashes ids too long for a DynamoDB key', () => {
    const id = uploadIdOf({ ...upload, key: `notebooks/churn/${'ü'.repeat(500)}.ipynb` });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
