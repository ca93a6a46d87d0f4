import { describe, expect, it } from 'vitest';
import { REGISTER_STEPS, type RegisterStep } from '#adapters/dynamodb/registry';
import { auditSteps, freshRegistry, minute, upload } from './helpers';

class SimulatedCrash extends Error {}

describe.concurrent('redelivered events', () => {
  it('apply a transition once when the same event arrives three times at once', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    const validated = () =>
      registry.transition('churn', 1, {
        to: 'VALIDATED',
        actor: 'submit',
        reason: 'no errors',
        sourceEventId: 's3-event-1',
        at: minute(1),
        facts: { validation: { errors: 0, warnings: 0, reportUri: 's3://r/1.json' } },
      });

    const results = await Promise.all([validated(), validated(), validated()]);

    expect(results.map((result) => result.changed).sort()).toEqual([false, false, true]);
    expect(results.every((result) => result.status === 'VALIDATED')).toBe(true);
    const trail = await registry.auditTrail('churn', { version: 1 });
    expect(auditSteps(trail)).toEqual(['RECEIVED', 'VALIDATED']);
  });

  it('let exactly one of two different events racing from the same state win', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    for (const to of ['VALIDATED', 'TRAINING'] as const) {
      await registry.transition('churn', 1, {
        to,
        actor: 'submit',
        reason: 'r',
        sourceEventId: `e-${to}`,
        at: minute(1),
      });
    }

    // The training job's completion event and the stuck-version sweep arrive together.
    const outcomes = await Promise.allSettled([
      registry.transition('churn', 1, {
        to: 'TRAINED',
        actor: 'trained',
        reason: 'job completed',
        sourceEventId: 'job',
        at: minute(9),
      }),
      registry.transition('churn', 1, {
        to: 'TRAINING_FAILED',
        actor: 'sweep',
        reason: 'past max runtime',
        sourceEventId: 'sweep',
        at: minute(9),
      }),
    ]);

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(refused?.reason).toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      from: expect.stringMatching(/^TRAINED|TRAINING_FAILED$/),
    });
    const trail = await registry.auditTrail('churn', { version: 1 });
    expect(trail).toHaveLength(4);
    expect(auditSteps(trail).at(-1)).toBe((await registry.getVersion('churn', 1))?.status);
  });

  it('change nothing when a late duplicate arrives after the version moved on', async () => {
    const { registry } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    const move = (to: 'VALIDATED' | 'TRAINING', sourceEventId: string) =>
      registry.transition('churn', 1, { to, actor: 'submit', reason: 'r', sourceEventId, at: minute(1) });
    await move('VALIDATED', 'e1');
    await move('TRAINING', 'e2');

    const late = await move('VALIDATED', 'e1');

    expect(late).toMatchObject({ changed: false, status: 'TRAINING' });
    expect(await registry.auditTrail('churn')).toHaveLength(3);
  });

  it('register one version when the same upload event arrives three times at once', async () => {
    const { registry } = await freshRegistry();
    const event = upload('churn', 7);

    const results = await Promise.all([
      registry.registerUpload(event),
      registry.registerUpload(event),
      registry.registerUpload(event),
    ]);

    expect(results.map((result) => result.version)).toEqual([1, 1, 1]);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await registry.listVersions('churn')).toHaveLength(1);
    expect(await registry.auditTrail('churn')).toHaveLength(1);
    expect(await registry.registerUpload(event)).toEqual({ version: 1, created: false, status: 'RECEIVED' });
  });
});

describe.concurrent('concurrent uploads', () => {
  it('of one model get distinct, gap-free versions', async () => {
    const { registry } = await freshRegistry();
    const uploads = Array.from({ length: 10 }, (_, i) => upload('churn', 100 + i));

    const results = await Promise.all(uploads.map((event) => registry.registerUpload(event)));

    expect(results.map((result) => result.version).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(results.every((result) => result.created)).toBe(true);
    const versions = await registry.listVersions('churn');
    expect(new Set(versions.map((version) => version.uploadId)).size).toBe(10);
    for (const result of results) {
      const version = versions.find((v) => v.version === result.version);
      expect(version?.uploadId).toBe(uploads[results.indexOf(result)]?.uploadId);
    }
    expect((await registry.getModel('churn'))?.latestVersion).toBe(10);
    expect(await registry.auditTrail('churn')).toHaveLength(10);
  });

  it('of different models each start at version 1 and all appear in listModels', async () => {
    const { registry } = await freshRegistry();

    const results = await Promise.all(
      ['a-model', 'b-model', 'c-model'].map((model) => registry.registerUpload(upload(model))),
    );

    expect(results.map((result) => result.version)).toEqual([1, 1, 1]);
    expect((await registry.listModels()).map((model) => model.model)).toEqual([
      'a-model',
      'b-model',
      'c-model',
    ]);
  });
});

describe.concurrent('a crash during registration', () => {
  it.each(REGISTER_STEPS.filter((step) => step !== 'done'))(
    'after step "%s" is repaired by the next delivery: one version, one audit event',
    async (crashStep) => {
      const { withOptions, registry } = await freshRegistry();
      const crashing = withOptions({
        hooks: {
          afterRegisterStep: (step: RegisterStep) => {
            if (step === crashStep) throw new SimulatedCrash(step);
          },
        },
      });
      const event = upload('churn', 1);

      await expect(crashing.registerUpload(event)).rejects.toThrow(SimulatedCrash);
      const redelivered = await registry.registerUpload(event);
      const again = await registry.registerUpload(event);

      expect(redelivered).toMatchObject({ version: 1, status: 'RECEIVED' });
      // Only the delivery that created the version item says created.
      expect(redelivered.created).toBe(crashStep === 'claimed' || crashStep === 'reserved');
      expect(again).toEqual({ version: 1, created: false, status: 'RECEIVED' });
      expect(await registry.listVersions('churn')).toHaveLength(1);
      expect((await registry.auditTrail('churn')).map((e) => e.kind)).toEqual(['registered']);
      expect(await registry.getModel('churn')).toMatchObject({
        latestVersion: 1,
        owner: 'team-churn',
        aliases: {},
      });
    },
  );

  it('does not leave a gap when another upload takes the crashed upload’s reserved number', async () => {
    const { withOptions, registry } = await freshRegistry();
    const crashing = withOptions({
      hooks: {
        afterRegisterStep: (step) => {
          if (step === 'reserved') throw new SimulatedCrash(step);
        },
      },
    });
    const first = upload('churn', 1);
    const second = upload('churn', 2);

    await expect(crashing.registerUpload(first)).rejects.toThrow(SimulatedCrash);
    const secondResult = await registry.registerUpload(second);
    const firstResult = await registry.registerUpload(first);

    expect(secondResult.version).toBe(1);
    expect(firstResult).toEqual({ version: 2, created: true, status: 'RECEIVED' });
    expect((await registry.listVersions('churn')).map((v) => [v.version, v.uploadId])).toEqual([
      [1, second.uploadId],
      [2, first.uploadId],
    ]);
  });

  it('between a transition and its audit event is repaired by the redelivery', async () => {
    // The status update lands, then the process dies before the audit EVENT item is written.
    const { registry, client } = await freshRegistry();
    await registry.registerUpload(upload('churn', 1));
    let failAuditWrites = true;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Item?: { type?: { S?: string } } };
        if (failAuditWrites && context.commandName === 'PutItemCommand' && input.Item?.type?.S === 'EVENT') {
          throw new SimulatedCrash('audit write');
        }
        return next(args);
      },
      { step: 'initialize', name: 'crashOnAuditWrite' },
    );
    const validated = () =>
      registry.transition('churn', 1, {
        to: 'VALIDATED',
        actor: 'submit',
        reason: 'ok',
        sourceEventId: 'e1',
        at: minute(1),
      });

    await expect(validated()).rejects.toThrow(SimulatedCrash);
    expect((await registry.getVersion('churn', 1))?.status).toBe('VALIDATED');
    failAuditWrites = false;
    const redelivered = await validated();

    expect(redelivered.changed).toBe(false);
    const trail = await registry.auditTrail('churn');
    expect(auditSteps(trail)).toEqual(['RECEIVED', 'VALIDATED']);
    expect(trail[1]).toMatchObject({ from: 'RECEIVED', to: 'VALIDATED', sourceEventId: 'e1', at: minute(1) });
  });
});
