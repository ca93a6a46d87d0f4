/**
 * Deterministic synthetic notebooks for benchmarks: realistic mixes of code, markdown, stream text,
 * HTML tables and base64 images, or one cell per block of error outputs (the nbformat#190 case).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'model data train loss epoch feature churn customer value score batch tensor gradient metric'.split(' ');

function exampleManifest(): unknown {
  return parseYaml(readFileSync(new URL('../examples/churn/manifest.yaml', import.meta.url), 'utf8'));
}

function base(cells: unknown[]): Record<string, unknown> {
  return {
    cells,
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python', version: '3.11.7' },
      nbops: exampleManifest(),
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

const parametersCell = {
  id: 'parameters',
  cell_type: 'code',
  metadata: { tags: ['parameters'] },
  source: ['epochs = 200\n', 'learning_rate = 0.1\n', 'seed = 42\n', 'n_rows = 5000\n'],
  outputs: [],
  execution_count: null,
};

/** A notebook of about `targetBytes` with code, markdown, stream, HTML and image outputs. */
export function mixedNotebook(targetBytes: number, seed = 1): string {
  const rand = rng(seed);
  const word = () => WORDS[Math.floor(rand() * WORDS.length)];
  const cells: unknown[] = [parametersCell];
  let size = 2000;
  let n = 0;
  while (size < targetBytes) {
    n++;
    const md = {
      id: `md-${n}`,
      cell_type: 'markdown',
      metadata: {},
      source: [`## Step ${n}\n`, `We ${word()} the ${word()}.`],
    };
    const lines = Array.from({ length: 8 }, (_, i) => `x_${i} = compute_${word()}(data, seed=seed + ${i})\n`);
    const outputs: unknown[] = [
      {
        output_type: 'stream',
        name: 'stdout',
        text: Array.from({ length: 20 }, () => `${word()} ${rand().toFixed(6)}\n`),
      },
      {
        output_type: 'execute_result',
        execution_count: n,
        metadata: {},
        data: {
          'text/plain': [`<table ${n}>`],
          'text/html': [
            `<table>${Array.from({ length: 30 }, () => `<tr><td>${word()}</td><td>${rand().toFixed(4)}</td></tr>`).join('')}</table>`,
          ],
        },
      },
    ];
    if (n % 5 === 0) {
      const bytes = Buffer.alloc(40_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      outputs.push({
        output_type: 'display_data',
        metadata: {},
        data: { 'image/png': bytes.toString('base64'), 'text/plain': ['<Figure>'] },
      });
    }
    const code = {
      id: `code-${n}`,
      cell_type: 'code',
      metadata: {},
      source: lines,
      outputs,
      execution_count: n,
    };
    const chunk = JSON.stringify([md, code]);
    size += chunk.length;
    cells.push(md, code);
  }
  return `${JSON.stringify(base(cells), null, 1)}\n`;
}

/** A notebook whose code cells hold `totalErrors` error outputs with ANSI-coloured tracebacks. */
export function errorOutputsNotebook(totalErrors: number, perCell = 1000, seed = 2): string {
  const rand = rng(seed);
  const cells: unknown[] = [parametersCell];
  for (let c = 0; c * perCell < totalErrors; c++) {
    const outputs = [];
    for (let i = 0; i < perCell && c * perCell + i < totalErrors; i++) {
      const line = Math.floor(rand() * 400);
      outputs.push({
        output_type: 'error',
        ename: 'ValueError',
        evalue: `bad value ${line}`,
        // One coloured line, as a failing loop prints: ~180 bytes per output once saved with
        // Jupyter's indentation, so 50,000 make the ~8 MB notebook of nbformat#190.
        traceback: [`\u001b[0;31mValueError\u001b[0m: bad value ${line}`],
      });
    }
    cells.push({
      id: `err-${c}`,
      cell_type: 'code',
      metadata: {},
      source: ['raise ValueError(x)\n'],
      outputs,
      execution_count: c + 1,
    });
  }
  return `${JSON.stringify(base(cells), null, 1)}\n`;
}
