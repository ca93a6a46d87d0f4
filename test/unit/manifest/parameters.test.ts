import { describe, expect, it } from 'vitest';
import { assignedNames, parametersCellIndex } from '#core/notebook/parameters';

const code = (source: string, tags: string[] = []) => ({
  cell_type: 'code',
  metadata: { tags },
  source,
  outputs: [],
  execution_count: null,
});

describe('parametersCellIndex', () => {
  it('finds the first code cell tagged parameters, as papermill does', () => {
    const nb = {
      cells: [
        code('a = 1'),
        { cell_type: 'markdown', metadata: { tags: ['parameters'] }, source: '' },
        code('b = 1', ['x', 'parameters']),
        code('c = 1', ['parameters']),
      ],
    };
    expect(parametersCellIndex(nb)).toBe(2);
  });

  it('is undefined without one, and for malformed notebooks', () => {
    expect(parametersCellIndex({ cells: [code('a = 1', ['injected-parameters'])] })).toBeUndefined();
    for (const nb of [null, 'x', { cells: 'no' }, { cells: [null, 3, { metadata: { tags: 'parameters' } }] }])
      expect(parametersCellIndex(nb)).toBeUndefined();
  });
});

describe('assignedNames', () => {
  const names = (source: string) =>
    Object.fromEntries([...assignedNames(source)].map(([n, { line }]) => [n, line]));

  it('finds simple, annotated and chained top-level assignments with their line', () => {
    expect(
      names('epochs = 200\nlearning_rate: float = 0.1\n\na = b = 3\nflag=True\npath: str="x=y"\n'),
    ).toEqual({
      epochs: 1,
      learning_rate: 2,
      a: 4,
      b: 4,
      flag: 5,
      path: 6,
    });
  });

  it('ignores comments, indented lines, comparisons, augmented and tuple assignments, and keywords', () => {
    const source = [
      '# epochs = 1',
      'if debug:',
      '    lr = 0.5',
      'x == 1',
      'n += 1',
      'a, b = 1, 2',
      'print(seed)',
      'def f(depth=3): pass',
      'else: y = 1',
      'seed = 42  # the seed',
    ].join('\n');
    expect(names(source)).toEqual({ seed: 10 });
  });

  it('ignores lines inside brackets, triple-quoted strings and backslash continuations', () => {
    const source = [
      'config = dict(',
      'inner = 1,',
      ')',
      'doc = """',
      'fake = 2',
      '"""',
      "s = '''x'''",
      'total = 1 + \\',
      'cont = 3',
      'text = "unbalanced ( in a string"',
      'after = 4',
    ].join('\n');
    expect(names(source)).toEqual({ config: 1, doc: 4, s: 7, total: 8, text: 10, after: 11 });
  });

  it('handles CRLF sources and unicode identifiers', () => {
    expect(names('a = 1\r\nπ = 3.14\r\n')).toEqual({ a: 1, π: 2 });
  });
});
