import { describe, expect, it } from 'vitest';
import { IllegalTransitionError, NotFoundError } from '#core/registry/errors';
import type { Status } from '#core/registry/lifecycle';
import { auditSteps, freshRegistry, minute, PATH_TO_PENDING, upload, walk } from './helpers';

describe.concurrent('a version through its lifecycle', () => {
  it('goes from RECEIVED to DEPLOYED with facts, approval, champion alias and a full audit trail', async () => {
    // Prepare
    const { registry, sent } = await freshRegistry();
    const registered = await registry.registerUpload(upload('churn', 1, { at: minute(0) }));
    expect(registered).toEqual({ version: 1, created: true, status: 'RECEIVED' });

    // Act
    const step = (to: Status, at: number, actor: string, facts = {}) =>
      registry.transition('churn', 1, {
        to,
        actor,
        reason: `to ${to}`,
        sourceEventId: `evt-${to}`,
        at: minute(at),
        facts,
      });
    await step('VALIDATED', 1, 'submit', {
      validation: { errors: 0, warnings: 2, reportUri: 's3://reports/churn/1/report.json' },
    });
    await step('TRAINING', 2, 'submit', { trainingJob: { name: 'nbops-churn-1' }, trainingImage: 'img:1' });
    await step('TRAINED', 30, 'trained', {
      artifact: { uri: 's3://artifacts/churn/1/model.tar.gz', sha256: 'abc' },
      metrics: { auc: 0.91 },
      billableSeconds: 1700,
    });
    await step('GATES_PASSED', 31, 'trained', {
      gates: { passed: true, results: [{ gate: 'auc>=0.8', passed: true }] },
    });
    await step('PENDING_APPROVAL', 31, 'trained');
    await registry.recordApproval('churn', 1, {
      approver: 'bob@example.com',
      decision: 'approve',
      reason: 'metrics reviewed',
      sourceEventId: 'cli-approve-1',
      at: minute(40),
    });
    await step('DEPLOYING', 41, 'deploy', {
      deployment: { modelName: 'churn-1', endpointConfigName: 'churn-1', endpointName: 'churn' },
    });
    const deployed = await step('DEPLOYED', 55, 'deployed');
    await registry.setAlias('churn', 'champion', 1, {
      expectedCurrent: null,
      actor: 'deployed',
      reason: 'canary baked',
      sourceEventId: 'evt-DEPLOYED',
      at: minute(56),
    });

    // Assess
    expect(deployed.changed).toBe(true);
    expect(deployed.record).toMatchObject({
      status: 'DEPLOYED',
      uploader: 'alice@example.com',
      facts: { metrics: { auc: 0.91 }, trainingJob: { name: 'nbops-churn-1' }, manifestHash: 'manifest-1' },
      approval: { approver: 'bob@example.com', decision: 'approve', reason: 'metrics reviewed' },
      lastChange: { from: 'DEPLOYING', to: 'DEPLOYED', actor: 'deployed' },
    });
    const trail = await registry.auditTrail('churn');
    expect(auditSteps(trail)).toEqual([
      'RECEIVED',
      'VALIDATED',
      'TRAINING',
      'TRAINED',
      'GATES_PASSED',
      'PENDING_APPROVAL',
      'APPROVED',
      'DEPLOYING',
      'DEPLOYED',
      'champion=1',
    ]);
    expect(trail[6]).toMatchObject({
      kind: 'transition',
      from: 'PENDING_APPROVAL',
      to: 'APPROVED',
      actor: 'bob@example.com',
      reason: 'metrics reviewed',
      sourceEventId: 'cli-approve-1',
    });

    sent.clear();
    const summary = await registry.productionSummary('churn');
    expect(Object.fromEntries(sent)).toEqual({ Query: 1 });
    expect(summary).toMatchObject({
      model: 'churn',
      owner: 'team-churn',
      aliases: { champion: 1 },
      champion: {
        version: 1,
        notebook: { bucket: 'nbops-uploads', key: 'notebooks/churn/train.ipynb', sha256: 'sha-1' },
        manifestHash: 'manifest-1',
        artifact: { uri: 's3://artifacts/churn/1/model.tar.gz', sha256: 'abc' },
        approval: { approver: 'bob@example.com', decision: 'approve', reason: 'metrics reviewed' },
        promotedBy: 'deployed',
      },
    });
  });

  it('summarises a model with nothing in production, and an unknown model as undefined', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('fraud', 1));
    expect(await registry.productionSummary('fraud')).toEqual({
      model: 'fraud',
      owner: 'team-churn',
      latestVersion: 1,
      aliases: {},
    });
    expect(await registry.productionSummary('nobody')).toBeUndefined();
  });
});

describe.concurrent('illegal transitions', () => {
  it('are refused with a message naming both states and the allowed ones', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    for (const to of ['VALIDATED', 'TRAINING', 'TRAINED'] as const) {
      await registry.transition('churn', 1, {
        to,
        actor: 'x',
        reason: 'r',
        sourceEventId: `e-${to}`,
        at: minute(1),
      });
    }

    const refused = registry.transition('churn', 1, {
      to: 'DEPLOYED',
      actor: 'x',
      reason: 'skip the gates',
      sourceEventId: 'e-deployed',
      at: minute(2),
    });

    await expect(refused).rejects.toThrow(IllegalTransitionError);
    await expect(refused).rejects.toThrow(
      'version 1 of churn is TRAINED; cannot move to DEPLOYED (allowed: GATES_PASSED, GATES_FAILED, RETIRED)',
    );
    await expect(refused).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      from: 'TRAINED',
      to: 'DEPLOYED',
    });
    expect((await registry.getVersion('churn', 1))?.status).toBe('TRAINED');
    expect(await registry.auditTrail('churn', { version: 1 })).toHaveLength(4);
  });

  it('refuses a move the lifecycle allows when the step expects another state', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));

    const refused = registry.transition('churn', 1, {
      to: 'REJECTED',
      expectedFrom: ['VALIDATED'],
      actor: 'x',
      reason: 'r',
      sourceEventId: 'e1',
      at: minute(1),
    });

    await expect(refused).rejects.toThrow(
      'version 1 of churn is RECEIVED; cannot move to REJECTED from there (this step expects VALIDATED)',
    );
  });

  it('refuses to approve without an approver (approvals go through recordApproval)', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await walk(registry, 'churn', 1, PATH_TO_PENDING);

    const refused = registry.transition('churn', 1, {
      to: 'APPROVED',
      actor: 'pipeline',
      reason: 'r',
      sourceEventId: 'e',
      at: minute(9),
    });

    await expect(refused).rejects.toThrow(
      'version 1 of churn is PENDING_APPROVAL; cannot move to APPROVED without an approver',
    );
    expect((await registry.getVersion('churn', 1))?.status).toBe('PENDING_APPROVAL');
  });

  it('treats RETIRED as final', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    await registry.transition('churn', 1, {
      to: 'REJECTED',
      actor: 'submit',
      reason: 'invalid',
      sourceEventId: 'e1',
      at: minute(1),
    });
    await registry.transition('churn', 1, {
      to: 'RETIRED',
      actor: 'ops',
      reason: 'cleanup',
      sourceEventId: 'e2',
      at: minute(2),
    });

    await expect(
      registry.transition('churn', 1, {
        to: 'VALIDATED',
        actor: 'x',
        reason: 'r',
        sourceEventId: 'e3',
        at: minute(3),
      }),
    ).rejects.toThrow('version 1 of churn is RETIRED; cannot move to VALIDATED (allowed: none, it is final)');
  });

  it('reports unknown versions and models as NotFoundError', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));

    await expect(
      registry.transition('churn', 2, {
        to: 'VALIDATED',
        actor: 'x',
        reason: 'r',
        sourceEventId: 'e',
        at: minute(1),
      }),
    ).rejects.toSatisfy((error) => error instanceof NotFoundError && error.code === 'NOT_FOUND');
    await expect(
      registry.setAlias('nobody', 'champion', 1, {
        actor: 'x',
        reason: 'r',
        sourceEventId: 'e',
        at: minute(1),
      }),
    ).rejects.toThrow('model nobody is not registered');
    expect(await registry.getVersion('churn', 2)).toBeUndefined();
    expect(await registry.getModel('nobody')).toBeUndefined();
  });
});
