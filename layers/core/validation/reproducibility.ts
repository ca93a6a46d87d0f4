/**
 * Reproducibility (REP-*): would training this version again give the same model? Unpinned
 * installs, unseeded randomness, paths that exist only on the author's machine, unpinned data and
 * S3 data read around the manifest all make a retrain differ from the recorded version.
 *
 * Paths and S3 URIs are looked for in string literals and shell/magic commands, not in comments or
 * bare string statements (docstrings): those never run.
 */
import { isRecord } from '#core/notebook/notebook';
import { installsIn } from '#core/notebook/python/install';
import {
  type CallSite,
  type CodeCell,
  DEFAULT_ALIASES,
  kernelLanguage,
  lineLocation,
  lineSnippet,
  notebookCode,
  resolveName,
} from '#core/notebook/python/notebook-code';
import type { CheckContext, RuleFamilyModule } from './family';
import type { Finding, Location, RuleSpec } from './finding';

export const reproducibilityRules: RuleSpec[] = [
  {
    id: 'REP-001',
    family: 'reproducibility',
    defaultSeverity: 'warning',
    title: 'Installs pin exact versions',
    rationale:
      '`pip install pandas` installs whatever is newest on the day of the run, so a retrain of the same version can ' +
      'get different libraries and a different model (or fail).',
  },
  {
    id: 'REP-002',
    family: 'reproducibility',
    defaultSeverity: 'warning',
    title: 'Randomness is seeded',
    rationale:
      'Random draws (Python random, NumPy, PyTorch, TensorFlow/Keras, scikit-learn estimators without ' +
      'random_state) differ on every run unless seeded first, so metrics and quality gates move between ' +
      'retrains of the same version.',
  },
  {
    id: 'REP-003',
    family: 'reproducibility',
    defaultSeverity: 'warning',
    title: 'No absolute local paths',
    rationale:
      'Paths such as /Users/…, /home/…, C:\\… or ~/… exist on the author`s machine only; in the training job the ' +
      'notebook reads its data from the declared channels under /opt/ml/input/data/<name>.',
  },
  {
    id: 'REP-004',
    family: 'reproducibility',
    defaultSeverity: 'warning',
    title: 'Data references are pinned (versionId or sha256)',
    rationale:
      'An S3 key can be overwritten; without a versionId or sha256 a retrain may read different data than the ' +
      'version it claims to reproduce. Platform policy data.requirePinnedVersions makes this an error.',
  },
  {
    id: 'REP-005',
    family: 'reproducibility',
    defaultSeverity: 'warning',
    title: 'S3 data comes through the manifest',
    rationale:
      'nbops records the manifest `data` entries (with versions and checksums) as the lineage of each version; an ' +
      'S3 URI hard-coded in a cell bypasses that record, the input channels and the data location policy.',
  },
];

interface ManifestView {
  data?: { name?: unknown; uri?: unknown; versionId?: unknown; sha256?: unknown }[];
}

const withSnippet = (finding: Omit<Finding, 'severity'>, snippet: string | undefined) =>
  snippet === undefined ? finding : { ...finding, snippet };

// REP-001 ------------------------------------------------------------------------------------------

function checkUnpinnedInstalls(ctx: CheckContext, cells: CodeCell[]): void {
  for (const cell of cells) {
    for (const command of cell.commands) {
      for (const install of installsIn(command)) {
        if (install.unpinned.length === 0) continue;
        const names = install.unpinned.slice(0, 5).join(', ') + (install.unpinned.length > 5 ? ', …' : '');
        const example = install.tool === 'conda' ? 'numpy=1.26.4' : 'numpy==1.26.4';
        ctx.report(
          withSnippet(
            {
              rule: 'REP-001',
              message: `cell ${cell.index}, line ${command.line} installs ${names} without an exact version; a retrain may get newer, different packages.`,
              location: lineLocation(cell, command.line),
              fix: `Pin exact versions (\`${example}\`) or install from a requirements file of pinned versions (\`-r requirements.txt\`); better, build them into the training image.`,
            },
            lineSnippet(cell, command.line),
          ),
        );
      }
    }
  }
}

// REP-002 ------------------------------------------------------------------------------------------

type RandomLib = 'random' | 'numpy' | 'torch' | 'tensorflow';
const ALL_LIBS: RandomLib[] = ['random', 'numpy', 'torch', 'tensorflow'];

type RandomEvent = { kind: 'seed'; libs: RandomLib[] } | { kind: 'use'; lib: RandomLib; what: string };

const PY_RANDOM_FUNCTIONS = new Set(
  (
    'random randint randrange choice choices shuffle sample uniform gauss normalvariate triangular betavariate ' +
    'expovariate gammavariate lognormvariate vonmisesvariate paretovariate weibullvariate getrandbits randbytes ' +
    'binomialvariate'
  ).split(' '),
);
const NUMPY_NOT_DRAWS = new Set(
  'seed get_state set_state SeedSequence BitGenerator PCG64 PCG64DXSM MT19937 Philox SFC64 Generator'.split(
    ' ',
  ),
);
const TORCH_DRAWS = new Set(
  'rand randn randint randperm rand_like randn_like randint_like normal bernoulli multinomial poisson'.split(
    ' ',
  ),
);
const TORCH_RANDOM_LAYERS = new Set(
  (
    'Linear Bilinear LazyLinear Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LazyConv1d ' +
    'LazyConv2d LazyConv3d RNN LSTM GRU RNNCell LSTMCell GRUCell Embedding EmbeddingBag Transformer ' +
    'TransformerEncoderLayer TransformerDecoderLayer MultiheadAttention Dropout Dropout1d Dropout2d Dropout3d AlphaDropout'
  ).split(' '),
);
const TORCH_INIT_DETERMINISTIC = new Set([
  'constant_',
  'zeros_',
  'ones_',
  'eye_',
  'dirac_',
  'calculate_gain',
]);
const KERAS_RANDOM_LAYER =
  /^(?:tensorflow\.)?keras\.layers\.(?:Dense|Conv[123]D|Conv[123]DTranspose|SeparableConv[12]D|DepthwiseConv2D|LSTM|GRU|SimpleRNN|Embedding|Dropout|SpatialDropout[123]D|GaussianNoise|GaussianDropout|MultiHeadAttention)$/;
const TF_RANDOM_NOT_DRAWS = new Set([
  'set_seed',
  'Generator',
  'get_global_generator',
  'set_global_generator',
]);
/** scikit-learn callables whose result depends on `random_state` when it is left unset. */
const SKLEARN_RANDOM = new Set(
  (
    'train_test_split ShuffleSplit StratifiedShuffleSplit GroupShuffleSplit RepeatedKFold RepeatedStratifiedKFold ' +
    'RandomForestClassifier RandomForestRegressor ExtraTreesClassifier ExtraTreesRegressor GradientBoostingClassifier ' +
    'GradientBoostingRegressor HistGradientBoostingClassifier HistGradientBoostingRegressor DecisionTreeClassifier ' +
    'DecisionTreeRegressor ExtraTreeClassifier ExtraTreeRegressor BaggingClassifier BaggingRegressor ' +
    'AdaBoostClassifier AdaBoostRegressor IsolationForest RandomTreesEmbedding SGDClassifier SGDRegressor ' +
    'SGDOneClassSVM Perceptron PassiveAggressiveClassifier PassiveAggressiveRegressor MLPClassifier MLPRegressor ' +
    'KMeans MiniBatchKMeans BisectingKMeans TSNE TruncatedSVD PCA NMF MiniBatchNMF FastICA GaussianMixture ' +
    'BayesianGaussianMixture RandomizedSearchCV HalvingRandomSearchCV make_classification make_regression make_blobs ' +
    'make_moons make_circles shuffle resample SpectralClustering RBFSampler Nystroem SelectFromModel'
  ).split(' '),
);
const SKLEARN_SHUFFLE_ONLY = new Set(['KFold', 'StratifiedKFold', 'GroupKFold']);
const SEED_HELPER =
  /^(?:set_(?:global_|random_|all_)?seeds?|seed_everything|seed_all|fix_(?:random_)?seeds?|reset_seeds?|init_seeds?|seed_torch)$/;

function classifyCall(name: string, call: CallSite, randomImported: boolean): RandomEvent | undefined {
  const dot = name.lastIndexOf('.');
  const last = name.slice(dot + 1);
  const owner = dot === -1 ? '' : name.slice(0, dot);
  const isTrue = (kw: string) => call.keywords.get(kw) === 'True';

  // Seeding.
  if (name === 'random.seed') return { kind: 'seed', libs: ['random'] };
  if (name === 'numpy.random.seed') return { kind: 'seed', libs: ['numpy'] };
  if (/^torch(\.cuda|\.random)?\.manual_seed(_all)?$/.test(name)) return { kind: 'seed', libs: ['torch'] };
  if (/^tensorflow\.(random\.set_seed|set_random_seed|compat\.v1\.(random\.)?set_random_seed)$/.test(name)) {
    return { kind: 'seed', libs: ['tensorflow'] };
  }
  if (/^(tensorflow\.)?keras\.utils\.set_random_seed$/.test(name)) {
    return { kind: 'seed', libs: ['random', 'numpy', 'tensorflow'] };
  }
  if (SEED_HELPER.test(last)) return { kind: 'seed', libs: ALL_LIBS };

  // Draws.
  if (owner === 'random' && randomImported && PY_RANDOM_FUNCTIONS.has(last)) {
    return { kind: 'use', lib: 'random', what: `random.${last}()` };
  }
  if (owner === 'random' && randomImported && last === 'Random' && call.noArguments) {
    return { kind: 'use', lib: 'random', what: 'random.Random() without a seed' };
  }
  if (owner === 'numpy.random') {
    if (last === 'default_rng' || last === 'RandomState') {
      return call.noArguments
        ? { kind: 'use', lib: 'numpy', what: `np.random.${last}() without a seed` }
        : undefined;
    }
    if (!NUMPY_NOT_DRAWS.has(last)) return { kind: 'use', lib: 'numpy', what: `np.random.${last}()` };
    return undefined;
  }
  if (owner === 'torch' && TORCH_DRAWS.has(last))
    return { kind: 'use', lib: 'torch', what: `torch.${last}()` };
  if (owner === 'torch.nn' && TORCH_RANDOM_LAYERS.has(last)) {
    return { kind: 'use', lib: 'torch', what: `nn.${last}() (random initial weights)` };
  }
  if (owner === 'torch.nn.init' && !TORCH_INIT_DETERMINISTIC.has(last)) {
    return { kind: 'use', lib: 'torch', what: `nn.init.${last}()` };
  }
  if (name === 'torch.utils.data.random_split') return { kind: 'use', lib: 'torch', what: 'random_split()' };
  if (name === 'torch.utils.data.DataLoader' && isTrue('shuffle')) {
    return { kind: 'use', lib: 'torch', what: 'DataLoader(shuffle=True)' };
  }
  if (owner === 'tensorflow.random' && !TF_RANDOM_NOT_DRAWS.has(last)) {
    return { kind: 'use', lib: 'tensorflow', what: `tf.random.${last}()` };
  }
  if (KERAS_RANDOM_LAYER.test(name)) {
    return { kind: 'use', lib: 'tensorflow', what: `keras ${last}() (random initial weights)` };
  }
  if (name.startsWith('sklearn.') && (SKLEARN_RANDOM.has(last) || SKLEARN_SHUFFLE_ONLY.has(last))) {
    if (call.doubleStar) return undefined;
    if (SKLEARN_SHUFFLE_ONLY.has(last) && !isTrue('shuffle')) return undefined;
    const state = call.keywords.get('random_state');
    if (state !== undefined && state !== 'None') return undefined;
    // random_state=None falls back to NumPy's global generator, so np.random.seed makes it repeatable.
    return { kind: 'use', lib: 'numpy', what: `scikit-learn ${last}() without random_state` };
  }
  return undefined;
}

const SEED_FIXES: Record<RandomLib, string> = {
  random: 'Call random.seed(<n>) near the top of the notebook, before the first draw.',
  numpy:
    'Seed before the first draw: np.random.seed(<n>), or draw from rng = np.random.default_rng(<n>); give scikit-learn estimators and splitters random_state=<n>.',
  torch:
    'Call torch.manual_seed(<n>) before building models or drawing random tensors (and see PyTorch`s notes on deterministic algorithms for GPU training).',
  tensorflow:
    'Call tf.keras.utils.set_random_seed(<n>) (seeds Python, NumPy and TensorFlow) before building the model.',
};
const LIB_NAMES: Record<RandomLib, string> = {
  random: "Python's random module",
  numpy: "NumPy's global random generator",
  torch: 'PyTorch',
  tensorflow: 'TensorFlow',
};

function checkSeeds(ctx: CheckContext, cells: CodeCell[], imports: Map<string, string>): void {
  const randomImported = [...imports.values()].some((m) => m === 'random' || m.startsWith('random.'));
  const seeded = new Set<RandomLib>();
  const reported = new Set<RandomLib>();
  for (const cell of cells) {
    for (const call of cell.calls) {
      if (call.bareDecorator) continue;
      const event = classifyCall(resolveName(call.dotted, imports, DEFAULT_ALIASES), call, randomImported);
      if (!event) continue;
      if (event.kind === 'seed') {
        for (const lib of event.libs) seeded.add(lib);
        continue;
      }
      if (seeded.has(event.lib) || reported.has(event.lib)) continue;
      reported.add(event.lib);
      ctx.report(
        withSnippet(
          {
            rule: 'REP-002',
            message: `cell ${cell.index}, line ${call.line} uses ${event.what}, but ${LIB_NAMES[event.lib]} is not seeded before this point; results will differ on every run.`,
            location: lineLocation(cell, call.line),
            fix: SEED_FIXES[event.lib],
          },
          lineSnippet(cell, call.line),
        ),
      );
    }
  }
}

// REP-003 / REP-005: text that runs (string literals and commands) ------------------------------------

interface RunText {
  cell: CodeCell;
  /** Line of the text's first character. */
  line: number;
  text: string;
}

/** Calls `visit` with each string literal (not docstrings) and shell/magic command that `hint` matches. */
function forEachRunText(cells: CodeCell[], hint: RegExp, visit: (text: RunText) => void): void {
  for (const cell of cells) {
    for (const literal of cell.strings) {
      if (hint.test(literal.text)) visit({ cell, line: literal.line, text: literal.text });
    }
    for (const command of cell.commands) {
      if (hint.test(command.text)) visit({ cell, line: command.line, text: command.text });
    }
  }
}

function lineWithin(text: RunText, index: number): number {
  let line = text.line;
  for (let i = text.text.indexOf('\n'); i !== -1 && i < index; i = text.text.indexOf('\n', i + 1)) line++;
  return line;
}

const LOCAL_PATH_HINT = /\/(?:Users|home|content|kaggle|mnt|Volumes)\/|[A-Za-z]:[\\/]|~\//;
const LOCAL_PATH =
  /(?:^|[\s'"`=(,:]|file:\/\/)((?:\/(?:Users|home|Volumes)\/[^/\s'"`]+|[A-Za-z]:\\|[A-Za-z]:\/(?!\/)|~\/|\/content\/drive\/|\/kaggle\/(?:input|working)\/|\/mnt\/[a-z]\/)[^\s'"`]*)/g;

function checkLocalPaths(ctx: CheckContext, cells: CodeCell[]): void {
  const seen = new Set<string>();
  forEachRunText(cells, LOCAL_PATH_HINT, (text) => {
    LOCAL_PATH.lastIndex = 0;
    for (let m = LOCAL_PATH.exec(text.text); m; m = LOCAL_PATH.exec(text.text)) {
      const path = m[1]!;
      const line = lineWithin(text, m.index + m[0].length - path.length);
      const key = `${text.cell.index}:${line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
      ctx.report(
        withSnippet(
          {
            rule: 'REP-003',
            message: `cell ${text.cell.index}, line ${line} uses the local path "${shown}", which does not exist where nbops runs the notebook.`,
            location: lineLocation(text.cell, line),
            fix: 'Declare the data in the manifest `data` (the job sees it under /opt/ml/input/data/<name>) and read it from there, or use a path relative to the notebook.',
          },
          lineSnippet(text.cell, line),
        ),
      );
    }
  });
}

const S3_HINT = /s3a?:\/\//;
const S3_URI = /\bs3a?:\/\/[^\s'"`\\,;()[\]]*/g;

function normalizeS3(uri: string): string {
  return uri.replace(/^s3a:/, 's3:');
}

function isDeclared(uri: string, declared: string[]): boolean {
  const template = uri.search(/[{$]/);
  if (template !== -1) {
    // Computed URI: fine when its fixed prefix could be a declared location.
    const prefix = uri.slice(0, template);
    return declared.some((d) => d.startsWith(prefix) || prefix.startsWith(d.endsWith('/') ? d : `${d}/`));
  }
  return declared.some((d) => {
    const dir = d.endsWith('/') ? d : `${d}/`;
    return uri === d || uri.startsWith(dir) || `${uri}/` === d;
  });
}

function checkUndeclaredS3(ctx: CheckContext, cells: CodeCell[], manifest: ManifestView | undefined): void {
  if (ctx.manifest && !manifest) return; // the manifest is invalid: MAN findings say why; nothing to compare with
  const declared = (Array.isArray(manifest?.data) ? manifest.data : [])
    .map((d) => (isRecord(d) && typeof d.uri === 'string' ? normalizeS3(d.uri) : undefined))
    .filter((u): u is string => u !== undefined);
  const found = new Map<string, { text: RunText; line: number; count: number }>();
  forEachRunText(cells, S3_HINT, (text) => {
    S3_URI.lastIndex = 0;
    for (let m = S3_URI.exec(text.text); m; m = S3_URI.exec(text.text)) {
      const uri = normalizeS3(m[0].replace(/[.:]+$/, ''));
      const bucket = uri.slice('s3://'.length).split('/')[0] ?? '';
      if (bucket === '' || /[{$]/.test(bucket)) continue;
      if (isDeclared(uri, declared)) continue;
      const seen = found.get(uri);
      if (seen) seen.count++;
      else found.set(uri, { text, line: lineWithin(text, m.index), count: 1 });
    }
  });
  for (const [uri, { text, line, count }] of found) {
    const more = count > 1 ? ` (used ${count} times)` : '';
    const where =
      declared.length === 0 ? 'the manifest declares no data' : 'it is not under any manifest `data` uri';
    ctx.report(
      withSnippet(
        {
          rule: 'REP-005',
          message: `cell ${text.cell.index}, line ${line} hard-codes ${uri}${more}, but ${where}; nbops cannot record or pin what the notebook reads there.`,
          location: lineLocation(text.cell, line),
          fix: 'Add the location to the manifest `data` (name, uri, versionId or sha256) and read it from /opt/ml/input/data/<name>; write results to the model directory instead of S3.',
        },
        lineSnippet(text.cell, line),
      ),
    );
  }
}

// REP-004 ------------------------------------------------------------------------------------------

function checkPinnedData(ctx: CheckContext, manifest: ManifestView | undefined): void {
  const source = ctx.manifest;
  if (!source || !manifest || !Array.isArray(manifest.data)) return;
  const strict = ctx.policy.data?.requirePinnedVersions === true;
  manifest.data.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const pinned = (v: unknown) => typeof v === 'string' && v !== '';
    if (pinned(entry.versionId) || pinned(entry.sha256)) return;
    const pointer = `${source.pointer}/data/${i}`;
    const location: Location = { pointer };
    if (source.file) location.file = source.file;
    const line = source.lineOf?.(pointer);
    if (line !== undefined) location.line = line;
    const name = typeof entry.name === 'string' ? entry.name : String(i);
    const uri = typeof entry.uri === 'string' ? entry.uri : '';
    const prefix = uri.endsWith('/');
    const finding = {
      rule: 'REP-004',
      message: `Data "${name}" (${uri}) has neither versionId nor sha256, so a retrain may read different data than this version did${strict ? '; platform policy requires pinned data' : ''}.`,
      location,
      fix: prefix
        ? `A prefix cannot be pinned: point data[${i}].uri at one object (e.g. a versioned archive or file list) and add its "versionId" or "sha256".`
        : `Add "versionId" (the S3 object version, in a versioned bucket) or "sha256" (64 hex digits of the object) to data[${i}].`,
    };
    ctx.report(strict ? { ...finding, severity: 'error' } : finding);
  });
}

export const reproducibilityFamily: RuleFamilyModule = {
  family: 'reproducibility',
  rules: reproducibilityRules,
  check(ctx: CheckContext): void {
    const manifest = ctx.manifest?.value as unknown as ManifestView | undefined;
    checkPinnedData(ctx, manifest);
    if (!kernelLanguage(ctx.notebook).python) return; // the source rules read Python
    const code = notebookCode(ctx.notebook);
    checkUnpinnedInstalls(ctx, code.cells);
    checkSeeds(ctx, code.cells, code.imports);
    checkLocalPaths(ctx, code.cells);
    checkUndeclaredS3(ctx, code.cells, manifest);
  },
};
