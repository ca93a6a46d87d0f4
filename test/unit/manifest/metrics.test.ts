import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesShape } from '#core/aws/api-model';
import { metricDefinitions, metricLine, metricRegex, parseMetricLine } from '#core/manifest/metrics';

const names = fc.stringMatching(/^[A-Za-z0-9_.:/-]{1,200}$/);
const values = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 1e-7, 1e21),
);

function captured(name: string, line: string): string | undefined {
  return new RegExp(metricRegex(name)).exec(line)?.[1];
}

describe('metric lines and MetricDefinitions regexes', () => {
  it('prints one line per value in the documented format', () => {
    expect(metricLine('validation:auc', 0.8734)).toBe('[nbops] metric validation:auc=0.8734');
    expect(metricLine('x', Number.NaN)).toBe('[nbops] metric x=nan');
    expect(metricLine('x', Number.POSITIVE_INFINITY)).toBe('[nbops] metric x=inf');
    expect(metricLine('x', Number.NEGATIVE_INFINITY)).toBe('[nbops] metric x=-inf');
  });

  it('regex captures exactly the printed value, for any name and value', () => {
    fc.assert(
      fc.property(names, values, (name, value) => {
        const text = captured(name, metricLine(name, value));
        expect(text).toBeDefined();
        const back =
          text === 'nan'
            ? Number.NaN
            : text === 'inf'
              ? Infinity
              : text === '-inf'
                ? -Infinity
                : Number(text);
        expect(Object.is(back, value) || (back === 0 && value === 0)).toBe(true);
        expect(parseMetricLine(metricLine(name, value))?.name).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  it('matches what the Python runtime prints (repr of floats)', () => {
    for (const value of ['0.8734', '-0.001', '1e-07', '1.5e+20', '100.0', '-0.0', 'nan', 'inf', '-inf'])
      expect(captured('validation:auc', `[nbops] metric validation:auc=${value}`)).toBe(value);
  });

  it('does not match lines of other metrics or other output', () => {
    const regex = new RegExp(metricRegex('validation:auc'));
    expect(regex.test('[nbops] metric validation:auc_macro=0.5')).toBe(false);
    expect(regex.test('[nbops] metric train:validation:auc=0.5')).toBe(false);
    expect(new RegExp(metricRegex('a.b')).test('[nbops] metric aXb=0.5')).toBe(false);
    expect(regex.test('validation:auc=0.5')).toBe(false);
    expect(regex.test('[nbops] metric validation:auc=high')).toBe(false);
  });

  it('fits the API model for names up to the schema maximum', () => {
    fc.assert(
      fc.property(names, (name) => {
        const [definition] = metricDefinitions([name]);
        expect(matchesShape('sagemaker', 'MetricRegex', definition!.Regex)).toBe(true);
        expect(matchesShape('sagemaker', 'MetricName', definition!.Name)).toBe(true);
      }),
    );
    expect(metricRegex('.'.repeat(200)).length).toBeLessThanOrEqual(500);
  });

  it('parseMetricLine ignores other lines', () => {
    expect(parseMetricLine('epoch 3 loss=0.2')).toBeUndefined();
    expect(parseMetricLine('[nbops] metric a=0.5')).toEqual({ name: 'a', value: 0.5 });
  });
});
