import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { executionFamily } from '#core/validation/execution';
import { hygieneFamily } from '#core/validation/hygiene';
import { reproducibilityFamily } from '#core/validation/reproducibility';
import {
  code,
  MINIMAL_MANIFEST,
  manifestSource,
  markdown,
  notebook,
  of,
  run,
  tagged,
} from '../../fixtures/content/notebooks';

const check = (nb: unknown, options?: Parameters<typeof run>[2]) => run(executionFamily, nb, options);
const withParameters = manifestSource({ ...MINIMAL_MANIFEST, parameters: { epochs: 10, lr: 0.01 } });

describe('EX-001 parameters cell', () => {
  it('accepts exactly one tagged code cell', () => {
    const nb = notebook([
      markdown('# Churn'),
      tagged(code('epochs = 5\nlr = 0.1'), 'parameters'),
      code('train()'),
    ]);
    expect(of(check(nb, { manifest: withParameters }), 'EX-001')).toEqual([]);
  });

  it('reports a second code cell tagged parameters, at its tag', () => {
    const nb = notebook([
      tagged(code('epochs = 5'), 'parameters'),
      code('x = 1'),
      tagged(code('lr = 0.1'), 'slow', 'parameters'),
    ]);
    const [finding, ...rest] = of(check(nb), 'EX-001');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      severity: 'error',
      location: { pointer: '/cells/2/metadata/tags/1', cell: 2 },
    });
    expect(finding!.message).toContain('cell 0');
    expect(finding!.fix).toContain('Remove the `parameters` tag from cell 2');
  });

  it('reports a markdown cell tagged parameters', () => {
    const nb = notebook([tagged(markdown('epochs = 5'), 'parameters'), code('x = 1')]);
    const findings = of(check(nb), 'EX-001');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ location: { pointer: '/cells/0/metadata/tags/0', cell: 0 } });
    expect(findings[0]!.message).toContain('markdown cell');
  });

  it('reports a stale injected-parameters cell', () => {
    const nb = notebook([
      tagged(code('epochs = 5'), 'parameters'),
      tagged(code('# Parameters\nepochs = 50\n'), 'injected-parameters'),
    ]);
    const findings = of(check(nb), 'EX-001');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ location: { pointer: '/cells/1/metadata/tags/0', cell: 1 } });
    expect(findings[0]!.fix).toContain('Delete cell 1');
  });

  it('reports a missing parameters cell only when the manifest declares parameters', () => {
    const nb = notebook([code('epochs = 5'), code('train()')]);
    const findings = of(check(nb, { manifest: withParameters }), 'EX-001');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', location: { pointer: '/cells' } });
    expect(findings[0]!.message).toContain('epochs, lr');
    expect(of(check(nb, { manifest: manifestSource(MINIMAL_MANIFEST) }), 'EX-001')).toEqual([]);
    expect(of(check(nb), 'EX-001')).toEqual([]);
  });
});

describe('EX-003 Python syntax', () => {
  it('names cell, line and column, points at the line and shows it', () => {
    const nb = notebook([code('import os'), code(['x = 1\n', "print 'done'\n", 'y = 2'])]);
    const findings = of(check(nb), 'EX-003');
    expect(findings).toEqual([
      {
        rule: 'EX-003',
        severity: 'error',
        message: "cell 1, line 2, column 1: Missing parentheses in call to 'print'. Did you mean print(...)?",
        location: { pointer: '/cells/1/source/1', cell: 1, line: 2 },
        fix: expect.stringContaining('print(...)'),
        snippet: "print 'done'",
      },
    ]);
  });

  it('points at the source field when the source is one string', () => {
    const nb = notebook([code("data = load()\nname = 'unterminated\n")]);
    const [finding] = of(check(nb), 'EX-003');
    expect(finding).toMatchObject({
      message: 'cell 0, line 2, column 8: unterminated string literal (detected at line 2)',
      location: { pointer: '/cells/0/source', cell: 0, line: 2 },
      snippet: "name = 'unterminated",
    });
  });

  it('accepts IPython syntax and skips non-Python cell magics', () => {
    const nb = notebook([
      code('%matplotlib inline\n!nvidia-smi\nfiles = !ls /opt/ml/input/data\nnp.random?'),
      code('%%time\nmodel.fit(x, y)'),
      code('%%bash\nfor f in *.csv; do echo "$f"; done'),
      code(''),
    ]);
    expect(of(check(nb), 'EX-003')).toEqual([]);
  });

  it('reports one finding per broken cell', () => {
    const nb = notebook([code('if x\n    pass'), code('ok = 1'), code('f(a b)')]);
    expect(of(check(nb), 'EX-003').map((f) => f.location.cell)).toEqual([0, 2]);
  });
});

describe('EX-004 installs at run time', () => {
  it('reports %pip, !pip, python -m pip, %conda and %%bash installs at their lines', () => {
    const nb = notebook([
      code('%pip install -q numpy==1.26.4\nimport numpy'),
      code('x = 1\n!python -m pip install -r requirements.txt'),
      code('%conda install -y -c conda-forge lightgbm'),
      code('%%bash\nset -e\npip install pandas'),
      code('pip install scikit-learn'),
    ]);
    const findings = of(check(nb), 'EX-004');
    expect(findings.map((f) => [f.location.cell, f.location.line, f.severity])).toEqual([
      [0, 1, 'warning'],
      [1, 2, 'warning'],
      [2, 1, 'warning'],
      [3, 3, 'warning'],
      [4, 1, 'warning'],
    ]);
    expect(findings[0]!.snippet).toBe('%pip install -q numpy==1.26.4');
  });

  it('ignores pip used for anything but installing', () => {
    const nb = notebook([
      code('!pip list\n%pip show numpy\nimport pip\ns = "pip install x"  # pip install y'),
    ]);
    expect(of(check(nb), 'EX-004')).toEqual([]);
  });
});

describe('EX-005 tags honoured at run time', () => {
  it('reports skip-execution and raises-exception cells as info', () => {
    const nb = notebook([
      code('a = 1'),
      tagged(code('slow()'), 'skip-execution'),
      tagged(code('1/0'), 'raises-exception'),
    ]);
    const findings = of(check(nb), 'EX-005');
    expect(findings.map((f) => [f.location.pointer, f.severity])).toEqual([
      ['/cells/1/metadata/tags/0', 'info'],
      ['/cells/2/metadata/tags/0', 'info'],
    ]);
  });

  it('says nothing without those tags', () => {
    expect(of(check(notebook([tagged(code('a = 1'), 'parameters')])), 'EX-005')).toEqual([]);
  });
});

describe('EX-006 runtime limit', () => {
  it('warns when the manifest has no training.maxRuntime and names the default', () => {
    const findings = of(
      check(notebook([code('x = 1')]), { manifest: manifestSource(MINIMAL_MANIFEST) }),
      'EX-006',
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: 'warning',
      location: { pointer: '/metadata/nbops/training' },
    });
    expect(findings[0]!.message).toContain('1 hour');
  });

  it('locates the finding in a sidecar manifest', () => {
    const manifest = manifestSource(MINIMAL_MANIFEST, {
      file: 'churn.nbops.yaml',
      lines: { '/training': 3 },
    });
    const [finding] = of(check(notebook([code('x = 1')]), { manifest }), 'EX-006');
    expect(finding!.location).toEqual({ pointer: '/training', file: 'churn.nbops.yaml', line: 3 });
  });

  it('is quiet when maxRuntime is set or there is no valid manifest', () => {
    const manifest = manifestSource({
      ...MINIMAL_MANIFEST,
      training: { ...(MINIMAL_MANIFEST.training as object), maxRuntime: '4h' },
    });
    expect(of(check(notebook([code('x = 1')]), { manifest }), 'EX-006')).toEqual([]);
    expect(of(check(notebook([code('x = 1')])), 'EX-006')).toEqual([]);
  });
});

describe('EX-007 interactive calls', () => {
  it('reports top-level input, getpass, breakpoints and ipywidgets interact', () => {
    const nb = notebook([
      code('name = input("Your name: ")'),
      code('import getpass\ntoken = getpass.getpass()'),
      code(
        'from ipywidgets import interact\ninteract(plot, n=(1, 10))\n\n@interact\ndef show(x=1):\n    pass',
      ),
      code('breakpoint()'),
    ]);
    const findings = of(check(nb), 'EX-007');
    expect(findings.map((f) => [f.location.cell, f.location.line])).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
      [2, 4],
      [3, 1],
    ]);
    expect(findings[0]).toMatchObject({ severity: 'warning', snippet: 'name = input("Your name: ")' });
    expect(findings[0]!.message).toContain('input()');
  });

  it('ignores calls inside functions, methods named input, strings, comments and plt.show()', () => {
    const nb = notebook([
      code('def ask():\n    return input("?")\n\nf = lambda: input()'),
      code('import matplotlib.pyplot as plt\nplt.show()\nform.input("x")\ns = "input()"  # input()'),
      code('def interact(x):\n    return x\ninteract(1)'),
    ]);
    expect(of(check(nb), 'EX-007')).toEqual([]);
  });
});

describe('EX-008 kernel language', () => {
  it('reports a non-Python kernel and does not parse its cells as Python', () => {
    const nb = notebook([code('library(ggplot2)\nx <- c(1, 2)')], {
      kernelspec: { name: 'ir', display_name: 'R', language: 'R' },
      language_info: { name: 'R' },
    });
    const findings = check(nb);
    expect(of(findings, 'EX-008')).toEqual([
      expect.objectContaining({ severity: 'error', location: { pointer: '/metadata/kernelspec/language' } }),
    ]);
    expect(of(findings, 'EX-003')).toEqual([]);
  });

  it('accepts Python, in any spelling, and a missing language', () => {
    const python = notebook([code('x = 1')], {
      kernelspec: { name: 'py', display_name: 'Py', language: 'Python3' },
    });
    expect(of(check(python), 'EX-008')).toEqual([]);
    expect(of(check(notebook([code('x = 1')], {})), 'EX-008')).toEqual([]);
  });
});

describe('untrusted input', () => {
  it('does not throw on malformed cells and metadata', () => {
    const nb = {
      metadata: { kernelspec: 'python', language_info: 7 },
      cells: [
        null,
        5,
        'x',
        { cell_type: 'code' },
        { cell_type: 'code', source: [1, 2] },
        { metadata: { tags: 'parameters' } },
      ],
    };
    expect(() => check(nb)).not.toThrow();
    expect(() => check({ cells: 'nope' })).not.toThrow();
    expect(() => check(null)).not.toThrow();
  });
});

describe('realistic notebooks through the execution, hygiene and reproducibility families', () => {
  const load = (name: string) => {
    const text = readFileSync(
      fileURLToPath(new URL(`../../fixtures/content/${name}`, import.meta.url)),
      'utf8',
    );
    const nb = JSON.parse(text) as { metadata: { nbops: Record<string, unknown> } };
    const options = { text, manifest: manifestSource(nb.metadata.nbops) };
    return [executionFamily, hygieneFamily, reproducibilityFamily].flatMap((family) =>
      run(family, nb, options),
    );
  };

  it('finds nothing in a clean model notebook', () => {
    expect(load('clean-model.ipynb')).toEqual([]);
  });

  it('finds every problem of a notebook saved mid-exploration, each at its cell', () => {
    const found = load('messy-model.ipynb').map((f) => `${f.rule}@${f.location.cell ?? '-'}`);
    expect(found.sort()).toEqual(
      [
        'EX-001@6', // stale injected-parameters cell
        'EX-003@4', // print 'done'
        'EX-004@1', // !pip install
        'EX-004@1', // %pip install
        'EX-006@-', // no training.maxRuntime
        'EX-007@4', // input()
        'HY-001@1', // saved outputs
        'HY-002@2', // count 1 after count 3
        'HY-003@3', // FileNotFoundError output
        'HY-005@2', // trusted, ExecuteTime
        'HY-006@5', // empty code cell
        'REP-001@1', // torch unpinned
        'REP-001@1', // scikit-learn unpinned
        'REP-002@3', // np.random.normal unseeded
        'REP-003@3', // /Users/ana/...
        'REP-004@-', // data without versionId
        'REP-005@3', // s3://ml-scratch/...
      ].sort(),
    );
  });
});
