/**
 * Writes examples/broken/*.ipynb: small notebooks that each show one family of findings, derived
 * from the valid churn example so that everything else about them is clean.
 *   tsx scripts/generate-examples.ts
 * test/unit/cli/examples.test.ts pins the findings each one must produce.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(repoRoot, 'examples/broken');

type Json = Record<string, unknown>;
const manifest = () =>
  parseYaml(readFileSync(join(repoRoot, 'examples/churn/manifest.yaml'), 'utf8')) as Json;

function notebook(cells: Json[], nbopsManifest: unknown = manifest(), minor = 5): Json {
  return {
    cells,
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python', version: '3.11.7' },
      nbops: nbopsManifest,
    },
    nbformat: 4,
    nbformat_minor: minor,
  };
}

const code = (id: string, source: string, extra: Json = {}): Json => ({
  id,
  cell_type: 'code',
  metadata: {},
  source: source.split(/(?<=\n)/),
  outputs: [],
  execution_count: null,
  ...extra,
});
const markdown = (id: string, source: string): Json => ({ id, cell_type: 'markdown', metadata: {}, source });
const parameters = () =>
  code('parameters', 'epochs = 200\nlearning_rate = 0.1\nseed = 42\nn_rows = 5000\n', {
    metadata: { tags: ['parameters'] },
  });
const seeded = () => code('train', 'import random\nrandom.seed(seed)\nprint(random.random())\n');

// Fake credentials, shaped like real ones so the detectors fire. None of them grants anything.
const fake = {
  awsKeyId: ['AKIA', 'Q3EGLP5ZNW7XJ2KM'].join(''),
  awsSecret: ['kT9vR2mXq8', 'Lz4pN7wB3c', 'Yh6sJ1dF5g', 'A0eUoI+/Qw'].join(''),
  github: ['ghp_', 'x7Kp2mQ9vL4nR8sT1wY6zB3cD5fG0hJ2kM4q'].join(''),
  privateKey: [
    '-----BEGIN RSA PRIVATE',
    ' KEY-----\nMIIEowIBAAKCAQEAx7Kp2mQ9vL4nR8sT1wY6zB3cD5fG0hJ2kM4pN7wB3cYh6sJ1\n-----END RSA PRIVATE',
    ' KEY-----\n',
  ].join(''),
};

const examples: Record<string, { description: string; notebook: Json | string }> = {
  'structure.ipynb': {
    description:
      'nbformat violations: a missing cell id in 4.5, a duplicate id, a string execution_count, an unknown output type',
    notebook: notebook([
      parameters(),
      { cell_type: 'markdown', metadata: {}, source: '# No id on this cell' },
      code('train', 'print("a")\n'),
      code('train', 'print("b")\n', { execution_count: '2', outputs: [{ output_type: 'log', text: 'x' }] }),
    ]),
  },
  'secrets.ipynb': {
    description: 'credentials in a source line, a stream output and a markdown cell (all fake)',
    notebook: notebook([
      parameters(),
      code('creds', `aws_access_key_id = "${fake.awsKeyId}"\naws_secret_access_key = "${fake.awsSecret}"\n`),
      code('clone', 'print("cloning")\n', {
        execution_count: 1,
        outputs: [
          {
            output_type: 'stream',
            name: 'stdout',
            text: [`git clone https://${fake.github}@github.com/acme/ml.git\n`],
          },
        ],
      }),
      markdown('notes', `Deploy key for the data host:\n\n${fake.privateKey}`),
      seeded(),
    ]),
  },
  'manifest.ipynb': {
    description:
      'manifest mistakes: an instance type that does not exist, an undeclared gate metric, spot without checkpoints, a parameter the notebook never assigns',
    notebook: (() => {
      const m = manifest() as Json & { training: Json; gates: Json[]; parameters: Json };
      m.training.instanceType = 'ml.g5.large';
      m.training.checkpoints = { enabled: false };
      m.gates = [...m.gates, { metric: 'validation:f1', min: 0.7 }];
      m.parameters = { ...m.parameters, batch_size: 64 };
      return notebook([parameters(), seeded()], m);
    })(),
  },
  'execution.ipynb': {
    description: 'not ready to run headless: two parameters cells, a syntax error, %pip install, input()',
    notebook: notebook([
      parameters(),
      code('params-again', 'epochs = 10\n', { metadata: { tags: ['parameters'] } }),
      code('install', '%pip install scikit-learn\n'),
      code('broken', 'for i in range(epochs)\n    print(i)\n'),
      code('ask', 'threshold = float(input("threshold? "))\n'),
      seeded(),
    ]),
  },
  'hygiene.ipynb': {
    description:
      'committed outputs and errors, out-of-order execution, unseeded randomness, a laptop path, unpinned data',
    notebook: (() => {
      const m = manifest() as Json & { data?: Json[] };
      m.data = [{ name: 'train', uri: 's3://ml-data/churn/train.csv' }];
      return notebook(
        [
          parameters(),
          code('load', 'import pandas as pd\ndf = pd.read_csv("/Users/alice/Downloads/churn.csv")\n', {
            execution_count: 3,
            outputs: [{ output_type: 'stream', name: 'stdout', text: ['loaded 5000 rows\n'] }],
          }),
          code('sample', 'import numpy as np\nsample = np.random.rand(10)\n', {
            execution_count: 1,
            outputs: [
              {
                output_type: 'error',
                ename: 'NameError',
                evalue: "name 'np' is not defined",
                traceback: ["\u001b[0;31mNameError\u001b[0m: name 'np' is not defined"],
              },
            ],
          }),
        ],
        m,
      );
    })(),
  },
  'truncated.ipynb': {
    description: 'a file cut off mid-way (an interrupted save or upload)',
    notebook:
      '{\n "cells": [\n  {\n   "cell_type": "code",\n   "id": "a1",\n   "metadata": {},\n   "source": ["print(1)"',
  },
};

mkdirSync(outDir, { recursive: true });
const index = [
  '# Broken example notebooks',
  '',
  'Each shows one family of findings (`npx nbops validate examples/broken/<file>`). Generated by `tsx scripts/generate-examples.ts`.',
  '',
];
for (const [file, { description, notebook: nb }] of Object.entries(examples)) {
  writeFileSync(join(outDir, file), typeof nb === 'string' ? nb : `${JSON.stringify(nb, null, 1)}\n`);
  index.push(`- \`${file}\`: ${description}.`);
}
writeFileSync(join(outDir, 'README.md'), `${index.join('\n')}\n`);
console.log(`wrote ${Object.keys(examples).length} notebooks to ${outDir}`);
