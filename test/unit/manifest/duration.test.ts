import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '#core/manifest/duration';

describe('parseDuration', () => {
  it.each([
    [90, 90],
    [0, 0],
    ['90s', 90],
    ['30m', 1800],
    ['2h', 7200],
    ['1d', 86_400],
    ['1h30m', 5400],
    ['1d2h3m4s', 93_784],
    ['0s', 0],
  ])('%j is %i seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each(['', '1 hour', '1h1h', '30m1h', 'h', '1.5h', '-1s', '1H', '1w'])(
    'rejects %j naming the accepted forms',
    (bad) => {
      expect(() => parseDuration(bad)).toThrow(
        /is not a duration: use whole seconds or a string such as 90s/,
      );
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the number %d', (bad) => {
    expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });

  it('rejects values of the wrong type and absurd lengths with a clear Error', () => {
    expect(() => parseDuration(null as unknown as string)).toThrow(/null is not a duration/);
    expect(() => parseDuration({} as unknown as string)).toThrow(/object is not a duration/);
    expect(() => parseDuration(`${'9'.repeat(30)}d`)).toThrow(/too long a duration/);
    expect(() => parseDuration('1'.repeat(10_000_000))).toThrow(/not a duration/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [90, '1m30s'],
    [3600, '1h'],
    [5400, '1h30m'],
    [86_400, '1d'],
    [93_784, '1d2h3m4s'],
  ])('%i s is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (s) => parseDuration(formatDuration(s)) === s),
    );
  });

  it('refuses negative and fractional seconds', () => {
    expect(() => formatDuration(-1)).toThrow(/whole seconds/);
    expect(() => formatDuration(1.5)).toThrow(/whole seconds/);
  });
});
