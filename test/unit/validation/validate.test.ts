import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_FINDINGS_PER_RULE, RULES, validateNotebook } from '#core/validation/validate';
import { renderRulesDoc, rulesDocPath } from '../../../scripts/generate-rules-docs.ts';

const example = readFileSync(new URL('../../../examples/churn/churn.ipynb', import.meta.url), 'utf8');
const exampleNb = () => JSON.parse(example);
const run = (nb: unknown, policy = {}) =>
  validateNotebook({ content: typeof nb === 'string' ? nb : JSON.stringify(nb), path: 'x.ipynb', policy });
const rules = (r: ReturnType<typeof run>) => r.findings.map((f) => f.rule);
/** Index of the first code cell after the parameters cell. */
const codeCell = (nb: { cells: { cell_type: string; metadata: { tags?: string[] } }[] }) =>
  nb.cells.findIndex((c) => c.cell_type === 'code' && !c.metadata.tags?.includes('parameters'));

describe('validateNotebook', () => {
  it('accepts the example notebook with no findings', () => {
    const result = run(exampleNb());
    expect(result).toMatchObject({
      valid: true,
      summary: { errors: 0, warnings: 0, infos: 0 },
      findings: [],
    });
    expect(result.manifest?.value?.model.name).toBe('churn');
  });

  it('reports a missing parameters cell once (EX-001), not again as MAN-003', () => {
    const nb = exampleNb();
    for (const cell of nb.cells) if (cell.metadata.tags) cell.metadata.tags = [];
    const result = run(nb);
    expect(rules(result).filter((r) => r === 'EX-001')).toHaveLength(1);
    expect(rules(result)).not.toContain('MAN-003');
  });

  it('turns rules off and re-grades them from the policy', () => {
    const nb = exampleNb();
    const i = codeCell(nb);
    nb.cells[i].outputs = [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }];
    nb.cells[i].execution_count = 1;
    expect(run(nb).findings.find((f) => f.rule === 'HY-001')?.severity).toBe('warning');
    expect(run(nb, { rules: { 'HY-001': 'error' } })).toMatchObject({ valid: false, summary: { errors: 1 } });
    expect(rules(run(nb, { rules: { 'HY-001': 'off', 'HY-002': 'off' } }))).toEqual([]);
  });

  it('caps each rule’s list but counts every finding in the summary', () => {
    const nb = exampleNb();
    const cells = Array.from({ length: MAX_FINDINGS_PER_RULE + 50 }, (_, i) => ({
      id: `c${i}`,
      cell_type: 'code',
      metadata: {},
      source: 'x = (\n',
      outputs: [],
      execution_count: null,
    }));
    nb.cells.push(...cells);
    const result = run(nb);
    const syntax = result.findings.filter((f) => f.rule === 'EX-003');
    expect(syntax).toHaveLength(MAX_FINDINGS_PER_RULE + 1);
    expect(syntax.find((f) => f.location.pointer === '')!.message).toBe(
      `50 more EX-003 findings not listed (${MAX_FINDINGS_PER_RULE + 50} in total).`,
    );
    expect(result.summary.errors).toBe(MAX_FINDINGS_PER_RULE + 50);
  });

  it('redacts a secret quoted by any rule, not only by the secrets rules', () => {
    const nb = exampleNb();
    const key = ['AKIA', 'Q3EGLP5ZNW7XJ2KM'].join('');
    // EX-003 quotes this line as its snippet; the key must not appear in it.
    nb.cells[codeCell(nb)].source = `key = "${key}" if (\n`;
    const result = run(nb);
    expect(rules(result)).toEqual(expect.arrayContaining(['EX-003', 'SEC-001']));
    expect(JSON.stringify(result.findings)).not.toContain(key);
  });

  it.each([
    ['an empty file', ''],
    ['truncated JSON', example.slice(0, 500)],
    ['an array', '[1, 2, 3]'],
    ['a string', '"notebook"'],
    ['nbformat 3', JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] })],
    ['duplicate keys', example.replace('"nbformat": 4,', '"nbformat": 4, "nbformat": 4,')],
    ['deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    [
      'wrong types everywhere',
      JSON.stringify({ nbformat: '4', nbformat_minor: -1, metadata: [], cells: {} }),
    ],
    [
      'cells of junk',
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { nbops: 7 }, cells: [null, 1, 'x', []] }),
    ],
  ])('turns %s into error findings, never a throw', (_, text) => {
    const result = run(text);
    expect(result.valid).toBe(false);
    expect(result.summary.errors).toBeGreaterThan(0);
    for (const f of result.findings) expect(f.fix).toBeTruthy();
  });

  it('reports bytes that are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"cells": ["caf'), Buffer.from([0xe9]), Buffer.from('"]}')]);
    const result = validateNotebook({ content: bytes, path: 'latin1.ipynb' });
    expect(rules(result)).toEqual(['NB-009']);
  });

  it('has a catalogue entry, with title and rationale, for every rule id it can report', () => {
    for (const spec of RULES.values()) {
      expect(spec.id).toMatch(/^(NB|MAN|POL|EX|HY|REP|SEC|SUB)-\d{3}$/);
      expect(spec.title.length).toBeGreaterThan(5);
      expect(spec.rationale.length).toBeGreaterThan(20);
    }
  });

  it('docs/rules.md is generated from the current catalogue (npm run gen:docs)', () => {
    expect(readFileSync(rulesDocPath, 'utf8')).toBe(renderRulesDoc());
  });
});
