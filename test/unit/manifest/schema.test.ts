import { describe, expect, it } from 'vitest';
import { applyManifestDefaults, validateManifestShape } from '#core/manifest/schema';
import manifestSchema from '../../../schemas/manifest.schema.json' with { type: 'json' };
import { example, type Json } from './helpers';

function errorsOf(raw: unknown) {
  const result = validateManifestShape(raw);
  if (result.ok) throw new Error('expected schema errors');
  return result.errors;
}

const minimal = () => ({
  apiVersion: 'nbops/v1',
  model: { name: 'churn', owner: 'team-ml@example.com' },
  training: {
    image:
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5.1-gpu-py311-cu124-ubuntu22.04-sagemaker',
    instanceType: 'ml.g5.xlarge',
  },
});

describe('validateManifestShape', () => {
  it('accepts the example manifest and a minimal one', () => {
    expect(validateManifestShape(example())).toEqual({ ok: true, value: example() });
    expect(validateManifestShape(minimal()).ok).toBe(true);
  });

  it('reports each problem with its dotted path, pointer and a fix', () => {
    const m = example();
    m.training.instanceCount = '2';
    m.data = [
      { name: 'train', uri: 's3://ml-data/a.csv' },
      { name: 'x', uri: 's3://ml-data/b' },
      { name: 'y', uri: 'http://nope' },
    ];
    m.deployment.strategy = 'canery';
    m.serving.dataCapture.samplingPercent = 101;
    delete m.model.owner;
    const errors = errorsOf(m);
    const byPath = new Map(errors.map((e) => [e.path, e]));
    expect([...byPath.keys()].sort()).toEqual(
      [
        'data[2].uri',
        'deployment.strategy',
        'model.owner',
        'serving.dataCapture.samplingPercent',
        'training.instanceCount',
      ].sort(),
    );
    expect(byPath.get('data[2].uri')).toMatchObject({
      pointer: '/data/2/uri',
      message: expect.stringContaining('"http://nope" is not valid'),
    });
    expect(byPath.get('training.instanceCount')).toMatchObject({
      message: 'training.instanceCount must be a whole number, got the string "2".',
      fix: 'Write 2 without quotes.',
    });
    expect(byPath.get('deployment.strategy')?.message).toContain(
      'allowed values: canary, linear, all-at-once. Did you mean "canary"?',
    );
    expect(byPath.get('model.owner')).toMatchObject({
      pointer: '/model/owner',
      fix: expect.stringContaining('e.g. owner: team-ml@example.com'),
    });
    expect(byPath.get('serving.dataCapture.samplingPercent')?.message).toBe(
      'serving.dataCapture.samplingPercent is 101; it must be at most 100.',
    );
  });

  it('names the nearest valid property for unknown ones, and where misplaced ones belong', () => {
    const m = minimal() as Json;
    m.training.instance_count = 2;
    m.training.maxRuntme = '2h';
    m.tags = { team: 'ml' };
    const errors = errorsOf(m);
    expect(errors.find((e) => e.path === 'training.instance_count')?.message).toContain(
      'did you mean "instanceCount"?',
    );
    expect(errors.find((e) => e.path === 'training.maxRuntme')?.fix).toBe(
      'Rename "maxRuntme" to "maxRuntime".',
    );
    expect(errors.find((e) => e.path === 'tags')?.message).toContain('it belongs in model.tags');
  });

  it('explains durations, parameter names and gate completeness in words', () => {
    const m = minimal() as Json;
    m.training.maxRuntime = '1 hour';
    m.parameters = { 'learning-rate': 0.1, class: 1, ok: { nested: true } };
    m.metrics = [{ name: 'auc', goal: 'maximize' }];
    m.gates = [{ metric: 'auc' }];
    const errors = errorsOf(m);
    const duration = errors.find((e) => e.path === 'training.maxRuntime');
    expect(duration).toMatchObject({
      duration: true,
      message: 'training.maxRuntime "1 hour" is not a duration; did you mean "1h"?',
      fix: 'Write 1h.',
    });
    expect(errors.find((e) => e.path === 'parameters["learning-rate"]')?.message).toContain(
      'Python identifiers',
    );
    expect(errors.find((e) => e.path === 'parameters.class')?.message).toContain('not a keyword');
    expect(errors.find((e) => e.path === 'parameters.ok')?.message).toContain(
      'must be a string, a number, true or false or null',
    );
    expect(errors.find((e) => e.path === 'gates[0]')?.message).toContain(
      'at least one of min, max or noWorseThanChampionBy',
    );
    // one problem per mistake: no "must match exactly one schema in oneOf" noise
    expect(errors.filter((e) => e.path === 'training.maxRuntime')).toHaveLength(1);
  });

  it.each([
    ['a string', 'apiVersion: nbops/v1', 'not as a string holding one'],
    ['a list', [1, 2], 'got a list (2 items)'],
    ['null', null, 'got null'],
    ['a number', 3, 'got the number 3'],
  ])('rejects %s as the manifest without throwing', (_, raw, text) => {
    const errors = errorsOf(raw);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('');
    expect(`${errors[0]!.message} ${errors[0]!.fix}`).toContain(text);
  });

  it('survives wrong types everywhere, deep junk and a 10 MB string', () => {
    const junk: Record<string, unknown> = {};
    let node = junk;
    for (let i = 0; i < 2000; i++) node = node.deeper = {} as Record<string, unknown>;
    const wrong = {
      apiVersion: 1,
      model: [],
      parameters: 'x',
      data: {},
      training: 'gpu',
      metrics: 'auc',
      gates: [1, null, 'x'],
      serving: { image: 'x'.repeat(10_000_000), instanceType: 7, features: junk },
      deployment: null,
      slo: { latency: [] },
      drift: true,
      runbook: {},
      extra: junk,
    };
    const started = Date.now();
    const errors = errorsOf(wrong);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(errors.length).toBeGreaterThan(10);
    for (const e of errors) {
      expect(e.message.length).toBeLessThan(600);
      expect(e.fix.length).toBeGreaterThan(0);
    }
  });

  it('caps the number of problems and says how many more there are', () => {
    const m = minimal() as Json;
    for (let i = 0; i < 500; i++) m[`unknown${i}`] = i;
    const errors = errorsOf(m);
    expect(errors).toHaveLength(101);
    expect(errors.at(-1)?.message).toBe('400 more problems in the manifest are not listed.');
  });
});

/** Every (dotted path, default) pair the schema declares, for properties of objects. */
function schemaDefaults(schema: Json, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [name, sub] of Object.entries<Json>(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if ('default' in sub) out.push([path, sub.default]);
    if (sub.properties) out.push(...schemaDefaults(sub, path));
  }
  return out;
}

const get = (value: unknown, path: string) =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);

describe('applyManifestDefaults', () => {
  it('fills every default the schema declares, and only from the schema', () => {
    const m = {
      ...minimal(),
      serving: { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1', instanceType: 'ml.m5.large' },
      drift: {},
    };
    const resolved = applyManifestDefaults(m as never);
    const defaults = schemaDefaults(manifestSchema);
    expect(defaults.length).toBeGreaterThan(25);
    for (const [path, value] of defaults) {
      const actual = get(resolved, path);
      if (value !== null && typeof value === 'object') expect(actual, path).toMatchObject(value as object);
      else expect(actual, path).toBe(value);
    }
    expect(resolved.serving?.accept).toBe('text/csv');
    expect(resolved.training.spot.maxWait).toBeUndefined();
  });

  it('keeps what the manifest says, leaves optional sections absent and does not mutate its input', () => {
    const m = minimal() as Json;
    m.training.maxRuntime = '3h';
    m.training.spot = { enabled: true };
    const before = structuredClone(m);
    const resolved = applyManifestDefaults(m as never);
    expect(m).toEqual(before);
    expect(resolved.training.maxRuntime).toBe('3h');
    expect(resolved.training.spot.maxWait).toBe(6 * 3600); // twice maxRuntime
    expect(resolved.serving).toBeUndefined();
    expect(resolved.drift).toBeUndefined();
    expect(resolved.slo).toBeUndefined();
    expect(resolved.deployment).toEqual({
      approval: 'manual',
      strategy: 'canary',
      canaryPercent: 10,
      linearStepPercent: 20,
      bakeTime: '10m',
      rollbackWindow: '1h',
    });
  });
});
