import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/validation/finding';
import { parseNotebook } from '#core/validation/parse';
import { structureFamily, structureRules } from '#core/validation/structure';

const SEVERITY = new Map(structureRules.map((r) => [r.id, r.defaultSeverity]));

/** Runs the structure family the way the validator does and returns its findings. */
function check(notebook: unknown): Finding[] {
  const findings: Finding[] = [];
  structureFamily.check({
    notebook,
    text: JSON.stringify(notebook) ?? '',
    policy: {},
    report: (f) => findings.push({ ...f, severity: f.severity ?? SEVERITY.get(f.rule) ?? 'error' }),
  });
  return findings;
}

const errors = (nb: unknown) => check(nb).filter((f) => f.severity === 'error');
const at = (nb: unknown, rule: string) => check(nb).filter((f) => f.rule === rule);

function fixture(name: string): unknown {
  const outcome = parseNotebook(readFileSync(new URL(`../../fixtures/structure/${name}`, import.meta.url)), {
    maxBytes: 1e6,
  });
  if (!outcome.ok) throw new Error(`fixture ${name} does not parse`);
  return outcome.value;
}

const KERNEL = { kernelspec: { name: 'python3', display_name: 'Python 3' } };
const code = (extra: Record<string, unknown> = {}) => ({
  id: 'c1',
  cell_type: 'code',
  metadata: {},
  source: 'x = 1',
  outputs: [],
  execution_count: null,
  ...extra,
});
const markdown = (extra: Record<string, unknown> = {}) => ({
  id: 'm1',
  cell_type: 'markdown',
  metadata: {},
  source: '# title',
  ...extra,
});
const nb = (cells: unknown[], extra: Record<string, unknown> = {}) => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { ...KERNEL },
  cells,
  ...extra,
});
const withOutput = (output: unknown) => nb([code({ outputs: [output] })]);

describe('catalogue', () => {
  it('lists every structure rule once with a title and a rationale', () => {
    const ids = structureRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(['NB-001', 'NB-002', 'NB-003', 'NB-004', 'NB-005', 'NB-006', 'NB-007', 'NB-012']);
    for (const rule of structureRules) {
      expect(rule.family).toBe('structure');
      expect(rule.title.length).toBeGreaterThan(10);
      expect(rule.rationale.length).toBeGreaterThan(40);
    }
    expect(structureFamily.rules).toBe(structureRules);
  });
});

describe('real notebooks', () => {
  it('accepts notebooks written by nbformat 4.5 and 4.4 without any finding', () => {
    expect(check(fixture('valid-4.5.ipynb'))).toEqual([]);
    expect(check(fixture('valid-4.4.ipynb'))).toEqual([]);
  });

  it('reports an nbformat 3 notebook once, with the conversion command, and checks nothing else', () => {
    const findings = check(fixture('nbformat3.ipynb'));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: 'NB-001',
      severity: 'error',
      location: { pointer: '/nbformat' },
    });
    expect(findings[0]!.message).toContain('nbformat 3');
    expect(findings[0]!.fix).toContain('jupyter nbconvert --to notebook --nbformat 4 in.ipynb');
  });

  it('warns about widget metadata without state', () => {
    const findings = check(fixture('widgets-no-state.ipynb'));
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'NB-007',
        severity: 'warning',
        location: { pointer: '/metadata/widgets/application~1vnd.jupyter.widget-state+json' },
      }),
    ]);
  });
});

describe('NB-001 top level', () => {
  it.each([
    [[], 'a JSON array'],
    ['notebook', 'a JSON string'],
    [42, 'a JSON number'],
    [null, 'null'],
  ])('names the kind of top level when it is not an object (%j)', (value, what) => {
    const findings = check(value);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'NB-001', location: { pointer: '' } });
    expect(findings[0]!.message).toContain(what);
  });

  it('names each missing and each extra top-level key', () => {
    const findings = at({ nbformat: 4, nbformat_minor: 5, extra: 1, 'a/b': 2 }, 'NB-001');
    expect(findings.map((f) => f.location.pointer).sort()).toEqual(['', '', '/a~1b', '/extra']);
    expect(findings.map((f) => f.message).join('\n')).toMatch(
      /"metadata"[\s\S]*"cells"|"cells"[\s\S]*"metadata"/,
    );
  });

  it('requires nbformat to be the integer 4 and nbformat_minor a non-negative integer', () => {
    expect(at(nb([], { nbformat: '4' }), 'NB-001')[0]?.location.pointer).toBe('/nbformat');
    expect(at(nb([], { nbformat: 5 }), 'NB-001')[0]?.message).toContain('nbformat 5');
    for (const minor of [-1, '5', 4.5, null]) {
      expect(at(nb([], { nbformat_minor: minor }), 'NB-001').map((f) => f.location.pointer)).toEqual([
        '/nbformat_minor',
      ]);
    }
  });

  it('stops after an old major version instead of reporting its v3 keys', () => {
    const findings = check({ nbformat: 2, nbformat_minor: 0, metadata: {}, worksheets: [] });
    expect(findings.map((f) => f.rule)).toEqual(['NB-001']);
  });

  it('checks a newer minor with relaxed 4.5 rules and says so', () => {
    const notebook = nb(
      [
        code({ extra: 1 }),
        { cell_type: 'future', metadata: {} },
        code({ id: 'c2', outputs: [{ output_type: 'hologram' }] }),
      ],
      {
        nbformat_minor: 7,
        extra: true,
      },
    );
    const findings = check(notebook);
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'NB-001', severity: 'info', location: { pointer: '/nbformat_minor' } }),
    ]);
    expect(findings[0]!.message).toContain('relaxed');
    // Relaxed is not lax: required fields and ids still count.
    expect(
      errors(nb([dropUndefined(code({ id: undefined, source: undefined }))], { nbformat_minor: 6 })).map(
        (f) => f.rule,
      ),
    ).toEqual(['NB-002', 'NB-004']);
    expect(errors(nb([{ cell_type: 'future' }], { nbformat_minor: 6 }))).toEqual([
      expect.objectContaining({ rule: 'NB-004', location: { pointer: '/cells/0', cell: 0 } }),
    ]);
  });

  it('requires metadata to be an object and cells a list', () => {
    expect(errors(nb([], { metadata: [] })).map((f) => f.location.pointer)).toEqual(['/metadata']);
    expect(errors(nb({} as unknown as unknown[])).map((f) => f.location.pointer)).toEqual(['/cells']);
  });
});

describe('NB-002 cell ids by version', () => {
  it('requires an id on every cell from 4.5', () => {
    const findings = at(nb([markdown(), code({ id: undefined })].map(dropUndefined)), 'NB-002');
    expect(findings).toEqual([expect.objectContaining({ location: { pointer: '/cells/1', cell: 1 } })]);
    expect(findings[0]!.message).toContain('no id');
  });

  it('rejects ids below 4.5 and says to set nbformat_minor to 5 or remove them', () => {
    const findings = at(nb([code()], { nbformat_minor: 4 }), 'NB-002');
    expect(findings).toEqual([expect.objectContaining({ location: { pointer: '/cells/0/id', cell: 0 } })]);
    expect(findings[0]!.fix).toMatch(/nbformat_minor to 5.*remove the id/);
  });

  it('accepts cells without ids below 4.5', () => {
    expect(check(nb([dropUndefined(code({ id: undefined }))], { nbformat_minor: 4 }))).toEqual([]);
  });
});

describe('NB-003 id format and uniqueness', () => {
  it.each([
    ['', 'is empty'],
    ['x'.repeat(65), '65 characters'],
    ['has space', '" "'],
    ['abc\n', '"\\n"'],
    [42, 'must be a string'],
  ])('rejects id %j', (id, words) => {
    const findings = at(nb([code({ id })]), 'NB-003');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ location: { pointer: '/cells/0/id', cell: 0 } });
    expect(findings[0]!.message).toContain(words);
  });

  it('accepts 1-64 letters, digits, "-" and "_"', () => {
    for (const id of ['a', 'A-b_9', 'x'.repeat(64), '-', '_']) expect(check(nb([code({ id })]))).toEqual([]);
  });

  it('reports every duplicate with the index of the first occurrence', () => {
    const findings = at(
      nb([code({ id: 'a' }), markdown({ id: 'b' }), code({ id: 'a' }), markdown({ id: 'a' })]),
      'NB-003',
    );
    expect(findings.map((f) => f.location.pointer)).toEqual(['/cells/2/id', '/cells/3/id']);
    expect(findings[1]!.message).toContain('already used by cell 0');
    expect(findings[1]!.fix).toContain('never rewrites');
  });
});

describe('NB-004 cells', () => {
  it('names the missing field and suggests its empty value', () => {
    const findings = errors(nb([dropUndefined(code({ outputs: undefined }))]));
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'NB-004', location: { pointer: '/cells/0', cell: 0 } }),
    ]);
    expect(findings[0]!.message).toContain('"outputs"');
    expect(findings[0]!.fix).toContain('"outputs": []');
  });

  it('gives one finding per problem, not one per schema branch', () => {
    const findings = errors(nb([markdown({ outputs: [] })]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'NB-004', location: { pointer: '/cells/0/outputs' } });
    expect(findings[0]!.message).toContain('only code cells');
  });

  it('rejects attachments on code cells and unknown keys with nbformat 3 hints', () => {
    expect(errors(nb([code({ attachments: {} })]))[0]?.message).toContain('only markdown and raw');
    expect(errors(nb([code({ prompt_number: 1 })]))[0]?.message).toContain('execution_count');
  });

  it('names an unknown or missing cell_type', () => {
    const unknown = errors(nb([markdown({ cell_type: 'heading' })]));
    expect(unknown).toEqual([
      expect.objectContaining({ location: { pointer: '/cells/0/cell_type', cell: 0 } }),
    ]);
    expect(unknown[0]!.message).toContain('"heading"');
    expect(errors(nb([dropUndefined(markdown({ cell_type: undefined }))]))[0]?.location.pointer).toBe(
      '/cells/0',
    );
  });

  it('accepts source as a string or a list of strings, and points at a bad line', () => {
    expect(check(nb([code({ source: ['a\n', 'b'] }), markdown({ source: [] })]))).toEqual([]);
    expect(errors(nb([code({ source: ['a\n', 3] })]))[0]?.location.pointer).toBe('/cells/0/source/1');
    expect(errors(nb([code({ source: 3 })]))[0]?.location.pointer).toBe('/cells/0/source');
  });

  it('requires execution_count to be a non-negative integer or null', () => {
    expect(check(nb([code({ execution_count: 0 })]))).toEqual([]);
    for (const bad of [-1, 1.5, '1', true]) {
      expect(errors(nb([code({ execution_count: bad })]))[0]?.location.pointer).toBe(
        '/cells/0/execution_count',
      );
    }
  });

  it('types known cell metadata per cell type and version', () => {
    const meta = (m: unknown, cell: (e: Record<string, unknown>) => unknown = code, minor = 5) =>
      errors(nb([cell({ metadata: m })], { nbformat_minor: minor }));
    expect(meta('x')[0]?.location.pointer).toBe('/cells/0/metadata');
    expect(meta({ collapsed: 'yes' })[0]?.location.pointer).toBe('/cells/0/metadata/collapsed');
    expect(meta({ scrolled: 'auto', collapsed: true })).toEqual([]);
    expect(meta({ scrolled: 'always' })[0]?.location.pointer).toBe('/cells/0/metadata/scrolled');
    expect(meta({ name: '' })[0]?.location.pointer).toBe('/cells/0/metadata/name');
    expect(meta({ name: 'a\nb' })[0]?.location.pointer).toBe('/cells/0/metadata/name');
    expect(meta({ jupyter: true })[0]?.location.pointer).toBe('/cells/0/metadata/jupyter');
    expect(meta({ execution: { 'iopub.status.busy': 1 } })[0]?.location.pointer).toBe(
      '/cells/0/metadata/execution/iopub.status.busy',
    );
    expect(meta({ format: 1 }, (e) => ({ ...markdown(e), cell_type: 'raw' }))[0]?.location.pointer).toBe(
      '/cells/0/metadata/format',
    );
    // Before 4.3 jupyter is untyped, before 4.4 execution is; collapsed is a code-cell key only.
    const noIds = (e: Record<string, unknown>) => dropUndefined(code({ ...e, id: undefined }));
    expect(meta({ jupyter: true, execution: 5 }, noIds, 2)).toEqual([]);
    expect(meta({ collapsed: 'x', anything: [1] }, markdown)).toEqual([]);
  });
});

describe('NB-004 outputs', () => {
  it('dispatches on output_type and names the missing field', () => {
    const findings = errors(withOutput({ output_type: 'stream', name: 'stdout' }));
    expect(findings).toEqual([
      expect.objectContaining({ location: { pointer: '/cells/0/outputs/0', cell: 0 } }),
    ]);
    expect(findings[0]!.message).toContain('"text"');
  });

  it('names an unknown output_type (with nbformat 3 hints)', () => {
    const findings = errors(withOutput({ output_type: 'pyout', data: {}, metadata: {} }));
    expect(findings).toEqual([
      expect.objectContaining({ location: { pointer: '/cells/0/outputs/0/output_type', cell: 0 } }),
    ]);
    expect(findings[0]!.message).toContain('execute_result');
  });

  it('accepts every output type in valid form', () => {
    const outputs = [
      { output_type: 'stream', name: 'stderr', text: ['a\n', 'b'] },
      {
        output_type: 'display_data',
        data: { 'text/plain': 'x', 'application/vnd.x+json': { a: [1] } },
        metadata: {},
      },
      {
        output_type: 'execute_result',
        data: { 'application/json': 3 },
        metadata: { isolated: true },
        execution_count: null,
      },
      { output_type: 'error', ename: 'E', evalue: '', traceback: [] },
    ];
    expect(check(nb([code({ outputs })]))).toEqual([]);
  });

  it('checks field types with precise pointers', () => {
    const p = (o: unknown) => errors(withOutput(o)).map((f) => f.location.pointer);
    expect(p({ output_type: 'error', ename: 1, evalue: 'v', traceback: ['a', 2] })).toEqual([
      '/cells/0/outputs/0/ename',
      '/cells/0/outputs/0/traceback/1',
    ]);
    expect(
      p({ output_type: 'display_data', data: { 'text/plain': 3, 'application/json': 3 }, metadata: [] }),
    ).toEqual(['/cells/0/outputs/0/data/text~1plain', '/cells/0/outputs/0/metadata']);
    expect(p({ output_type: 'execute_result', data: {}, metadata: {}, execution_count: -2 })).toEqual([
      '/cells/0/outputs/0/execution_count',
    ]);
    expect(p({ output_type: 'stream', name: 'stdout', text: 'x', execution_count: 1 })).toEqual([
      '/cells/0/outputs/0/execution_count',
    ]);
    expect(p('not an output')).toEqual(['/cells/0/outputs/0']);
  });

  it('checks attachments as mime bundles', () => {
    const cell = markdown({ attachments: { 'a.png': { 'image/png': 'iVBO' } } });
    expect(check(nb([cell]))).toEqual([]);
    const bad = markdown({ attachments: { 'a.png': { 'image/png': 1 }, 'b.png': 'x' } });
    expect(errors(nb([bad])).map((f) => f.location.pointer)).toEqual([
      '/cells/0/attachments/a.png/image~1png',
      '/cells/0/attachments/b.png',
    ]);
  });
});

describe('NB-005 tags', () => {
  it.each([
    [['a', 'a'], '/cells/0/metadata/tags/1', 'repeats'],
    [['a,b'], '/cells/0/metadata/tags/0', 'comma'],
    [[''], '/cells/0/metadata/tags/0', 'empty'],
    [[1], '/cells/0/metadata/tags/0', 'not a string'],
    ['parameters', '/cells/0/metadata/tags', 'list of strings'],
  ])('rejects tags %j', (tags, pointer, words) => {
    const findings = at(nb([code({ metadata: { tags } })]), 'NB-005');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', location: { pointer, cell: 0 } });
    expect(findings[0]!.message).toContain(words);
  });

  it('accepts unique tags without commas', () => {
    expect(check(nb([code({ metadata: { tags: ['parameters', 'a b', 'x\ny'] } })]))).toEqual([]);
  });
});

describe('NB-006 kernel metadata', () => {
  it('warns when kernelspec is missing', () => {
    const findings = check(nb([], { metadata: {} }));
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'NB-006', severity: 'warning', location: { pointer: '/metadata' } }),
    ]);
    expect(findings[0]!.fix).toContain('"kernelspec"');
  });

  it('requires kernelspec name and display_name, language_info name', () => {
    const findings = at(
      nb([], { metadata: { kernelspec: { name: 'python3' }, language_info: { version: '3' } } }),
      'NB-006',
    );
    expect(findings.map((f) => [f.severity, f.location.pointer])).toEqual([
      ['error', '/metadata/kernelspec'],
      ['error', '/metadata/language_info'],
    ]);
    expect(findings[0]!.message).toContain('display_name');
    expect(
      at(nb([], { metadata: { kernelspec: { name: 1, display_name: 'P' } } }), 'NB-006')[0]?.location.pointer,
    ).toBe('/metadata/kernelspec/name');
  });

  it('accepts complete kernel metadata', () => {
    expect(
      check(
        nb([], {
          metadata: { ...KERNEL, language_info: { name: 'python', codemirror_mode: { name: 'ipython' } } },
        }),
      ),
    ).toEqual([]);
  });

  it('types the other known notebook metadata', () => {
    const p = (metadata: unknown, minor = 5) =>
      errors({
        nbformat: 4,
        nbformat_minor: minor,
        metadata: { ...KERNEL, ...(metadata as object) },
        cells: [],
      }).map((f) => f.location.pointer);
    expect(
      p({
        orig_nbformat: 0,
        title: 1,
        authors: {},
        language_info: { name: 'py', mimetype: 1, codemirror_mode: [] },
      }),
    ).toEqual([
      '/metadata/language_info/mimetype',
      '/metadata/language_info/codemirror_mode',
      '/metadata/orig_nbformat',
      '/metadata/title',
      '/metadata/authors',
    ]);
    expect(p({ orig_nbformat: 0, title: 1 }, 0)).toEqual([]); // 4.0 allows 0 and has no title
  });
});

describe('NB-007 widgets', () => {
  it('warns for each widget entry without state, accepts those with state', () => {
    const meta = (widgets: unknown) => check(nb([], { metadata: { ...KERNEL, widgets } }));
    expect(meta({ 'application/vnd.jupyter.widget-state+json': { state: {} } })).toEqual([]);
    expect(meta({ a: {}, b: { state: {} } }).map((f) => [f.rule, f.severity, f.location.pointer])).toEqual([
      ['NB-007', 'warning', '/metadata/widgets/a'],
    ]);
    expect(meta('x')[0]?.location.pointer).toBe('/metadata/widgets');
  });
});

describe('NB-012 stream names', () => {
  it('warns about streams other than stdout and stderr', () => {
    const findings = check(withOutput({ output_type: 'stream', name: 'stdlog', text: '' }));
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'NB-012',
        severity: 'warning',
        location: { pointer: '/cells/0/outputs/0/name', cell: 0 },
      }),
    ]);
  });
});

describe('bad input, from bytes to findings', () => {
  /** Parser, then (if it parsed) the structure family: what the validator runs first. */
  function read(input: Uint8Array | string): Finding[] {
    const outcome = parseNotebook(input, { maxBytes: 50 * 1024 * 1024 });
    return outcome.ok ? [...outcome.findings, ...check(outcome.value)] : outcome.findings;
  }
  const raw = (name: string) => readFileSync(new URL(`../../fixtures/structure/${name}`, import.meta.url));

  it.each([
    ['truncated JSON', raw('truncated.ipynb'), 'NB-001'],
    ['Latin-1 bytes', raw('latin1.ipynb'), 'NB-009'],
    ['a notebook that is an array', '[{"nbformat": 4}]', 'NB-001'],
    ['nbformat 3', raw('nbformat3.ipynb'), 'NB-001'],
    ['duplicate keys', raw('duplicate-keys.ipynb'), 'NB-008'],
    ['a merge conflict', raw('merge-conflict.ipynb'), 'NB-001'],
    ['100,000-deep nesting', `{"cells": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'NB-011'],
    ['an empty file', '', 'NB-001'],
    [
      'wrong types everywhere',
      '{"nbformat": "4", "nbformat_minor": [], "metadata": 1, "cells": {}}',
      'NB-001',
    ],
  ])('%s gives an error finding, never a throw', (_name, input, rule) => {
    const findings = read(input);
    expect(findings.some((f) => f.rule === rule && f.severity === 'error')).toBe(true);
    for (const f of findings) {
      expect(f.message).not.toMatch(/\bat .*\(.*:\d+:\d+\)|TypeError|SyntaxError/);
      expect(f.fix).toMatch(/\w/);
    }
  });
});

describe('robustness', () => {
  it('never throws and never mutates, whatever the JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const frozen = deepFreeze(structuredClone(value));
        expect(() => check(frozen)).not.toThrow();
      }),
      { numRuns: 300 },
    );
    const typed = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: 1,
      cells: [1, [], 'x', { cell_type: 1, id: [], metadata: 2 }],
    };
    const findings = check(deepFreeze(typed));
    expect(findings.length).toBeGreaterThanOrEqual(5);
    for (const f of findings) {
      expect(f.message).not.toMatch(/undefined|\[object Object\]/);
      expect(f.fix.length).toBeGreaterThan(10);
    }
  });

  it('reports wrong types everywhere with one finding per field', () => {
    const everywhere = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: 'python3', language_info: 1, widgets: [] },
      cells: [
        { id: 7, cell_type: 'code', metadata: [], source: 1, outputs: {}, execution_count: 'one' },
        { id: 'b', cell_type: 'markdown', metadata: { tags: [1, 1] }, source: [null], attachments: [] },
      ],
    };
    const pointers = check(everywhere).map((f) => `${f.rule} ${f.location.pointer}`);
    expect(pointers).toEqual([
      'NB-006 /metadata/kernelspec',
      'NB-006 /metadata/language_info',
      'NB-007 /metadata/widgets',
      'NB-003 /cells/0/id',
      'NB-004 /cells/0/metadata',
      'NB-004 /cells/0/source',
      'NB-004 /cells/0/execution_count',
      'NB-004 /cells/0/outputs',
      'NB-005 /cells/1/metadata/tags/0',
      'NB-005 /cells/1/metadata/tags/1',
      'NB-004 /cells/1/source/0',
      'NB-004 /cells/1/attachments',
    ]);
  });
});

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
