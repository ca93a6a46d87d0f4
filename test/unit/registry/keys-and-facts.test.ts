import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTableInput } from '#adapters/dynamodb/table';
import { canonicalJson, factHash, presentFacts, stableId } from '#core/registry/facts';
import { keys, padVersion, REGISTRY_TABLE, versionFromSortKey } from '#core/registry/table';

describe('registry keys', () => {
  it('zero-pad versions so sort keys order numerically', () => {
    expect(keys.version(3)).toBe('VERSION#000003');
    expect(keys.approval(12, '2025-01-01T00:00:00.000Z')).toBe('APPROVAL#000012#2025-01-01T00:00:00.000Z');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: 1, max: 999_999 }), (a, b) => {
        expect(keys.version(a) < keys.version(b)).toBe(a < b);
        expect(versionFromSortKey(keys.version(a))).toBe(a);
      }),
    );
  });

  it('refuse versions that do not fit six digits', () => {
    for (const bad of [0, -1, 1.5, 1_000_000, Number.NaN]) expect(() => padVersion(bad)).toThrow(RangeError);
  });

  it('keep status-index sort keys in time order', () => {
    expect(keys.statusSort('2025-01-01T00:00:00.000Z', 'churn', 2)).toBe(
      '2025-01-01T00:00:00.000Z#churn#000002',
    );
    expect(keys.statusSort('2025-01-01T00:00:00.000Z', 'zeta', 9) < '2025-01-01T00:00:00.001Z').toBe(true);
  });
});

describe('the table definition', () => {
  it('becomes a CreateTable request with every key attribute defined once', () => {
    const input = createTableInput('registry');
    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.AttributeDefinitions?.map((a) => a.AttributeName)).toEqual([
      'pk',
      'sk',
      'gsi1pk',
      'gsi1sk',
      'gsi2pk',
      'gsi2sk',
    ]);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(
      REGISTRY_TABLE.globalSecondaryIndexes.map((index) => index.indexName),
    );
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('fact hashing', () => {
  it('ignores key order and undefined members, but not array order or values', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).toBe('{"a":{"d":[2,1]},"b":1}');
    expect(factHash({ uri: 's3://x', sha256: 'a' })).toBe(factHash({ sha256: 'a', uri: 's3://x' }));
    expect(factHash([1, 2])).not.toBe(factHash([2, 1]));
    expect(factHash({ auc: 0.9 })).not.toBe(factHash({ auc: 0.91 }));
    expect(factHash(JSON.parse('{"__proto__": {"x": 1}}'))).not.toBe(factHash({}));
  });

  it('lists only the facts that are set', () => {
    expect(presentFacts({ metrics: { auc: 1 }, manifestHash: 'h', artifact: undefined })).toEqual([
      ['manifestHash', 'h'],
      ['metrics', { auc: 1 }],
    ]);
  });

  it('derives short stable ids that differ with any part', () => {
    expect(stableId('transition', 1, 'evt', 'VALIDATED')).toBe(stableId('transition', 1, 'evt', 'VALIDATED'));
    expect(stableId('transition', 1, 'evt', 'VALIDATED')).not.toBe(
      stableId('transition', 1, 'evt', 'REJECTED'),
    );
    expect(stableId('a', 'bc')).not.toBe(stableId('ab', 'c'));
    expect(stableId('x')).toMatch(/^[0-9a-f]{16}$/);
  });
});
