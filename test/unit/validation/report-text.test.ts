// The text report people read: where a finding is, said once.
import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/validation/finding';
import { toText } from '#core/validation/report';
import { resultFromFindings } from '#core/validation/validate';

const finding = (message: string, line: number): Finding => ({
  rule: 'NB-001',
  severity: 'error',
  message,
  location: { pointer: '', line },
  fix: 'Fix it.',
});

const findingLine = (f: Finding) =>
  toText([resultFromFindings('nb.ipynb', [f])], { color: false })
    .split('\n')
    .find((l) => l.includes('NB-001'))!;

describe('text report', () => {
  it('adds the line to a message that does not name it, and only then', () => {
    expect(findingLine(finding('cells must be an array.', 7))).toMatch(
      /cells must be an array\. \(line 7\)$/,
    );
    expect(findingLine(finding('not valid JSON at line 7, column 3.', 7))).toMatch(/column 3\.$/);
    // "line 17" does not name line 7.
    expect(findingLine(finding('see line 17.', 7))).toMatch(/see line 17\. \(line 7\)$/);
  });

  it('marks the summary failed when a file could not be read', () => {
    const ok = resultFromFindings('nb.ipynb', []);
    expect(toText([ok], { color: false }).trimEnd().split('\n').at(-1)).toBe(
      '✔ 0 errors, 0 warnings, 0 info in 1 file',
    );
    expect(toText([], { color: false, unreadable: 2 }).trimEnd()).toBe(
      '✖ 0 errors, 0 warnings, 0 info in 0 files; 2 files could not be read',
    );
  });
});
