// Retrain uploads: their key names the version retrained (the lineage) and the request (so a
// redelivered request finds its upload), and never grows when a retrain is retrained.
import { describe, expect, it } from 'vitest';
import { parseNotebookKey } from '#core/layout';
import { isAutomaticRequest, retrainKey, retrainLineage } from '#core/service/retrain';

describe('retrain uploads', () => {
  it('are notebook uploads of the model, named after the version retrained and the request', () => {
    const key = retrainKey('churn', 'churn.ipynb', 7, 'event-1');
    expect(key).toMatch(/^notebooks\/churn\/churn\.retrain-v7-[0-9a-f]{8}\.ipynb$/);
    expect(parseNotebookKey(key)).toMatchObject({ model: 'churn', kind: 'notebook' });
    expect(retrainKey('churn', 'churn.ipynb', 7, 'event-1')).toBe(key);
    expect(retrainKey('churn', 'churn.ipynb', 7, 'event-2')).not.toBe(key);
    expect(retrainLineage(key)).toEqual({ retrainOf: 7, request: key.slice(-14, -6) });
  });

  it('keep the original name when a retrain is retrained', () => {
    const first = retrainKey('churn', 'churn.ipynb', 7, 'a');
    const second = retrainKey('churn', first.slice('notebooks/churn/'.length), 9, 'b');
    expect(second).toMatch(/^notebooks\/churn\/churn\.retrain-v9-[0-9a-f]{8}\.ipynb$/);
    expect(retrainLineage(second)?.retrainOf).toBe(9);
  });

  it('are told apart from ordinary uploads and sidecars', () => {
    expect(retrainLineage('notebooks/churn/churn.ipynb')).toBeUndefined();
    expect(retrainLineage('notebooks/churn/churn.retrain-v7-0123abcd.nbops.json')).toBeUndefined();
    expect(retrainLineage(undefined)).toBeUndefined();
  });

  it('count as automatic (cooldown applies) when nbops asked, not when a person did', () => {
    expect(isAutomaticRequest('alarm:nbops-churn-drift')).toBe(true);
    expect(isAutomaticRequest('drift')).toBe(true);
    expect(isAutomaticRequest('arn:aws:iam::123456789012:role/ml-release')).toBe(false);
  });
});
