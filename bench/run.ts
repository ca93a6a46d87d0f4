/**
 * `npm run bench [-- section...]`: performance targets from DESIGN.md, measured side by side in one
 * run. Sections: validate, drift, lambda, demo. Results are printed and written to bench/out/results.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDemo, printDemoBench } from './demo';
import { benchDrift, formatDriftBench } from './drift';
import { benchLambda, printLambdaBench } from './lambda';
import { benchValidate } from './validate';

// As bin/nbops.js: the pinned SDK supports Node 20; its warning about future releases is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const outDir = join(import.meta.dirname, 'out');
const wanted = process.argv.slice(2);
const want = (section: string) => wanted.length === 0 || wanted.includes(section);
const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
};
let failedTargets = 0;

if (want('validate')) {
  console.log(
    '\n== validation: nbops read+validateNotebook (all rules, secrets included) vs Python nbformat read+validate',
  );
  const { rows, notes } = await benchValidate(join(outDir, 'validate'));
  const header = [
    'file',
    'size MB',
    'nbops ms',
    'MB/s',
    'findings',
    'nbformat ms',
    'ratio',
    'parse ms',
    'ceiling',
    'jsonschema ms',
    'ratio',
  ];
  console.log(header.map((h) => h.padStart(14)).join(''));
  for (const r of rows) {
    const cells = [
      r.name,
      (r.bytes / 1024 / 1024).toFixed(1),
      r.nbopsMs.toFixed(1),
      r.nbopsMBps.toFixed(0),
      String(r.findings),
      r.nbformatMs?.toFixed(0) ?? '-',
      r.ratio ? `${r.ratio.toFixed(1)}x` : '-',
      r.parseMs.toFixed(1),
      r.ceiling ? `${r.ceiling.toFixed(1)}x` : '-',
      r.nbformatJsonschemaMs?.toFixed(0) ?? '-',
      r.ratioJsonschema ? `${r.ratioJsonschema.toFixed(1)}x` : '-',
    ];
    console.log(cells.map((c) => c.padStart(14)).join(''));
  }
  console.log(
    "  nbformat ms: read+validate with nbformat's default validator (fastjsonschema); jsonschema ms: with NBFORMAT_VALIDATOR=jsonschema.",
  );
  console.log(
    '  parse ms: reading the file and JSON.parse alone (same runs as nbops ms); ceiling: nbformat ms / parse ms, the best ratio any validator that parses the notebook could reach here.',
  );
  for (const n of notes) console.log(`  note: ${n}`);
  const errors50k = rows.find((r) => r.name === 'errors-50k');
  const slowest = rows
    .filter((r) => r.ratio !== undefined)
    .reduce((m, r) => Math.min(m, r.ratio!), Number.POSITIVE_INFINITY);
  const lowestCeiling = rows
    .filter((r) => r.ceiling !== undefined)
    .reduce((m, r) => Math.min(m, r.ceiling!), Number.POSITIVE_INFINITY);
  const targets = [
    {
      target: '50k-output notebook validated in < 250 ms',
      ok: (errors50k?.nbopsMs ?? Infinity) < 250,
      value: `${errors50k?.nbopsMs.toFixed(1)} ms`,
    },
    {
      target: '>= 20x faster than nbformat on every file',
      ok: slowest >= 20,
      value: Number.isFinite(slowest)
        ? `min ${slowest.toFixed(1)}x (reading + JSON.parse alone: min ${lowestCeiling.toFixed(1)}x)`
        : 'not measured',
    },
  ];
  for (const t of targets) {
    console.log(`  target ${t.ok ? 'MET ' : 'MISSED'}  ${t.target}: ${t.value}`);
    if (!t.ok) failedTargets++;
  }
  results.validate = { rows, notes, targets };
}

if (want('drift')) {
  console.log(
    '\n== drift: 1M captured records x 10 features through the capture reader, child process on one core',
  );
  const drift = await benchDrift(join(outDir, 'drift'));
  for (const line of formatDriftBench(drift)) console.log(line);
  failedTargets += drift.targets.filter((t) => !t.ok).length;
  results.drift = drift;
}

if (want('lambda')) {
  console.log('\n== lambda: handler bundle size and module init (fresh Node process each)');
  const lambda = await benchLambda(join(outDir, 'lambda'));
  failedTargets += printLambdaBench(lambda);
  results.lambda = lambda;
}

if (want('demo')) {
  console.log('\n== demo: the local main job, submit to a serving endpoint (nbops demo, time per stage)');
  const demo = await benchDemo(join(outDir, 'demo'));
  failedTargets += printDemoBench(demo);
  results.demo = demo;
}

writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults written to ${join(outDir, 'results.json')}`);
process.exitCode = failedTargets > 0 ? 1 : 0;
