import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordReader, parseCsv } from '#core/drift/csv';
import { chiSquareHomogeneity } from '#core/drift/stats';
import { INVALID, parseNumber, readFeatureList, toCategory, toNumber } from '#core/drift/values';

describe('numbers as the runtime reads them', () => {
  it('decimal text is a number; NaN/inf words and blanks are missing; anything else is invalid', () => {
    const cases: [string, number | 'missing' | 'invalid'][] = [
      ['12', 12],
      ['-0.5', -0.5],
      ['+.5', 0.5],
      ['1.', 1],
      ['1e-3', 0.001],
      [' 7 ', 7],
      ['007', 7],
      ['', 'missing'],
      ['   ', 'missing'],
      ['NaN', 'missing'],
      ['-inf', 'missing'],
      ['Infinity', 'missing'],
      ['1e400', 'missing'],
      ['0x10', 'invalid'],
      ['0b1', 'invalid'],
      ['1,5', 'invalid'],
      ['-', 'invalid'],
      ['abc', 'invalid'],
      ['1.2.3', 'invalid'],
    ];
    for (const [text, expected] of cases) {
      const value = parseNumber(text);
      const got = value === INVALID ? 'invalid' : Number.isNaN(value) ? 'missing' : value;
      expect(got, JSON.stringify(text)).toBe(expected);
    }
    expect(toNumber(true)).toBe(1);
    expect(toNumber(null)).toBeNaN();
    expect(toNumber({})).toBe(INVALID);
  });

  it('any finite double printed by JavaScript reads back as itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(parseNumber(String(x))).toBe(x === 0 ? 0 : x);
      }),
    );
  });

  it('categories: trimmed text, booleans as true/false, blanks missing', () => {
    expect([toCategory(' pro '), toCategory(true), toCategory(3), toCategory(''), toCategory(null)]).toEqual([
      'pro',
      'true',
      '3',
      undefined,
      undefined,
    ]);
  });

  it('feature lists: a list, {features}, or a manifest with serving.features', () => {
    const list = [{ name: 'a', type: 'numeric' }];
    expect(readFeatureList(list)).toEqual(list);
    expect(readFeatureList({ features: list })).toEqual(list);
    expect(readFeatureList({ serving: { features: list } })).toEqual(list);
    expect(() => readFeatureList([...list, ...list], 'f.yaml')).toThrow(
      'f.yaml: feature "a" is listed twice; list each feature once',
    );
  });
});

describe('CSV', () => {
  it('quotes, escaped quotes, commas and line breaks inside quotes, CRLF, blank lines', () => {
    expect(parseCsv('a,"b, c","say ""hi"""\r\n\r\n1,"two\nlines",3\n')).toEqual([
      ['a', 'b, c', 'say "hi"'],
      ['1', 'two\nlines', '3'],
    ]);
    expect(parseCsv('x,,y\n,\n')).toEqual([
      ['x', '', 'y'],
      ['', ''],
    ]);
  });

  it('streaming: the same records whatever the chunk boundaries', () => {
    const row = fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', 'é', ' ') }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 9 }),
        (rows, size) => {
          const text = rows.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n');
          const reader = new CsvRecordReader();
          const out: string[][] = [];
          for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size), out);
          reader.end(out);
          expect(out).toEqual(rows);
        },
      ),
    );
  });
});

describe('chi-square merging of sparse categories', () => {
  it('merges the rarest category into the next rarest until at most 20% (rounded down) are sparse', () => {
    const result = chiSquareHomogeneity([
      { key: 'a', reference: 400, current: 100 },
      { key: 'b', reference: 400, current: 100 },
      { key: 'c', reference: 3, current: 1 },
      { key: 'd', reference: 2, current: 0 },
      { key: 'e', reference: 0, current: 2 },
    ]);
    // d (2) into e (2), then c (4) into e+d (4), then that (8) into a (500, before b by name).
    expect(result.groups).toEqual([['a', 'e', 'd', 'c'], ['b']]);
    expect(result.degreesOfFreedom).toBe(1);
    const kept = chiSquareHomogeneity([
      { key: 'a', reference: 400, current: 100 },
      { key: 'b', reference: 400, current: 100 },
      { key: 'c', reference: 300, current: 90 },
      { key: 'd', reference: 300, current: 90 },
      { key: 'e', reference: 2, current: 1 },
    ]);
    expect(kept.groups).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]); // one sparse of five is allowed
  });

  it('never merges below two categories, so two disjoint ones are still tested', () => {
    const result = chiSquareHomogeneity([
      { key: 'a', reference: 100, current: 0 },
      { key: 'b', reference: 0, current: 3 },
    ]);
    expect(result.groups).toEqual([['a'], ['b']]);
    expect(result.pValue).toBeLessThan(1e-20);
  });
});
