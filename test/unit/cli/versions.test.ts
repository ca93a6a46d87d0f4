// The versions table a person reads: the champion starred, and a replaced DEPLOYED version
// described as what it is now (a rollback target), not by the reason it had while it served.
import { describe, expect, it } from 'vitest';
import type { VersionSummary } from '#core/ops/views';
import { formatVersions } from '../../../cli/commands/versions';

const version = (n: number, over: Partial<VersionSummary>): VersionSummary => ({
  model: 'churn',
  version: n,
  status: 'DEPLOYED',
  reason: `endpoint churn is InService on churn-v${n}-0a1b2c3d`,
  uploader: 'dana',
  owner: 'team-ml@example.com',
  createdAt: '2026-11-23T20:53:28.000Z',
  updatedAt: '2026-11-23T20:53:38.572Z',
  champion: false,
  metrics: { 'validation:auc': 0.850941 },
  ...over,
});

describe('formatVersions', () => {
  it('stars the champion and says a replaced DEPLOYED version can be restored', () => {
    const text = formatVersions([version(2, { champion: true }), version(1, {})]);
    const [header, v2, v1, note] = text.trimEnd().split('\n');
    expect(header).toMatch(/^VERSION +STATUS +UPLOADER +UPDATED +METRICS +WHY$/);
    expect(v2).toMatch(
      /^\*v2 +DEPLOYED +dana +2026-11-23 20:53:38Z +validation:auc=0\.8509 +endpoint churn is InService on churn-v2/,
    );
    expect(v1).toMatch(/^ v1 +DEPLOYED .* replaced by v2; `nbops rollback` can restore it$/);
    expect(note).toBe('(* the champion: the version in production)');
  });

  it('keeps the recorded reason once the model is retired', () => {
    const text = formatVersions([
      version(2, { champion: true, status: 'RETIRED', reason: 'model retired: replaced' }),
      version(1, { status: 'RETIRED', reason: 'model retired: replaced' }),
    ]);
    expect(text).not.toContain('can restore it');
    expect(text).toContain('(* the last champion: the model is retired, nothing is in production)');
  });
});
