/**
 * Measures the secrets family on synthetic notebooks with 50,000 outputs. A script, not a test:
 *   npx tsx test/unit/validation/secrets/scan-perf.ts [errors|errors-per-cell|json]
 * Bundled the way Lambda code is (no tsx hooks), figures are closer to production:
 *   npx esbuild test/unit/validation/secrets/scan-perf.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/scan-perf.mjs && node /tmp/scan-perf.mjs
 * The whole validator's budget for the 50,000-error notebook is 250 ms, about 80 ms of it JSON.parse.
 *
 * Scenarios:
 * - errors (default): 5,000 cells of 10 short error outputs each, IPython-style tracebacks with
 *   ANSI colour codes, realistic messages (KeyError, ValueError, …); about 10 MB.
 * - errors-per-cell: the same outputs, one per cell (as real notebooks hold them); about 17 MB.
 * - json: 50,000 execute_result outputs with text/plain and application/json; about 11 MB.
 */
import { performance } from 'node:perf_hooks';
import type { CheckContext } from '#core/validation/family';
import type { Finding } from '#core/validation/finding';
import { secretsFamily } from '#core/validation/secrets';

const OUTPUTS = 50_000;
const RED = '\u001b[0;31m';
const GREEN = '\u001b[0;32m';
const RESET = '\u001b[0m';
const ERRORS: [string, (k: number) => string][] = [
  ['KeyError', (k) => `'feature_${k % 37}'`],
  ['ValueError', () => "could not convert string to float: 'n/a'"],
  ['ZeroDivisionError', () => 'division by zero'],
  ['TypeError', () => "can only concatenate str (not 'int') to str"],
  ['FileNotFoundError', (k) => `[Errno 2] No such file or directory: 'part-${k % 100}.csv'`],
];

function errorOutput(k: number): unknown {
  const [ename, evalueOf] = ERRORS[k % ERRORS.length]!;
  const evalue = evalueOf(k);
  return {
    output_type: 'error',
    ename,
    evalue,
    // One traceback in eight also shows the failing line, as IPython does.
    traceback:
      k % 8 !== 7
        ? [`${RED}${ename}${RESET}: ${evalue}`]
        : [
            `Cell ${GREEN}In[${k % 90}], line ${(k % 7) + 1}${RESET}\n----> 1 run(df)`,
            `${RED}${ename}${RESET}: ${evalue}`,
          ],
  };
}

function jsonOutput(k: number): unknown {
  return {
    output_type: 'execute_result',
    execution_count: k,
    metadata: {},
    data: {
      'text/plain': `{'epoch': ${k % 50}, 'loss': 0.${k % 997}, 'run': 'churn-${k % 13}'}`,
      'application/json': { epoch: k % 50, loss: k / 1e5, run: `churn-${k % 13}`, tags: ['baseline', 'gpu'] },
    },
  };
}

function syntheticNotebook(perCell: number, output: (k: number) => unknown): unknown {
  const cells = [];
  for (let c = 0; c * perCell < OUTPUTS; c++) {
    const first = c * perCell;
    cells.push({
      cell_type: 'code',
      id: `cell-${c}`,
      metadata: {},
      execution_count: c + 1,
      source: ['for path in paths:\n', '    df = load(path)\n', '    run(df[cols])'],
      outputs: Array.from({ length: Math.min(perCell, OUTPUTS - first) }, (_, j) => output(first + j)),
    });
  }
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells,
  };
}

const scenario = process.argv[2] ?? 'errors';
const built =
  scenario === 'json'
    ? syntheticNotebook(10, jsonOutput)
    : syntheticNotebook(scenario === 'errors-per-cell' ? 1 : 10, errorOutput);
const text = JSON.stringify(built);

const time = (f: () => void): number => {
  const start = performance.now();
  f();
  return performance.now() - start;
};

let notebook: unknown;
const firstParseMs = time(() => {
  notebook = JSON.parse(text);
});
const findings: Finding[] = [];
const ctx: CheckContext = {
  notebook,
  text,
  policy: {},
  report: (f) => findings.push({ ...f, severity: f.severity ?? 'error' }),
};

// The first scan is the one a Lambda invocation pays (code not yet optimised). Later runs
// alternate JSON.parse and the scan, so both see the same machine load; minimum and median.
const firstScanMs = time(() => secretsFamily.check(ctx));
const parse: number[] = [];
const scan: number[] = [];
for (let i = 0; i < 20; i++) {
  parse.push(time(() => JSON.parse(text)));
  findings.length = 0;
  scan.push(time(() => secretsFamily.check(ctx)));
}
const min = (xs: number[]) => Math.round(Math.min(...xs));
const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
console.log(
  JSON.stringify({
    scenario,
    notebookBytes: Buffer.byteLength(text),
    outputs: OUTPUTS,
    jsonParseMs: { first: Math.round(firstParseMs), min: min(parse), median: median(parse) },
    secretsScanMs: { first: Math.round(firstScanMs), min: min(scan), median: median(scan) },
    findings: findings.length,
  }),
);
