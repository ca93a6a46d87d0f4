import { describe, expect, it } from 'vitest';
import { reproducibilityFamily } from '#core/validation/reproducibility';
import {
  code,
  type Json,
  MINIMAL_MANIFEST,
  manifestSource,
  notebook,
  of,
  run,
} from '../../fixtures/content/notebooks';

const check = (nb: unknown, options?: Parameters<typeof run>[2]) => run(reproducibilityFamily, nb, options);
const cells = (...sources: string[]) => notebook(sources.map((s) => code(s)));
const withData = (data: Json[]) => manifestSource({ ...MINIMAL_MANIFEST, data });

describe('REP-001 unpinned installs', () => {
  it('names the unpinned packages of each install, at its line', () => {
    const nb = cells(
      'import os\n%pip install numpy pandas==2.2.2 "scikit-learn>=1.4"',
      '!conda install -y -c conda-forge lightgbm',
    );
    const findings = of(check(nb), 'REP-001');
    expect(findings.map((f) => [f.location.cell, f.location.line])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(findings[0]!.message).toContain('numpy, scikit-learn>=1.4');
    expect(findings[0]!.message).not.toContain('pandas');
    expect(findings[1]!.fix).toContain('numpy=1.26.4');
  });

  it('accepts exact pins, requirements files, pinned VCS refs, local paths and conda pins', () => {
    const nb = cells(
      '%pip install numpy==1.26.4 "pandas[parquet]==2.2.2"',
      '!pip install -q -r requirements.txt',
      '!pip install git+https://github.com/org/lib.git@v1.2.0 ./vendor/tool',
      '%conda install -c conda-forge lightgbm=4.1.0 xgboost==2.0.3',
      '!pip install --index-url https://pypi.example/simple torch==2.3.0',
    );
    expect(of(check(nb), 'REP-001')).toEqual([]);
  });

  it('treats upgrades and unpinned VCS installs as unpinned', () => {
    const nb = cells('!pip install --upgrade pip', '!pip install git+https://github.com/org/lib.git');
    expect(of(check(nb), 'REP-001')).toHaveLength(2);
  });
});

describe('REP-002 unseeded randomness', () => {
  it('reports the first unseeded NumPy draw', () => {
    const nb = cells(
      'import numpy as np',
      'x = 1\nnoise = np.random.normal(size=3)\nmore = np.random.rand(2)',
    );
    const findings = of(check(nb), 'REP-002');
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        location: { pointer: '/cells/1/source', cell: 1, line: 2 },
        snippet: 'noise = np.random.normal(size=3)',
      }),
    ]);
    expect(findings[0]!.fix).toContain('np.random.seed');
  });

  it('accepts a seed before the first use, not after', () => {
    expect(
      of(check(cells('import numpy as np\nnp.random.seed(42)', 'x = np.random.rand(3)')), 'REP-002'),
    ).toEqual([]);
    expect(
      of(check(cells('import numpy as np\nx = np.random.rand(3)', 'np.random.seed(42)')), 'REP-002'),
    ).toHaveLength(1);
  });

  it('reports scikit-learn estimators and splitters without random_state', () => {
    const nb = cells(
      'from sklearn.ensemble import RandomForestClassifier\nfrom sklearn.model_selection import train_test_split, KFold',
      'X_train, X_test = train_test_split(X, test_size=0.2)',
    );
    const findings = of(check(nb), 'REP-002');
    expect(findings.map((f) => f.location.cell)).toEqual([1]);
    expect(findings[0]!.message).toContain('train_test_split');
  });

  it('accepts random_state, unshuffled KFold, and np.random.seed for scikit-learn', () => {
    const nb = cells(
      'from sklearn.ensemble import RandomForestClassifier\nfrom sklearn.model_selection import KFold',
      'clf = RandomForestClassifier(n_estimators=10, random_state=0)\ncv = KFold(5)',
    );
    expect(of(check(nb), 'REP-002')).toEqual([]);
    const seeded = cells(
      'import numpy as np\nfrom sklearn.cluster import KMeans\nnp.random.seed(1)\nKMeans(3)',
    );
    expect(of(check(seeded), 'REP-002')).toEqual([]);
    const none = cells('from sklearn.cluster import KMeans\nKMeans(3, random_state=None)');
    expect(of(check(none), 'REP-002')).toHaveLength(1);
  });

  it('tracks each library on its own: PyTorch, TensorFlow and random', () => {
    const nb = cells(
      'import random\nimport torch\nimport torch.nn as nn\nimport tensorflow as tf\nimport numpy as np\nnp.random.seed(0)',
      'layer = nn.Linear(4, 2)',
      'random.shuffle(items)',
      'w = tf.random.normal([3])',
    );
    expect(of(check(nb), 'REP-002').map((f) => f.location.cell)).toEqual([1, 2, 3]);
    const seeded = cells(
      'import random, torch\nimport torch.nn as nn\nimport tensorflow as tf\ntorch.manual_seed(0)\nrandom.seed(0)\ntf.keras.utils.set_random_seed(0)',
      'layer = nn.Linear(4, 2)\nrandom.shuffle(items)\nw = tf.random.normal([3])',
    );
    expect(of(check(seeded), 'REP-002')).toEqual([]);
  });

  it('accepts seeded generators and seeding helpers defined in the notebook', () => {
    const nb = cells(
      'import numpy as np\nimport torch',
      'def seed_everything(seed):\n    np.random.seed(seed)\n    torch.manual_seed(seed)\nseed_everything(7)',
      'rng = np.random.default_rng(42)\nx = rng.normal(size=3)\nt = torch.randn(3)',
    );
    expect(of(check(nb), 'REP-002')).toEqual([]);
    expect(of(check(cells('import numpy as np\nrng = np.random.default_rng()')), 'REP-002')).toHaveLength(1);
  });

  it('does not count draws in strings or comments', () => {
    const nb = cells('import numpy as np\n# np.random.rand(3)\ns = "np.random.rand(3)"');
    expect(of(check(nb), 'REP-002')).toEqual([]);
  });
});

describe('REP-003 absolute local paths', () => {
  it('reports home directories, drive letters and ~ in strings and shell commands', () => {
    const nb = cells(
      'df = pd.read_csv("/Users/ana/churn/train.csv")',
      "model.save(r'C:\\models\\churn')",
      "cfg = load('~/configs/churn.yaml')",
      '!cp /home/ana/data.csv .',
      's = """\nfirst line\n/home/bob/notes.txt\n"""\nprint(s)',
    );
    const findings = of(check(nb), 'REP-003');
    expect(findings.map((f) => [f.location.cell, f.location.line])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 3],
    ]);
    expect(findings[0]!.message).toContain('/Users/ana/churn/train.csv');
  });

  it('ignores comments, docstrings, container paths and URLs', () => {
    const nb = cells(
      '# data came from /Users/ana/churn.csv\ndef load():\n    """Reads /home/ana/x.csv locally."""\n    return 1',
      'df = pd.read_csv("/opt/ml/input/data/train/train.csv")\nurl = "https://example.com/home/page"\np = "s3://bucket/home/x"',
    );
    expect(of(check(nb), 'REP-003')).toEqual([]);
  });
});

describe('REP-004 unpinned data references', () => {
  it('warns per unpinned entry, at the entry', () => {
    const manifest = withData([
      { name: 'train', uri: 's3://ml-data/churn/train.csv' },
      { name: 'test', uri: 's3://ml-data/churn/test.csv', versionId: '3HL4kqtJlcpXroDTDmJ' },
      { name: 'extra', uri: 's3://ml-data/churn/extra/' },
    ]);
    const findings = of(check(cells('x = 1'), { manifest }), 'REP-004');
    expect(findings.map((f) => [f.location.pointer, f.severity])).toEqual([
      ['/metadata/nbops/data/0', 'warning'],
      ['/metadata/nbops/data/2', 'warning'],
    ]);
    expect(findings[0]!.fix).toContain('versionId');
    expect(findings[1]!.fix).toContain('prefix');
  });

  it('is an error when policy requires pinned data, and located in a sidecar', () => {
    const manifest = manifestSource(
      { ...MINIMAL_MANIFEST, data: [{ name: 'train', uri: 's3://ml-data/churn/train.csv' }] },
      { file: 'churn.nbops.yaml', lines: { '/data/0': 7 } },
    );
    const findings = of(
      check(cells('x = 1'), { manifest, policy: { data: { requirePinnedVersions: true } } }),
      'REP-004',
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        location: { pointer: '/data/0', file: 'churn.nbops.yaml', line: 7 },
      }),
    ]);
  });

  it('accepts sha256-pinned data', () => {
    const manifest = withData([{ name: 'train', uri: 's3://b/k.csv', sha256: 'a'.repeat(64) }]);
    expect(of(check(cells('x = 1'), { manifest }), 'REP-004')).toEqual([]);
  });
});

describe('REP-005 S3 URIs outside the manifest', () => {
  const manifest = withData([{ name: 'train', uri: 's3://ml-data/churn/train/', versionId: 'v1' }]);

  it('reports each undeclared URI once, at its first use', () => {
    const nb = cells(
      'df = pd.read_parquet("s3://ml-data/other/features.parquet")',
      'x = pd.read_parquet("s3://ml-data/other/features.parquet")\n!aws s3 cp s3://ml-scratch/tmp.csv .',
    );
    const findings = of(check(nb, { manifest }), 'REP-005');
    expect(findings.map((f) => [f.location.cell, f.location.line])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(findings[0]!.message).toContain('s3://ml-data/other/features.parquet (used 2 times)');
  });

  it('accepts URIs under declared data, computed URIs, and URIs in comments', () => {
    const nb = cells(
      'df = pd.read_csv("s3://ml-data/churn/train/part-0.csv")  # s3://elsewhere/x',
      'key = f"s3://{bucket}/churn/{name}"\nprefix = f"s3://ml-data/churn/train/{day}.csv"',
    );
    expect(of(check(nb, { manifest }), 'REP-005')).toEqual([]);
  });

  it('reports every URI when there is no manifest, none when the manifest is invalid', () => {
    const nb = cells('df = pd.read_csv("s3://ml-data/churn/train/x.csv")');
    expect(of(check(nb), 'REP-005')).toHaveLength(1);
    const invalid = { origin: 'metadata' as const, pointer: '/metadata/nbops', raw: { name: 3 } };
    expect(of(check(nb, { manifest: invalid }), 'REP-005')).toEqual([]);
  });
});

describe('non-Python kernels and untrusted input', () => {
  it('skips source rules for a non-Python kernel but still checks the manifest data', () => {
    const nb = notebook([code('x <- read.csv("/Users/ana/x.csv")\nset.seed(1)')], {
      kernelspec: { name: 'ir', display_name: 'R', language: 'R' },
    });
    const findings = check(nb, { manifest: withData([{ name: 'train', uri: 's3://b/k.csv' }]) });
    expect(findings.map((f) => f.rule)).toEqual(['REP-004']);
  });

  it('does not throw on malformed notebooks and manifests', () => {
    const manifest = {
      origin: 'metadata' as const,
      pointer: '/metadata/nbops',
      raw: {},
      value: { data: [null, 4, { uri: 7 }] },
    };
    expect(() =>
      check({ cells: [null, { cell_type: 'code', source: 5 }] }, { manifest: manifest as never }),
    ).not.toThrow();
  });
});
