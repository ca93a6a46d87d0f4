import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineDocument, baselineFromRows } from '#core/drift/baseline';
import { runDriftEvaluate } from '../../../cli/commands/drift';
import { numbers } from './datasets';
import { captureLine } from './memory-store';

const dir = mkdtempSync(join(tmpdir(), 'nbops-drift-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function drift(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDriftEvaluate(args, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** A CSV with an id column (not a feature), two numeric and one text column. */
function csv(seed: number, n: number, shift: number, plans = ['basic', 'pro', 'team']): string {
  const tenure = numbers({ kind: 'integer-normal', seed, n, mean: 30 + shift, sd: 10 });
  const charges = numbers({ kind: 'normal', seed: seed + 1, n, mean: 70 + shift, sd: 15 });
  const lines = ['id,tenure,charges,plan'];
  for (let i = 0; i < n; i++)
    lines.push(`${i},${tenure[i]},${charges[i]!.toFixed(2)},"${plans[i % plans.length]}"`);
  return `${lines.join('\n')}\n`;
}

const reference = file('reference.csv', csv(1, 600, 0));
const same = file('same.csv', csv(11, 400, 0));
const shifted = file('shifted.csv', csv(21, 400, 8));
const features = file(
  'features.yaml',
  'features:\n  - {name: tenure, type: numeric}\n  - {name: charges, type: numeric}\n  - {name: plan, type: categorical}\n',
);

describe('nbops drift evaluate', () => {
  it('--json prints exactly the documented shape; no drift exits 0', async () => {
    const run = await drift(['--reference', reference, '--current', same, '--features', features, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(['features', 'datasetDrift']);
    expect(Object.keys(report.datasetDrift)).toEqual(['share', 'drifted']);
    for (const f of report.features) {
      expect(Object.keys(f)).toEqual([
        'name',
        'type',
        'method',
        'statistic',
        'pValue',
        'threshold',
        'drifted',
        'nReference',
        'nCurrent',
      ]);
    }
    expect(report.features.map((f: { name: string; method: string }) => [f.name, f.method])).toEqual([
      ['tenure', 'ks'],
      ['charges', 'ks'],
      ['plan', 'chi2'],
    ]);
    expect(report.features[0]).toMatchObject({ nReference: 600, nCurrent: 400, threshold: 0.05 });
    expect(report.datasetDrift).toEqual({ share: 0, drifted: false });
  });

  it('dataset drift exits 1; the text report has a table, the verdict and notes', async () => {
    const run = await drift(['--reference', reference, '--current', shifted, '--features', features]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^feature\s+type\s+method\s+statistic\s+p-value\s+threshold\s+drift\s+n ref\s+n cur\n/,
    );
    expect(run.stdout).toMatch(/\ntenure\s+numeric\s+ks\s+\S+\s+\S+\s+0\.05\s+DRIFT\s+600\s+400\n/);
    expect(run.stdout).toMatch(
      /dataset: 2 of 3 feature\(s\) drifted \(share 0\.6667, threshold 0\.5\): DRIFT\n$/,
    );
  });

  it('an explicit method and threshold apply to every feature; columns are typed from the data without --features', async () => {
    const run = await drift([
      '--reference',
      reference,
      '--current',
      shifted,
      '--method',
      'psi',
      '--threshold',
      '5',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(
      report.features.map(
        (f: { name: string; type: string; method: string; pValue: null; threshold: number }) => [
          f.name,
          f.type,
          f.method,
          f.pValue,
          f.threshold,
        ],
      ),
    ).toEqual([
      ['id', 'numeric', 'psi', null, 5],
      ['tenure', 'numeric', 'psi', null, 5],
      ['charges', 'numeric', 'psi', null, 5],
      ['plan', 'categorical', 'psi', null, 5],
    ]);
  });

  it('reads capture JSONL from a directory (payload columns in feature order) and reports skipped lines', async () => {
    const lines = (hour: string, offset: number) =>
      Array.from({ length: 150 }, (_, i) =>
        captureLine(
          `${30 + ((i + offset) % 20)},${(60 + i).toFixed(2)},${i % 2 ? 'pro' : 'basic'}`,
          `2025-01-01T${hour}:00:${String(i % 60).padStart(2, '0')}Z`,
        ),
      ).join('\n');
    file('capture/ep/AllTraffic/2025/01/01/10/a.jsonl', `${lines('10', 0)}\nnot json\n`);
    file('capture/ep/AllTraffic/2025/01/01/11/b.jsonl', lines('11', 5));
    file('capture/ep/AllTraffic/2025/01/01/11/notes.txt', 'ignored');
    const run = await drift([
      '--reference',
      reference,
      '--current',
      join(dir, 'capture'),
      '--features',
      features,
      '--json',
    ]);
    expect(run.code === 0 || run.code === 1).toBe(true);
    expect(run.stderr).toMatch(
      /skipped 1 capture line\(s\) or row\(s\):\n {2}1 x line is not valid JSON \(first: .*a\.jsonl:151\)/,
    );
    const report = JSON.parse(run.stdout);
    expect(report.features.map((f: { nCurrent: number }) => f.nCurrent)).toEqual([300, 300, 300]);
  });

  it('takes a baseline JSON as the reference (nbops-baseline/v1)', async () => {
    const spec = [
      { name: 'tenure', type: 'numeric' as const },
      { name: 'plan', type: 'categorical' as const },
    ];
    const rows = numbers({ kind: 'integer-normal', seed: 5, n: 3000, mean: 30, sd: 10 }).map((t, i) => [
      t,
      i % 2 ? 'pro' : 'basic',
    ]);
    const baseline = file('baseline.json', JSON.stringify(baselineDocument(baselineFromRows(rows, spec))));
    const run = await drift(['--reference', baseline, '--current', shifted, '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(
      report.features.map((f: { name: string; method: string; drifted: boolean }) => [
        f.name,
        f.method,
        f.drifted,
      ]),
    ).toEqual([
      ['tenure', 'wasserstein', true],
      ['plan', 'js', true],
    ]);
  });

  it('too few current rows: no verdict, exit 0, said plainly', async () => {
    const run = await drift([
      '--reference',
      reference,
      '--current',
      same,
      '--features',
      features,
      '--min-records',
      '1000',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /insufficient data: 400 current row\(s\), fewer than --min-records 1000; no drift verdict/,
    );
  });

  it('usage and input errors exit 2 with a message naming the problem and the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['--reference', join(dir, 'nope.csv'), '--current', same], /cannot read .*nope\.csv: no such file/],
      [
        ['--reference', reference, '--current', join(dir, 'missing-dir')],
        /cannot read .*missing-dir: no such file or directory/,
      ],
      [['--reference', reference, '--current', same, '--method', 'magic'], /argument 'magic' is invalid/],
      [
        ['--reference', reference, '--current', same, '--threshold', 'high'],
        /--threshold "high" is not a number >= 0/,
      ],
      [
        ['--reference', reference, '--current', same, '--dataset-share', '2'],
        /--dataset-share "2" is not a number between 0 and 1/,
      ],
      [
        ['--reference', reference, '--current', file('other.csv', 'a,b\n1,2\n'), '--features', features],
        /other\.csv has no column "tenure" \(columns: a, b\); add the column/,
      ],
      [
        [
          '--reference',
          reference,
          '--current',
          same,
          '--features',
          file('bad.yaml', '- {name: x, type: vector}\n'),
        ],
        /features\[0\] \("x"\) has type "vector"; set "type" to "numeric" or "categorical"/,
      ],
      [
        [
          '--reference',
          file('bad-baseline.json', '{"format": "nbops-baseline/v1", "features": []}'),
          '--current',
          same,
        ],
        /features: expected a non-empty list/,
      ],
      [
        ['--reference', file('empty.csv', ''), '--current', same],
        /empty\.csv is empty; the reference CSV needs a header row/,
      ],
      [['--current', same], /required option '--reference <file>' not specified/],
    ];
    for (const [args, message] of cases) {
      const run = await drift(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr).not.toMatch(/this is a bug|at .*\.ts:\d+/);
    }
  });

  it('a non-numeric value in a numeric reference column is an input error naming row and feature', async () => {
    const bad = file('bad-ref.csv', 'tenure,charges,plan\n1,2,a\nx,3,b\n');
    const run = await drift(['--reference', bad, '--current', same, '--features', features]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /bad-ref\.csv: reference row 2, feature "tenure": "x" is not a number; clean the value or declare the feature categorical/,
    );
  });
});
