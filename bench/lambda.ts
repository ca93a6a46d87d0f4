/**
 * Lambda bench: per handler, the deployed bundle's size (target < 1.5 MB) and its module init time
 * (target < 250 ms), measured by importing the built bundle in a fresh Node process with a Lambda-like
 * environment, as a cold start does. The child process refuses network connections and counts the
 * attempts: module init must make no AWS calls.
 *
 * Node here is 20; Lambda runs the bundle on Node 24 (arm64). Init time on Lambda also includes
 * fetching the code package, which this does not measure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleHandler, handlersWithCode, MAX_BUNDLE_BYTES } from '../infra/lib/bundle';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Module init must stay under this (DESIGN.md). */
export const MAX_INIT_MS = 250;
/** Fresh processes per handler; the median is reported. */
const RUNS = 5;

export interface LambdaBenchRow {
  handler: string;
  bundleBytes: number;
  mapBytes: number;
  /** Median time to import the bundle (module init), ms. */
  initMs: number;
  /** Slowest of the runs, ms. */
  initMaxMs: number;
  /** Network connections attempted during import (must be 0). */
  networkAttempts: number;
}

export interface LambdaBenchResult {
  rows: LambdaBenchRow[];
  targets: { target: string; ok: boolean; value: string }[];
  notes: string[];
}

// Runs in the child: block and count network use, import the bundle, report the import time.
const LOADER = `
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns';
import { pathToFileURL } from 'node:url';
let attempts = 0;
const refuse = () => { attempts++; throw new Error('network access during module init'); };
net.Socket.prototype.connect = refuse;
net.connect = net.createConnection = refuse;
tls.connect = refuse;
dns.lookup = refuse;
const started = performance.now();
const mod = await import(pathToFileURL(process.argv[2]).href);
const initMs = performance.now() - started;
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler');
process.stdout.write(JSON.stringify({ initMs, attempts }));
`;

/** What Lambda sets (and what the stack sets) that module code may read at import. */
function lambdaEnvironment(handler: string, taskRoot: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `nbops-${handler}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: 'index.handler',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    NODE_OPTIONS: '--enable-source-maps',
    NBOPS_BUCKET: 'nbops-bench',
    NBOPS_TABLE: 'nbops-bench-registry',
    NBOPS_IDEMPOTENCY_TABLE: 'nbops-bench-idempotency',
    NBOPS_EVENT_BUS: 'nbops-bench',
    NBOPS_PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:page',
    NBOPS_TICKET_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ticket',
    NBOPS_RUNTIME_HASH: '0'.repeat(64),
    NBOPS_POLICY: '{}',
    POWERTOOLS_SERVICE_NAME: handler,
    POWERTOOLS_METRICS_NAMESPACE: 'nbops',
  };
}

export async function benchLambda(outDir: string): Promise<LambdaBenchResult> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const loader = join(outDir, 'load.mjs');
  writeFileSync(loader, LOADER);
  const handlers = handlersWithCode(ROOT);
  const rows: LambdaBenchRow[] = [];
  for (const handler of handlers) {
    const bundle = await bundleHandler(ROOT, handler, outDir);
    const runs: { initMs: number; attempts: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const output = execFileSync(process.execPath, ['--enable-source-maps', loader, bundle.file], {
        env: lambdaEnvironment(handler, dirname(bundle.file)),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      runs.push(JSON.parse(output));
    }
    const times = runs.map((r) => r.initMs).sort((a, b) => a - b);
    rows.push({
      handler,
      bundleBytes: bundle.bytes,
      mapBytes: bundle.mapBytes,
      initMs: times[Math.floor(times.length / 2)]!,
      initMaxMs: times[times.length - 1]!,
      networkAttempts: Math.max(...runs.map((r) => r.attempts)),
    });
  }
  const largest = rows.reduce((m, r) => Math.max(m, r.bundleBytes), 0);
  const slowest = rows.reduce((m, r) => Math.max(m, r.initMs), 0);
  const calls = rows.reduce((n, r) => n + r.networkAttempts, 0);
  return {
    rows,
    targets: [
      {
        target: 'every handler bundle < 1.5 MB',
        ok: rows.length > 0 && largest < MAX_BUNDLE_BYTES,
        value: `largest ${(largest / 1024 / 1024).toFixed(2)} MB`,
      },
      {
        target: `module init < ${MAX_INIT_MS} ms (median of ${RUNS} fresh processes)`,
        ok: rows.length > 0 && slowest < MAX_INIT_MS,
        value: `slowest ${slowest.toFixed(0)} ms`,
      },
      { target: 'no network calls during module init', ok: calls === 0, value: `${calls} attempts` },
    ],
    notes: [
      `Node ${process.version} here; Lambda runs the bundle on Node 24 (arm64).`,
      `Handlers without code yet are not measured (functions/<handler>/index.ts): ${
        rows.length === 0 ? 'none found' : `measured ${handlers.join(', ')}`
      }.`,
    ],
  };
}

/** Prints the result the way bench/run.ts prints its sections. */
export function printLambdaBench(result: LambdaBenchResult): number {
  const header = ['handler', 'bundle MB', 'map MB', 'init ms', 'max ms', 'net calls'];
  console.log(header.map((h) => h.padStart(14)).join(''));
  for (const r of result.rows) {
    const cells = [
      r.handler,
      (r.bundleBytes / 1024 / 1024).toFixed(2),
      (r.mapBytes / 1024 / 1024).toFixed(2),
      r.initMs.toFixed(0),
      r.initMaxMs.toFixed(0),
      String(r.networkAttempts),
    ];
    console.log(cells.map((c) => c.padStart(14)).join(''));
  }
  for (const n of result.notes) console.log(`  note: ${n}`);
  let failed = 0;
  for (const t of result.targets) {
    console.log(`  target ${t.ok ? 'MET ' : 'MISSED'}  ${t.target}: ${t.value}`);
    if (!t.ok) failed++;
  }
  return failed;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await benchLambda(join(ROOT, 'bench', 'out', 'lambda'));
  process.exitCode = printLambdaBench(result) > 0 ? 1 : 0;
}
