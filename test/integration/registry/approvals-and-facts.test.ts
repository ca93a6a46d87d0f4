import { describe, expect, it } from 'vitest';
import {
  AliasConflictError,
  FactTooLargeError,
  IllegalAliasError,
  ImmutableFactError,
  SelfApprovalError,
} from '#core/registry/errors';
import {
  auditSteps,
  freshRegistry,
  minute,
  PATH_TO_DEPLOYED,
  PATH_TO_PENDING,
  upload,
  walk,
} from './helpers';

describe.concurrent('approvals', () => {
  it('refuse the uploader approving their own version, whatever the case of their identity', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1, { uploader: 'alice@example.com' }));
    await walk(registry, 'churn', 1, PATH_TO_PENDING);

    const selfApproval = registry.recordApproval('churn', 1, {
      approver: 'Alice@Example.com',
      decision: 'approve',
      reason: 'lgtm',
      sourceEventId: 'cli-1',
      at: minute(10),
    });

    await expect(selfApproval).rejects.toThrow(SelfApprovalError);
    await expect(selfApproval).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    await expect(selfApproval).rejects.toThrow(
      'Alice@Example.com uploaded version 1 of churn and may not approve it',
    );
    expect((await registry.getVersion('churn', 1))?.status).toBe('PENDING_APPROVAL');
  });

  it('let the uploader approve when the policy allows it, and say so in the record', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1, { uploader: 'alice@example.com' }));
    await walk(registry, 'churn', 1, PATH_TO_PENDING);

    const result = await registry.recordApproval('churn', 1, {
      approver: 'alice@example.com',
      decision: 'approve',
      reason: 'solo team',
      sourceEventId: 'cli-1',
      at: minute(10),
      allowSelfApproval: true,
    });

    expect(result).toMatchObject({ changed: true, status: 'APPROVED' });
    expect(result.record.approval).toEqual({
      version: 1,
      approver: 'alice@example.com',
      decision: 'approve',
      reason: 'solo team',
      at: minute(10),
      sourceEventId: 'cli-1',
      selfApproved: true,
    });
  });

  it('record a decline once, even when the CLI request is retried', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await walk(registry, 'churn', 1, PATH_TO_PENDING);
    const decline = () =>
      registry.recordApproval('churn', 1, {
        approver: 'bob@example.com',
        decision: 'decline',
        reason: 'recall too low on the holdout',
        sourceEventId: 'cli-2',
        at: minute(10),
      });

    const [first, retry] = [await decline(), await decline()];

    expect(first).toMatchObject({ changed: true, status: 'DECLINED' });
    expect(retry).toMatchObject({ changed: false, status: 'DECLINED' });
    const trail = await registry.auditTrail('churn', { version: 1 });
    expect(trail.at(-1)).toMatchObject({
      from: 'PENDING_APPROVAL',
      to: 'DECLINED',
      actor: 'bob@example.com',
    });
    expect(auditSteps(trail).filter((step) => step === 'DECLINED')).toHaveLength(1);
  });

  it('are only taken for a version waiting for approval', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await walk(registry, 'churn', 1, ['VALIDATED', 'TRAINING']);

    await expect(
      registry.recordApproval('churn', 1, {
        approver: 'bob@example.com',
        decision: 'approve',
        reason: 'eager',
        sourceEventId: 'cli-3',
        at: minute(10),
      }),
    ).rejects.toThrow(
      'version 1 of churn is TRAINING; cannot move to APPROVED from there (this step expects PENDING_APPROVAL)',
    );
  });
});

describe.concurrent('facts', () => {
  it('are written once: the same value again is a no-op, whatever the key order', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));

    const first = await registry.recordFacts('churn', 1, {
      artifact: { uri: 's3://a/model.tar.gz', sha256: 'abc' },
    });
    const again = await registry.recordFacts('churn', 1, {
      artifact: { sha256: 'abc', uri: 's3://a/model.tar.gz' },
      metrics: { auc: 0.9 },
    });

    expect(first).toEqual({ written: ['artifact'], unchanged: [] });
    expect(again).toEqual({ written: ['metrics'], unchanged: ['artifact'] });
    expect((await registry.getVersion('churn', 1))?.facts).toMatchObject({
      artifact: { uri: 's3://a/model.tar.gz', sha256: 'abc' },
      metrics: { auc: 0.9 },
      notebook: { sha256: 'sha-1' },
    });
  });

  it('given at upload are recorded with the version', async () => {
    const { registry } = await freshRegistry();
    const manifest = { name: 'churn', training: { instanceType: 'ml.g5.xlarge' } };
    await registry.registerUpload(
      upload('churn', 1, { facts: { manifest, dataRefs: [{ uri: 's3://d/x.csv', etag: 'e1' }] } }),
    );

    const again = await registry.recordFacts('churn', 1, {
      manifest: { training: { instanceType: 'ml.g5.xlarge' }, name: 'churn' },
    });

    expect(again).toEqual({ written: [], unchanged: ['manifest'] });
    expect((await registry.getVersion('churn', 1))?.facts).toMatchObject({
      manifest,
      dataRefs: [{ etag: 'e1' }],
    });
  });

  it('refuse a different value, naming the fact', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await registry.recordFacts('churn', 1, { metrics: { auc: 0.9 } });

    const change = registry.recordFacts('churn', 1, { metrics: { auc: 0.99 } });

    await expect(change).rejects.toThrow(ImmutableFactError);
    await expect(change).rejects.toMatchObject({ code: 'IMMUTABLE_FACT', fact: 'metrics' });
    await expect(change).rejects.toThrow(
      'fact "metrics" of version 1 of churn is already recorded with a different value',
    );
    // Facts recorded at upload are protected the same way.
    await expect(registry.recordFacts('churn', 1, { manifestHash: 'other' })).rejects.toThrow(
      ImmutableFactError,
    );
    expect((await registry.getVersion('churn', 1))?.facts.metrics).toEqual({ auc: 0.9 });
  });

  it('carried by a transition are refused together with the transition', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await registry.recordFacts('churn', 1, { trainingImage: 'img:1' });
    await walk(registry, 'churn', 1, ['VALIDATED']);

    await expect(
      registry.transition('churn', 1, {
        to: 'TRAINING',
        actor: 'submit',
        reason: 'start',
        sourceEventId: 'e',
        at: minute(5),
        facts: { trainingImage: 'img:2', trainingJob: { name: 'job' } },
      }),
    ).rejects.toThrow(ImmutableFactError);

    const version = await registry.getVersion('churn', 1);
    expect(version?.status).toBe('VALIDATED');
    expect(version?.facts.trainingJob).toBeUndefined();
  });

  it('too large for an item are refused with the fact named, before anything is written', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    const findings = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`finding-${i}`, i]));

    const tooLarge = registry.recordFacts('churn', 1, { metrics: findings, billableSeconds: 10 });

    await expect(tooLarge).rejects.toThrow(FactTooLargeError);
    await expect(tooLarge).rejects.toMatchObject({ code: 'FACT_TOO_LARGE', fact: 'metrics' });
    expect((await registry.getVersion('churn', 1))?.facts.billableSeconds).toBeUndefined();
  });

  it('too large at upload refuse the upload before claiming a version', async () => {
    const { registry } = await freshRegistry();
    const manifest = { description: 'x'.repeat(360_000) };

    await expect(registry.registerUpload(upload('churn', 1, { facts: { manifest } }))).rejects.toMatchObject({
      code: 'FACT_TOO_LARGE',
      fact: 'manifest',
    });
    expect(await registry.registerUpload(upload('churn', 2))).toMatchObject({ version: 1, created: true });
  });
});

describe.concurrent('aliases', () => {
  it('move the champion only to a deployed version, and only from the expected version', async () => {
    const { registry } = await freshRegistry();
    for (const n of [1, 2]) {
      await registry.registerUpload(upload('churn', n));
      await walk(registry, 'churn', n, PATH_TO_DEPLOYED);
    }
    await registry.registerUpload(upload('churn', 3));
    const promote = (version: number, expectedCurrent: number | null) =>
      registry.setAlias('churn', 'champion', version, {
        expectedCurrent,
        actor: 'deploy',
        reason: 'promote',
        sourceEventId: `promote-${version}`,
        at: minute(20 + version),
      });

    expect(await promote(1, null)).toEqual({ changed: true, previous: undefined });
    await expect(promote(2, null)).rejects.toThrow(AliasConflictError);
    await expect(promote(2, null)).rejects.toThrow(
      'champion of churn points to version 1, not nothing as expected',
    );
    expect(await promote(2, 1)).toEqual({ changed: true, previous: 1 });
    expect(await promote(2, 1)).toEqual({ changed: false, previous: 2 });
    await expect(promote(3, 2)).rejects.toThrow(IllegalAliasError);
    await expect(promote(3, 2)).rejects.toThrow(
      'version 3 of churn is RECEIVED; champion must point to a version that is DEPLOYED',
    );

    const summary = await registry.productionSummary('churn');
    expect(summary?.champion).toMatchObject({
      version: 2,
      notebook: { sha256: 'sha-2' },
      promotedAt: minute(22),
    });
    const aliasEvents = (await registry.auditTrail('churn')).filter((event) => event.kind === 'alias');
    expect(aliasEvents).toMatchObject([
      { alias: 'champion', version: 1 },
      { alias: 'champion', version: 2, previousVersion: 1 },
    ]);
  });

  it('let a rolled-back production go back to the last good version by redeploying it', async () => {
    const { registry } = await freshRegistry();
    for (const n of [1, 2]) {
      await registry.registerUpload(upload('churn', n));
      await walk(registry, 'churn', n, PATH_TO_DEPLOYED);
    }
    await registry.setAlias('churn', 'champion', 2, {
      actor: 'deploy',
      reason: 'r',
      sourceEventId: 'p2',
      at: minute(30),
    });

    const alarm = { actor: 'alarm', reason: 'error burn rate', at: minute(31) };
    await registry.transition('churn', 1, {
      ...alarm,
      to: 'DEPLOYING',
      expectedFrom: ['DEPLOYED'],
      sourceEventId: 'rb-1',
    });
    await registry.transition('churn', 2, { ...alarm, to: 'ROLLED_BACK', sourceEventId: 'rb-2' });
    await registry.transition('churn', 1, { ...alarm, to: 'DEPLOYED', sourceEventId: 'rb-3' });
    await registry.setAlias('churn', 'champion', 1, { ...alarm, expectedCurrent: 2, sourceEventId: 'rb-4' });

    expect((await registry.productionSummary('churn'))?.champion?.version).toBe(1);
    expect((await registry.getVersion('churn', 2))?.status).toBe('ROLLED_BACK');
  });
});
