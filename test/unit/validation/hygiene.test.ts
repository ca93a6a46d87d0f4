import { describe, expect, it } from 'vitest';
import { hygieneFamily } from '#core/validation/hygiene';
import { code, markdown, notebook, of, run } from '../../fixtures/content/notebooks';

const check = (nb: unknown, text?: string) => run(hygieneFamily, nb, text === undefined ? {} : { text });

const stream = (text: string) => ({ output_type: 'stream', name: 'stdout', text });
const error = (ename: string) => ({
  output_type: 'error',
  ename,
  evalue: 'boom',
  traceback: ['Traceback', ename],
});

describe('HY-001 saved outputs', () => {
  it('summarises outputs in one finding at the first cell that has them', () => {
    const nb = notebook([
      code('a = 1'),
      code('print(a)', { outputs: [stream('1\n')], execution_count: 1 }),
      code('a', { outputs: [stream('x'), stream('y')], execution_count: 2 }),
    ]);
    const findings = of(check(nb), 'HY-001');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: 'warning',
      location: { pointer: '/cells/1/outputs', cell: 1 },
    });
    expect(findings[0]!.message).toContain('3 saved outputs in 2 cells');
    expect(findings[0]!.fix).toContain('nbconvert --clear-output');
  });

  it('is quiet on a stripped notebook', () => {
    expect(of(check(notebook([code('a = 1'), markdown('# x')])), 'HY-001')).toEqual([]);
  });
});

describe('HY-002 execution order', () => {
  it('names the first cell whose count goes backwards', () => {
    const nb = notebook([
      code('a = 1', { execution_count: 1 }),
      code('b = 2', { execution_count: 5 }),
      code('c = 3', { execution_count: 3 }),
      code('d = 4', { execution_count: 2 }),
    ]);
    const findings = of(check(nb), 'HY-002');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ location: { pointer: '/cells/2/execution_count', cell: 2 } });
    expect(findings[0]!.message).toContain('cell 2 has execution count 3 but comes after cell 1 (count 5)');
  });

  it('reports a cell never run among run ones', () => {
    const nb = notebook([
      code('a = 1', { execution_count: 1 }),
      code('b = 2'),
      code('c = 3', { execution_count: 2 }),
    ]);
    expect(of(check(nb), 'HY-002')).toEqual([
      expect.objectContaining({ location: { pointer: '/cells/1/execution_count', cell: 1 } }),
    ]);
  });

  it('accepts increasing counts with gaps, empty never-run cells, and an all-cleared notebook', () => {
    const inOrder = notebook([
      code('a = 1', { execution_count: 1 }),
      code('  \n'),
      code('c = 3', { execution_count: 4 }),
    ]);
    expect(of(check(inOrder), 'HY-002')).toEqual([]);
    expect(of(check(notebook([code('a = 1'), code('b = 2')])), 'HY-002')).toEqual([]);
  });
});

describe('HY-003 error outputs', () => {
  it('reports one finding per cell with errors, at the first error output', () => {
    const nb = notebook([
      code('ok()', { outputs: [stream('fine')] }),
      code('fail()', { outputs: [stream('before'), error('KeyError'), error('ValueError')] }),
      code('again()', { outputs: [error('ZeroDivisionError')] }),
    ]);
    const findings = of(check(nb), 'HY-003');
    expect(findings.map((f) => f.location.pointer)).toEqual(['/cells/1/outputs/1', '/cells/2/outputs/0']);
    expect(findings[0]!.message).toContain('KeyError');
    expect(findings[0]!.message).toContain('and 1 more');
  });

  it('is quiet without error outputs', () => {
    expect(of(check(notebook([code('x', { outputs: [stream('x')] })])), 'HY-003')).toEqual([]);
  });
});

describe('HY-004 large outputs and notebooks', () => {
  const big = 'x'.repeat(600 * 1024);

  it('reports each output and attachment over 500 KB', () => {
    const nb = notebook([
      code('plot()', {
        outputs: [stream('small'), { output_type: 'display_data', data: { 'image/png': big }, metadata: {} }],
      }),
      markdown('![chart](attachment:chart.png)', { attachments: { 'chart.png': { 'image/png': big } } }),
    ]);
    const findings = of(check(nb), 'HY-004');
    expect(findings.map((f) => f.location.pointer)).toEqual([
      '/cells/0/outputs/1',
      '/cells/1/attachments/chart.png',
    ]);
    expect(findings[0]!.message).toContain('display_data');
  });

  it('reports a notebook over 10 MB in total', () => {
    const nb = notebook([code('x = 1')]);
    const text = JSON.stringify(nb) + ' '.repeat(11 * 1024 * 1024);
    expect(of(check(nb, text), 'HY-004')).toEqual([expect.objectContaining({ location: { pointer: '' } })]);
  });

  it('counts bytes, not characters, near the limit', () => {
    const nb = notebook([code('x = 1')]);
    const text = 'é'.repeat(5.5 * 1024 * 1024); // 5.5 M characters, 11 MB in UTF-8
    expect(of(check(nb, text), 'HY-004')).toHaveLength(1);
  });

  it('is quiet under the limits', () => {
    const nb = notebook([code('x', { outputs: [stream('x'.repeat(400 * 1024))] })]);
    expect(of(check(nb), 'HY-004')).toEqual([]);
  });
});

describe('HY-005 volatile metadata', () => {
  it('summarises volatile keys in one info finding', () => {
    const nb = notebook(
      [
        code('a', { metadata: { trusted: true, ExecuteTime: { start_time: 'x' } } }),
        code('b', { metadata: { trusted: false, scrolled: true, tags: ['parameters'] } }),
      ],
      { signature: 'sha256:abc', kernelspec: { name: 'python3', display_name: 'Python 3' } },
    );
    const findings = of(check(nb), 'HY-005');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'info', location: { pointer: '/metadata/signature' } });
    expect(findings[0]!.message).toContain('trusted (2 cells)');
    expect(findings[0]!.message).toContain('ExecuteTime (1 cell)');
  });

  it('is quiet on clean metadata (tags are not volatile)', () => {
    expect(of(check(notebook([code('a', { metadata: { tags: ['parameters'] } })])), 'HY-005')).toEqual([]);
  });
});

describe('HY-006 empty code cells', () => {
  it('lists empty code cells in one info finding', () => {
    const nb = notebook([code('a = 1'), code(''), markdown(''), code(['\n', '   '])]);
    const findings = of(check(nb), 'HY-006');
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'info', location: { pointer: '/cells/1/source', cell: 1 } }),
    ]);
    expect(findings[0]!.message).toContain('2 empty code cells (cells 1, 3)');
  });

  it('is quiet when every code cell has code', () => {
    expect(of(check(notebook([code('a = 1'), markdown('')])), 'HY-006')).toEqual([]);
  });
});

describe('untrusted input', () => {
  it('does not throw on malformed cells, outputs and metadata', () => {
    const nb = {
      metadata: 'x',
      cells: [
        null,
        { cell_type: 'code', outputs: 'none', metadata: 3 },
        { cell_type: 'code', outputs: [null, 7, { output_type: 5 }], execution_count: 'one' },
        { cell_type: 'markdown', attachments: { a: null } },
      ],
    };
    expect(() => check(nb)).not.toThrow();
  });
});
