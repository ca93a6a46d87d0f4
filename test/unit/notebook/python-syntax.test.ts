import { spawnSync } from 'node:child_process';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeCell, checkPythonSyntax } from '#core/notebook/python-syntax';

/**
 * Python's own parser is the oracle: every snippet goes through `compile(..., PyCF_ONLY_AST |
 * PyCF_ALLOW_TOP_LEVEL_AWAIT)` (what IPython accepts at the top level of a cell) in one python3
 * process.
 */
const ORACLE = `
import ast, json, sys, warnings
warnings.simplefilter('ignore')
out = []
for src in json.load(sys.stdin):
    try:
        compile(src, '<cell>', 'exec', flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        out.append(None)
    except SyntaxError as e:
        out.append({'line': e.lineno, 'msg': e.msg})
    except (ValueError, RecursionError, MemoryError) as e:
        out.append({'line': None, 'msg': str(e)})
print(json.dumps(out))
`;

interface Verdict {
  line: number | null;
  msg: string;
}

const pythonVersion = spawnSync(
  'python3',
  ['-c', 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])'],
  {
    encoding: 'utf8',
  },
);
const hasPython = pythonVersion.status === 0 && Number(pythonVersion.stdout.trim()) >= 311;

function oracle(sources: string[]): (Verdict | null)[] {
  const run = spawnSync('python3', ['-c', ORACLE], {
    input: JSON.stringify(sources),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`python3 oracle failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as (Verdict | null)[];
}

/** Valid Python that is easy to get wrong: every one must pass the checker. */
const VALID = [
  '',
  '\n\n',
  '# only a comment',
  'pass',
  '@dec\ndef f():\n    pass',
  '@a.b(c=1)\n@d\nclass C:\n    x: int = 1',
  '@buttons[0].clicked.connect\ndef on_click():\n    pass',
  'if (n := len(a)) > 10:\n    print(n)',
  '[y for x in z if (y := f(x))]',
  "match cmd:\n    case ['go', d]:\n        go(d)\n    case {'k': v, **rest}:\n        pass\n    case Point(x=0) | Point(y=0):\n        pass\n    case str() | bytes():\n        pass\n    case 'a' | 'b':\n        pass\n    case -1:\n        pass\n    case _:\n        pass",
  'match = re.match(p, s)\nif match:\n    print(match.group(0))',
  'match(x)\ncase = 1\nprint(case)\ntype = 5\nprint(type)',
  'match x, y:\n    case (1, 2):\n        pass',
  'f"{x!r:>{width}}"',
  'f\'{a["b"]}\'',
  "f\"{'a' if x else 'b'}\"",
  'f"{{literal}} {x}"',
  'f"{x=}"',
  'f"{x = !r:^20}"',
  "f'''{\n  x\n}'''",
  'rf"\\d{n}"',
  'f"{(lambda: 1)()}"',
  'f\'{x:{"^"}{10}}\'',
  'f"{\'#\'}"',
  'f\'{d["k"]:>10}\'',
  "x = f'{a}' f'{b}' 'c'",
  "f'\\N{GREEK SMALL LETTER ALPHA} {x}'",
  "x = '\\N{EM DASH}'",
  'f"{x:%Y-%m-%d}"',
  'f"{a!s}{b!a}{c!r}"',
  'f"{a != b}"',
  'f"{a:=10}"',
  'f = lambda x, y=1, *a, k=2, **kw: x + y',
  'sorted(a, key=lambda t: (t[1], -t[0]))',
  'x = 1 + \\\n    2',
  'with open(a) as f, \\\n     open(b) as g:\n    pass',
  "assert x, \\\n    'msg'",
  'a = 1; b = 2; print(a + b);',
  'import os; import sys',
  "def f(a: int, b: 'str' = 'x', *args: int, **kw: Any) -> Dict[str, List[int]]:\n    return {}",
  'x: int\ny: list[int] = []',
  'class A(Generic[T], metaclass=M):\n    a: ClassVar[int] = 0',
  'async def f():\n    async with a as b:\n        async for x in b:\n            await x',
  'await asyncio.sleep(1)',
  'async with session.get(url) as r:\n    data = await r.json()',
  'try:\n    pass\nexcept (A, B) as e:\n    raise C from e\nexcept Exception:\n    pass\nelse:\n    pass\nfinally:\n    pass',
  'try:\n    pass\nexcept* ValueError:\n    pass',
  'try:\n    pass\nfinally:\n    pass',
  'for i in range(3):\n    if i:\n        continue\n    else:\n        break\nelse:\n    pass',
  'while x:\n    x -= 1\nelse:\n    done()',
  'a, *b = c\nprint(*a, **b)\nx = [*a, *b]\ny = {**a, "b": 1}',
  'x = 0x_FF + 0o17 + 0b1010 + 1_000_000 + 1e-5 + 1.5j + .5 + 5. + 0 + 00 + 0.0e0 + 1E+3 + 0_0',
  'x = 1if y else 2',
  "s = 'it\\'s'",
  's = "a" "b" f"c" r"\\d" u"v" F"{x}"\nb = b"x" rb"y" Rb"z" BR"w"',
  "s = '''multi\nline'''",
  's = """a\\"""b"""',
  "s = 'a\\\nb'",
  'x = [  # comment\n  1,  # another\n]\n# final',
  'if x:  # c\n    # inner\n    pass',
  'café = 1\nπ = 3.14\nprint(café * π)',
  '变量 = 1',
  'if x:\n\tif y:\n\t\tpass',
  'try:\n    import a\nexcept ImportError:\n    a = None',
  'def f(): ...\nx[..., 0]',
  'x[1:2, ::3]\nx[a:b:c]',
  "print('a', end='')",
  "print >>sys.stderr, 'x'",
  'print -1',
  'print not in x',
  'def g():\n    yield\n    x = yield 1\n    yield from range(3)\n    y = (yield)',
  'a < b <= c != d is not e not in f',
  'if (lambda: x)():\n    pass',
  'if x: y = lambda: 0',
  'while True: break',
  'with (\n    open(a) as f,\n    open(b) as g,\n):\n    pass',
  'del a[0], b.c',
  'raise',
  'x = not y\nx = -1 ** -2',
  'class A: pass\nclass B(A): pass',
  '_ = 1\n__ = _',
  'if x:\n    pass\nelif y:\n    pass\nelse:\n    pass',
  'def f(a, /, b, *, c):\n    pass',
  'def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2',
  "assert isinstance(x, int), f'bad {x!r}'",
  "x = {'a': 1, 'b': [1, 2, {3: 4}]}",
  '\fx = 1',
  'x = 1\r\ny = 2\r\n',
  'if x:\n    a = 1\n  \n    b = 2',
  'if x:\n    a = 1\n# comment\n    b = 2',
  'global_var = [\n1,\n  2,\n    3]',
  'def f():\n    return (1 +\n2)',
  "s = '# not a comment'",
  "x = b'abc'  # é",
  'lambda: (yield)',
  'a = b = c = 0',
  'x = [i for i in range(10) if i % 2 if i % 3]',
  "print(1 if True else 2, end='')",
  'from . import x\nfrom .. import y\nfrom ...z import w\nfrom a import (b,\n    c as d)',
  'from x import *',
  'import a.b.c as d, e',
  'x = yield_ = await_ = 1',
  'class C:\n    def __init__(self):\n        self.x = 1\n\n    @property\n    def y(self):\n        return self.x',
  'if x:\n    pass\n\n\n',
  'x = (\n    1\n    if y\n    else 2\n)',
  'for x, in pairs:\n    pass',
  'x = 1,',
  'x = [1, 2,]\nf(a, b,)',
  'x = ...',
  'def f(*, a=1): pass',
  'x = a if b else c if d else e',
  'x @= y\nx //= 2\nx **= 3\nx >>= 1\nx <<= 1\nx ^= 1\nx |= 1\nx &= 1\nx %= 1',
  'print(f"{x}" "y" f"{z!r}")',
  'x = """\n    indented text\n  less\n"""',
  "if True:\n    s = '''\nnot indented\n'''\n    t = 1",
  'x = [\n    1,\n# comment at column 0\n    2,\n]',
  'def f(\n    a,\n    b,\n):\n    pass',
  'x = {\n    "k": lambda: 0,\n}',
  'global x, y',
  'x = 1 # trailing comment without newline',
  "x = u'unicode'",
  'x = 0.5e-10j',
  'import numpy as np\nnp.random.seed(0)\nx = np.random.rand(3)',
  'for i in range(3): print(i); print(i * 2)',
  'x = 10 if y else -10',
  'if not x: pass',
  'x = a.b.c(d)[e].f',
  'x = [] if a else {}',
  'x = () or []',
  'try: pass\nexcept: pass',
  'with a: pass',
  'class A(B,\n        C):\n    pass',
  'x = 1 if y\\\n  else 2',
];

/** Invalid Python: the checker should reject these; its recall over them is reported. */
const INVALID = [
  "print 'hello'",
  'print x',
  "exec 'code'",
  'print x if y else z',
  'exec code in ns',
  'if x\n    pass',
  'for i in range(3)\n    pass',
  'def f()\n    pass',
  'class A\n    pass',
  'while True\n    pass',
  'with open(f) as g\n    pass',
  'try\n    pass\nexcept:\n    pass',
  "x = 'abc",
  'x = "abc',
  "x = '''abc",
  'x = """abc\n\n',
  "s = f'{x'",
  "s = f'{x}",
  'x = (1, 2',
  'x = [1, 2)',
  'x = {1: 2]',
  'f(a))',
  ']',
  'def f():\nreturn 1',
  'if x:\n    a = 1\n      b = 2',
  'if x:\n    a\n  b',
  'if x:\n\ta = 1\n        b = 2',
  '  x = 1\ny = 2',
  'def f():',
  'for x in y:',
  'class A:\n',
  'if x:\n# only comment',
  'x = 1 +',
  'x = ',
  'import',
  'from x import',
  'x = a and',
  'a.',
  'x = y if z else',
  'x = 0777',
  'x = 1 2',
  'f(a b)',
  'x = a b',
  '[1 2]',
  "x = 'a' 1",
  'x = (1) 2',
  'x = $y',
  'x = `y`',
  'x = a ? b : c',
  'x <> y',
  'x = ‘quote’',
  'x = 1\u00a0+ 2',
  'x = 1\u200b',
  'x = \\ y',
  'x = 1 \\',
  "f'{}'",
  "f'}'",
  "b'é'",
  'elif x:\n    pass',
  'except:\n    pass',
  'finally:\n    pass',
  'else:\n    pass',
  'try:\n    pass\nx = 1',
  'try:\n    pass\n',
  'try:\n    pass\nelse:\n    pass',
  'if x:\n    pass\nelse:\n    pass\nelse:\n    pass',
  'if x:\n    pass\nelse:\n    pass\nelif y:\n    pass',
  'for x in y:\n    pass\nexcept:\n    pass',
  'try:\n    pass\nfinally:\n    pass\nexcept:\n    pass',
  '@dec\nx = 1',
  '@dec',
  'x = !ls',
  '%matplotlib inline',
  '!pip install x',
  'x?',
  "ur'x'",
  'def f(x):\n    return x\n  y = 1',
  'x = 1\n    y = 2',
  'def f(x):\n    if x:\n    return 1',
  'x = [1, 2\ny = 3',
  "s = 'unterminated\nprint(s)",
  'x = 1.real',
  'x = 0x',
  'x = 1_',
  'x = 5 6 7',
  'x = "a" f(b)',
  'return x y',
  'print "a" % x',
  'if x: print "a"',
  'x = 1; print "b"',
  'import a as',
  'lambda',
  'x = not',
  'x = [i for i in]',
  'x = {a b}',
  'def f(a b): pass',
  "x = f'{a b}'",
  'raise E, "msg"',
  'def f(x) -> :\n    pass',
  'x = 1 = 2',
  'f(a, b +)',
  'x = (a and)',
  'x[1 +:]',
  "x = r'\\'",
  's = "a" b"b"',
];

describe.skipIf(!hasPython)('python-syntax against python3 ast (differential)', () => {
  it('agrees with Python on every corpus entry it flags and never flags valid code', () => {
    const verdicts = oracle([...VALID, ...INVALID]);
    const validVerdicts = verdicts.slice(0, VALID.length);
    const invalidVerdicts = verdicts.slice(VALID.length);

    // The corpus is labelled right (guards against a snippet that does not test what it says).
    const mislabelledValid = VALID.filter((_, i) => validVerdicts[i] !== null);
    const mislabelledInvalid = INVALID.filter((_, i) => invalidVerdicts[i] === null);
    expect(mislabelledValid).toEqual([]);
    expect(mislabelledInvalid).toEqual([]);

    const falsePositives = VALID.map((src) => ({
      src,
      problem: checkPythonSyntax(src, { ipython: false }),
    })).filter((r) => r.problem !== undefined);
    expect(falsePositives).toEqual([]);

    let caught = 0;
    let sameLine = 0;
    const missed: string[] = [];
    INVALID.forEach((src, i) => {
      const problem = checkPythonSyntax(src, { ipython: false });
      if (!problem) {
        missed.push(src);
        return;
      }
      caught++;
      if (problem.line === invalidVerdicts[i]!.line) sameLine++;
    });
    const recall = caught / INVALID.length;
    console.info(
      `python-syntax corpus: ${VALID.length} valid (0 flagged), ${INVALID.length} invalid, recall ${(recall * 100).toFixed(1)}% ` +
        `(${caught}), same line as Python in ${sameLine}/${caught}; missed: ${JSON.stringify(missed)}`,
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(sameLine / caught).toBeGreaterThanOrEqual(0.9);
  });

  it('never flags a random mutation of valid code that Python accepts', () => {
    const insertable = [...'()[]{}:\'"\\#\n \t,.=@!%?;', '    ', 'if ', 'else', 'print ', 'f"{', 'lambda'];
    const mutation = fc
      .tuple(
        fc.integer({ min: 0, max: VALID.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 5 }),
      )
      .map(([which, at, pick, kind]) => {
        const src = VALID[which]!;
        const i = src.length === 0 ? 0 : at % (src.length + 1);
        const lines = src.split('\n');
        const li = at % lines.length;
        switch (kind) {
          case 0:
            return src.slice(0, i) + src.slice(i + 1);
          case 1:
            return src.slice(0, i) + insertable[pick % insertable.length] + src.slice(i);
          case 2:
            return src.slice(0, i) + src.slice(i + 1, i + 2) + src.slice(i, i + 1) + src.slice(i + 2);
          case 3:
            lines.splice(li, 0, lines[li]!);
            return lines.join('\n');
          case 4:
            lines[li] = ['  ', '\t', '    '][pick % 3]! + lines[li]!;
            return lines.join('\n');
          default:
            lines[li] = lines[li]!.replace(/^\s{1,2}/, '');
            return lines.join('\n');
        }
      });
    const mutants = [...new Set(fc.sample(mutation, { numRuns: 4000, seed: 20240611 }))];
    const verdicts = oracle(mutants);
    const falsePositives: { src: string; ours: string }[] = [];
    let invalid = 0;
    let caught = 0;
    mutants.forEach((src, i) => {
      const problem = checkPythonSyntax(src, { ipython: false });
      if (verdicts[i] === null) {
        if (problem) falsePositives.push({ src, ours: `${problem.line}:${problem.col} ${problem.message}` });
      } else {
        invalid++;
        if (problem) caught++;
      }
    });
    console.info(
      `python-syntax mutations: ${mutants.length} distinct, ${invalid} invalid per Python, caught ${caught} ` +
        `(${((caught / invalid) * 100).toFixed(1)}%), false positives ${falsePositives.length}`,
    );
    expect(falsePositives).toEqual([]);
    expect(caught / invalid).toBeGreaterThanOrEqual(0.8);
  });
});

/**
 * IPython as the oracle for notebook cells: its own input transformer rewrites magics, shell escapes
 * and help into Python, then Python parses the result (Python-bodied cell magics such as `%%time`
 * are checked on their body, as they run it).
 */
const IPYTHON_ORACLE = `
import ast, json, sys, warnings
warnings.simplefilter('ignore')
from IPython.core.inputtransformer2 import TransformerManager
tm = TransformerManager()
PY_BODY = {'time', 'timeit', 'capture', 'prun', 'debug', 'python', 'python3', 'pypy', 'memit'}
def check(src):
    code = tm.transform_cell(src)
    tree = compile(code, '<cell>', 'exec', flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        call = tree.body[0].value
        if isinstance(call, ast.Call) and getattr(call.func, 'attr', '') == 'run_cell_magic' and len(call.args) == 3:
            name, _, body = (a.value if isinstance(a, ast.Constant) else None for a in call.args)
            if name in PY_BODY and isinstance(body, str):
                check(body)
out = []
for src in json.load(sys.stdin):
    try:
        check(src)
        out.append(None)
    except SyntaxError as e:
        out.append({'line': e.lineno, 'msg': e.msg})
    except Exception as e:
        out.append({'line': None, 'msg': type(e).__name__})
print(json.dumps(out))
`;

const hasIPython =
  hasPython && spawnSync('python3', ['-c', 'import IPython.core.inputtransformer2']).status === 0;

/** Notebook cells IPython runs; mutations of them exercise the IPython-specific paths. */
const IPYTHON_CELLS = [
  '%matplotlib inline\nimport numpy as np\nx = np.arange(3)',
  '!pip install numpy==1.26.4\nimport numpy',
  'files = !ls data\nprint(files)\nfor f in files:\n    !echo {f}\n    %time g(f)',
  'np.random?\nx = 1',
  '%%time\nx = sum(range(10))\nprint(x)',
  '%%capture out\nfit(model, data)',
  '  x = 1\n  if x:\n      y = 2',
  '>>> x = 1\n>>> print(x)',
  "s = '''\n!not magic\n'''\nprint(s)",
  'class C:\n    @property\n    def x(self):\n        return f"{self.y!r:>{w}}"',
  'result = %timeit -o f()\nprint(result.best)',
  'with open(p) as fh, \\\n        open(q) as g:\n    data = [line.strip() for line in fh if line]',
  'async with s.get(u) as r:\n    d = await r.json()\nprint(d)',
];

describe.skipIf(!hasIPython)('python-syntax against IPython (differential)', () => {
  it('never flags a cell, or a mutation of one, that IPython runs', () => {
    const insertable = [
      ...'()[]{}:\'"\\#\n \t,.=@!%?;',
      '    ',
      'print ',
      'f"{',
      '%%time\n',
      'x = !',
      '%',
      '?',
    ];
    const mutation = fc
      .tuple(
        fc.integer({ min: 0, max: IPYTHON_CELLS.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 4 }),
      )
      .map(([which, at, pick, kind]) => {
        const src = IPYTHON_CELLS[which]!;
        const i = at % (src.length + 1);
        const lines = src.split('\n');
        const li = at % lines.length;
        switch (kind) {
          case 0:
            return src.slice(0, i) + src.slice(i + 1);
          case 1:
            return src.slice(0, i) + insertable[pick % insertable.length] + src.slice(i);
          case 2:
            lines[li] = ['  ', '\t'][pick % 2]! + lines[li]!;
            return lines.join('\n');
          case 3:
            lines.splice(li, 1);
            return lines.join('\n');
          default:
            return src.slice(0, i) + src.slice(i + 1, i + 2) + src.slice(i, i + 1) + src.slice(i + 2);
        }
      });
    const cells = [...new Set([...IPYTHON_CELLS, ...fc.sample(mutation, { numRuns: 3000, seed: 5 })])];
    const run = spawnSync('python3', ['-c', IPYTHON_ORACLE], {
      input: JSON.stringify(cells),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.status).toBe(0);
    const verdicts = JSON.parse(run.stdout) as (Verdict | null)[];
    expect(IPYTHON_CELLS.filter((_, i) => verdicts[i] !== null)).toEqual([]);
    const falsePositives: string[] = [];
    let invalid = 0;
    let caught = 0;
    cells.forEach((src, i) => {
      const problem = checkPythonSyntax(src);
      if (verdicts[i] === null) {
        if (problem)
          falsePositives.push(`${JSON.stringify(src)} => ${problem.line}:${problem.col} ${problem.message}`);
      } else {
        invalid++;
        if (problem) caught++;
      }
    });
    console.info(
      `python-syntax IPython cells: ${cells.length} distinct, ${invalid} rejected by IPython, caught ${caught} ` +
        `(${((caught / invalid) * 100).toFixed(1)}%), false positives ${falsePositives.length}`,
    );
    expect(falsePositives).toEqual([]);
    expect(caught / invalid).toBeGreaterThanOrEqual(0.8);
  });
});

describe('python-syntax: Python errors, located like Python', () => {
  it.each([
    ["x = 'abc\ny = 1", 1, 5, 'unterminated string literal (detected at line 1)'],
    ["x = 1\ns = '''abc\n\n", 2, 5, 'unterminated triple-quoted string literal (detected at line 4)'],
    ['x = (1,\n2', 1, 5, "'(' was never closed"],
    ['x = [1,\n 2)', 2, 3, "closing parenthesis ')' does not match opening parenthesis '[' on line 1"],
    ['x = 1)', 1, 6, "unmatched ')'"],
    ['x = 1\n  y = 2', 2, 3, 'unexpected indent'],
    ['if x:\n    a\n  b', 3, 3, 'unindent does not match any outer indentation level'],
    ['if x:\n\ta\n        b', 3, 1, 'inconsistent use of tabs and spaces in indentation'],
    ['if x:\ny = 1', 2, 1, "expected an indented block after 'if' statement on line 1"],
    ['def f():', 1, 9, 'expected an indented block after function definition on line 1'],
    ['for x in y\n  pass', 1, 11, "expected ':'"],
    ["print 'x'", 1, 1, "Missing parentheses in call to 'print'. Did you mean print(...)?"],
    ['try:\n  x\ny', 3, 1, "expected 'except' or 'finally' block"],
    ['x = ‘a’', 1, 5, "invalid character '‘' (U+2018)"],
    ['\u00a0x = 1', 1, 1, 'invalid non-printable character U+00A0'],
    [
      'x = 0777',
      1,
      5,
      'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers',
    ],
  ])('%j', (src, line, col, message) => {
    expect(checkPythonSyntax(src, { ipython: false })).toMatchObject({ line, col, message });
  });
});

describe('python-syntax: IPython cells', () => {
  it.each([
    ['%matplotlib inline\nimport numpy as np'],
    ['!pip install numpy==1.26.4\nimport numpy'],
    ['files = !ls data\nprint(files)'],
    ['x.y = !ls\nx[0] = %who_ls'],
    ['result = %timeit -o f()'],
    ['for f in files:\n    !echo {f}\n    %time g(f)'],
    ['np.random?\n??np\nx.y??'],
    ['/print x\n,f a b\n;f c d'],
    ['%%time\nx = sum(range(10))'],
    ['%%capture out\n%%time\nfit()'],
    ['%%bash\nif [ -f x ]; then\n  echo (unbalanced\nfi'],
    ['%%sql\nSELECT * FROM t WHERE x = "unterminated'],
    ['\n\n%%writefile train.py\ndef f(:\n'],
    ['  x = 1\n  y = 2'],
    ['>>> x = 1\n>>> print(x)'],
    ['In [1]: x = 1\n   ...: y = 2'],
    ['pip install pandas'],
    ['!echo a \\\n  b'],
    ["s = '''\n!not magic inside a string\n'''"],
    ['print(x)  # what is x?'],
  ])('accepts %j', (src) => {
    expect(checkPythonSyntax(src)).toBeUndefined();
  });

  it('reports errors after magics at the original line and column', () => {
    expect(checkPythonSyntax("%matplotlib inline\nx = 1\nprint 'a'")).toMatchObject({ line: 3, col: 1 });
    expect(checkPythonSyntax('%%time\n\nfor x in y\n    pass')).toMatchObject({
      line: 3,
      message: "expected ':'",
    });
    // Leading indentation is removed before parsing, so columns are shifted back.
    expect(checkPythonSyntax("    x = 1\n    y = 'abc")).toMatchObject({ line: 2, col: 9 });
  });

  it('still rejects what IPython rejects', () => {
    expect(checkPythonSyntax('x = y = !ls')).toMatchObject({ line: 1, message: 'invalid syntax' });
    expect(checkPythonSyntax('# comment\npip install pandas')).toMatchObject({ line: 2 });
    expect(checkPythonSyntax('x = a ? b : c')).toMatchObject({ message: 'invalid syntax' });
  });

  it('describes the cell magics it found', () => {
    expect(analyzeCell('%%bash\necho hi').foreignMagic).toEqual({ name: 'bash', args: '', line: 1 });
    const timed = analyzeCell('%%time\nimport os');
    expect(timed.foreignMagic).toBeUndefined();
    expect(timed.pythonMagics.map((m) => m.name)).toEqual(['time']);
    expect(timed.tokens.map((t) => t.text)).toEqual(['import', 'os']);
    expect(timed.tokens[0]!.line).toBe(2);
  });

  it('reads magic commands as single tokens at their lines', () => {
    const { tokens } = analyzeCell('x = 1\n!pip install a \\\n  b\nfiles = !ls');
    expect(tokens.filter((t) => t.type === 'magic').map((t) => [t.line, t.text])).toEqual([
      [2, '!pip install a \\\n  b'],
      [4, '!ls'],
    ]);
  });
});

describe('python-syntax: hostile input', () => {
  it('reports deep nesting instead of overflowing the stack', () => {
    expect(checkPythonSyntax(`x = ${'('.repeat(5000)}1${')'.repeat(5000)}`)).toMatchObject({
      message: 'too many nested parentheses',
    });
    expect(checkPythonSyntax(`x = ${'f"{'.repeat(3000)}1${'}"'.repeat(3000)}`)).toMatchObject({
      message: 'too many nested f-strings',
    });
  });

  it('survives random text without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (src) => {
        checkPythonSyntax(src);
        checkPythonSyntax(src, { ipython: false });
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
