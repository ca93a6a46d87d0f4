import { describe, expect, it } from 'vitest';
import { parseNotebookKey, parseS3Uri, versionKeys } from '#core/layout';
import { HANDLERS, matchesPattern, routes, routesFor } from '#core/wiring';

const params = { bucketName: 'nbops-artifacts' };
const s3Created = (key: string, bucket = 'nbops-artifacts') => ({
  version: '0',
  id: 'e1',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  detail: { bucket: { name: bucket }, object: { key, size: 10, etag: 'x' }, reason: 'PutObject' },
});

describe('wiring table', () => {
  it('routes each AWS event type to its handler, and only nbops’s own resources', () => {
    expect(routesFor(s3Created('notebooks/churn/churn.ipynb'), params).map((r) => r.handler)).toEqual([
      'submit',
    ]);
    expect(routesFor(s3Created('versions/churn/v1/x'), params)).toEqual([]);
    expect(routesFor(s3Created('notebooks/churn/churn.ipynb', 'other-bucket'), params)).toEqual([]);
    const training = {
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Training Job State Change',
      detail: { TrainingJobStatus: 'Completed' },
    };
    expect(routesFor(training, params).map((r) => r.handler)).toEqual(['training-state']);
    expect(routesFor({ ...training, detail: { TrainingJobStatus: 'InProgress' } }, params)).toEqual([]);
    const alarm = (alarmName: string) => ({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: { alarmName },
    });
    expect(routesFor(alarm('nbops-churn-latency'), params).map((r) => r.handler)).toEqual(['alarm']);
    expect(routesFor(alarm('someone-elses-alarm'), params)).toEqual([]);
    expect(
      routesFor({ source: 'nbops', 'detail-type': 'Version Approved', detail: {} }, params).map(
        (r) => r.handler,
      ),
    ).toEqual(['deploy']);
  });

  it('names only handlers that exist, with unique route ids', () => {
    const all = routes(params);
    for (const r of all) expect(HANDLERS).toContain(r.handler);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it('matches EventBridge operators: prefix, exists, anything-but, arrays in events', () => {
    expect(matchesPattern({ a: [{ prefix: 'x/' }] }, { a: 'x/y' })).toBe(true);
    expect(matchesPattern({ a: [{ prefix: 'x/' }] }, { a: 'y/x' })).toBe(false);
    expect(matchesPattern({ a: [{ exists: true }] }, { a: 0 })).toBe(true);
    expect(matchesPattern({ a: [{ exists: false }] }, { a: 0 })).toBe(false);
    expect(matchesPattern({ a: [{ exists: false }] }, {})).toBe(true);
    expect(matchesPattern({ a: [{ 'anything-but': ['b'] }] }, { a: 'c' })).toBe(true);
    expect(matchesPattern({ a: [{ 'anything-but': ['b'] }] }, { a: 'b' })).toBe(false);
    expect(matchesPattern({ tags: ['t1'] }, { tags: ['t0', 't1'] })).toBe(true);
    expect(matchesPattern({ a: { b: ['c'] } }, { a: 'not an object' })).toBe(false);
    expect(matchesPattern({ a: ['x'] }, null)).toBe(false);
  });
});

describe('S3 layout', () => {
  it('recognises notebook and sidecar uploads, and nothing else', () => {
    expect(parseNotebookKey('notebooks/churn/churn v2+final.ipynb')).toEqual({
      model: 'churn',
      file: 'churn v2+final.ipynb',
      kind: 'notebook',
    });
    expect(parseNotebookKey('notebooks/churn/churn.nbops.yaml')?.kind).toBe('sidecar');
    expect(parseNotebookKey('notebooks/churn/data.csv')).toBeUndefined();
    expect(parseNotebookKey('notebooks/churn.ipynb')).toBeUndefined();
    expect(parseNotebookKey('notebooks/churn/sub/x.ipynb')).toBeUndefined();
    expect(parseNotebookKey('versions/churn/v1/notebook/x.ipynb')).toBeUndefined();
  });

  it('builds version keys and parses S3 URIs', () => {
    expect(versionKeys.report('churn', 7, 'sarif')).toBe('versions/churn/v7/reports/validation.sarif');
    expect(parseS3Uri('s3://b/k/x')).toEqual({ bucket: 'b', key: 'k/x' });
    expect(parseS3Uri('s3://b')).toEqual({ bucket: 'b', key: '' });
    expect(parseS3Uri('https://b/k')).toBeUndefined();
  });
});
