import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  itemSize,
  marshall,
  marshallItem,
  unmarshall,
  unmarshallItem,
} from '#adapters/dynamodb/attribute-values';

// JSON values with numbers inside DynamoDB's range (magnitudes 1e-130 to 1e126, or zero).
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme' }),
    fc.boolean(),
    fc.constant(null),
    fc.integer(),
    fc.double({ min: -1e120, max: 1e120, noNaN: true }).filter((x) => x === 0 || Math.abs(x) > 1e-120),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('json'), { maxKeys: 4 }),
  ),
}));

describe('DynamoDB attribute values', () => {
  it('round-trip any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => {
        // Compared through JSON, which (like DynamoDB) has no negative zero.
        expect(unmarshall(marshall(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('drop undefined members like JSON does, and store string sets', () => {
    const item = marshallItem({ a: 1, gone: undefined, tags: new Set(['x', 'y']) });
    expect(item).toEqual({ a: { N: '1' }, tags: { SS: ['x', 'y'] } });
    expect(unmarshallItem(item)).toEqual({ a: 1, tags: ['x', 'y'] });
  });

  it('refuse values DynamoDB cannot store, naming where they are', () => {
    expect(() => marshallItem({ metrics: { auc: Number.NaN } })).toThrow('item.metrics.auc is NaN');
    expect(() => marshall(new Set())).toThrow('non-empty set of strings');
    expect(() => marshallItem({ loss: 1e-200 })).toThrow(
      "item.loss is 1e-200, outside DynamoDB's number range",
    );
    expect(() => marshall(() => 1)).toThrow('type function');
  });

  it('size items about as DynamoDB counts them', () => {
    expect(itemSize({ pk: { S: 'MODEL#churn' } })).toBe(2 + 11);
    expect(itemSize(marshallItem({ text: 'é' }))).toBe(4 + 2);
    const big = marshallItem({ blob: 'x'.repeat(400_000) });
    expect(itemSize(big)).toBeGreaterThan(400_000);
  });
});
