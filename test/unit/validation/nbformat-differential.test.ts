/**
 * Differential test: nbops' structure rules against Python nbformat, the reference implementation.
 * On a deterministic generated corpus, nbops must report an NB error exactly where
 * nbformat.validate raises, and near the path nbformat names.
 *
 * Intended disagreements (each asserted below, so a change on either side is noticed):
 * - Duplicate JSON keys: Python's json keeps the last one silently, so nbformat accepts the file;
 *   nbops reports NB-008 because the author cannot see which value runs.
 * - NaN / Infinity literals: Python's json reads them; they are not JSON (RFC 8259) and JSON.parse
 *   rejects them, so nbops reports NB-001 with a hint to write null.
 * - A whole number written with a fraction (`"execution_count": 3.0`): nbformat's draft-4 schema
 *   rejects the float; JSON has one number type and JSON.parse yields 3, so nbops accepts it.
 * - Warnings and information (missing kernelspec, widgets without state, unusual stream names,
 *   newer minor version) are not errors, so they never count as disagreement.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/validation/finding';
import { parseNotebook } from '#core/validation/parse';
import { structureFamily, structureRules } from '#core/validation/structure';
import { corpus } from './gen-notebooks';

const ORACLE = fileURLToPath(new URL('../../../scripts/nbformat_oracle.py', import.meta.url));
const SEED = 20240501;
const CORPUS_SIZE = 360;

interface Verdict {
  valid: boolean;
  error: string | null;
  path: (string | number)[] | null;
}

/** The first interpreter that can import nbformat: $NBOPS_PYTHON, /usr/bin/python3, python3. */
function findPython(): string | undefined {
  const candidates = [process.env.NBOPS_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => !!c,
  );
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import nbformat'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const python = findPython();
if (!python) {
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '!! SKIPPED: nbformat differential test. No Python interpreter can `import nbformat`.',
      '!! Install it (`apt-get install python3-nbformat`, or `pip install nbformat`) or',
      '!! point NBOPS_PYTHON at an interpreter that has it.',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

/** Verdicts for notebooks given as JSON texts (texts, not values, so raw-text cases can be sent). */
function oracle(texts: string[]): Verdict[] {
  const run = spawnSync(python!, [ORACLE], {
    input: `[${texts.join(',\n')}]`,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`nbformat oracle failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Verdict[];
}

const SEVERITY = new Map(structureRules.map((r) => [r.id, r.defaultSeverity]));

/** nbops' reading of the text: parser, then the structure family. */
function nbopsFindings(text: string): Finding[] {
  const outcome = parseNotebook(text, { maxBytes: 50 * 1024 * 1024 });
  if (!outcome.ok) return outcome.findings;
  const findings = [...outcome.findings];
  structureFamily.check({
    notebook: outcome.value,
    text: outcome.text,
    policy: {},
    report: (f) => findings.push({ ...f, severity: f.severity ?? SEVERITY.get(f.rule) ?? 'error' }),
  });
  return findings;
}

const nbErrors = (findings: Finding[]) =>
  findings.filter((f) => f.severity === 'error' && f.rule.startsWith('NB-'));

const toPointer = (path: (string | number)[]) =>
  path.map((t) => `/${String(t).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** One pointer contains the other: both name the same spot at different precision. */
const related = (a: string, b: string) =>
  a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`) || a === '' || b === '';

describe.skipIf(!python)('nbops structure rules agree with Python nbformat', () => {
  const entries = corpus(SEED, CORPUS_SIZE);
  const verdicts = python ? oracle(entries.map((e) => JSON.stringify(e.notebook))) : [];

  it('runs on a corpus with both valid and invalid notebooks', () => {
    expect(verdicts).toHaveLength(entries.length);
    const rejected = verdicts.filter((v) => !v.valid).length;
    expect(rejected).toBeGreaterThan(CORPUS_SIZE / 3);
    expect(CORPUS_SIZE - rejected).toBeGreaterThan(CORPUS_SIZE / 4);
  });

  it('reports an NB error exactly where nbformat rejects the notebook', () => {
    const disagreements: string[] = [];
    entries.forEach((entry, k) => {
      const verdict = verdicts[k]!;
      const errors = nbErrors(nbopsFindings(JSON.stringify(entry.notebook)));
      if (verdict.valid === (errors.length === 0)) return;
      disagreements.push(
        `${entry.name}: nbformat ${verdict.valid ? 'accepts' : `rejects (${verdict.error})`}, nbops ` +
          (errors.length === 0
            ? 'accepts'
            : `reports ${errors.map((f) => `${f.rule} ${f.location.pointer}`).join(', ')}`),
      );
    });
    expect(disagreements).toEqual([]);
  });

  it('points at or around the path nbformat names', () => {
    const misplaced: string[] = [];
    entries.forEach((entry, k) => {
      const { valid, path } = verdicts[k]!;
      if (valid || !path) return;
      const expected = toPointer(path);
      const errors = nbErrors(nbopsFindings(JSON.stringify(entry.notebook)));
      if (!errors.some((f) => related(f.location.pointer, expected)))
        misplaced.push(
          `${entry.name}: nbformat at ${expected}, nbops at ${errors.map((f) => f.location.pointer).join(', ')}`,
        );
    });
    expect(misplaced).toEqual([]);
  });

  it('agrees with the generator about which mutations break a notebook', () => {
    // Guards the corpus itself: a mutation labelled "error" must really be invalid for nbformat.
    const mislabelled = entries.flatMap((entry, k) => {
      const expectsError = entry.expect !== 'valid' && entry.expect.severity === 'error';
      return expectsError === !verdicts[k]!.valid ? [] : [entry.name];
    });
    expect(mislabelled).toEqual([]);
  });

  it('disagrees only where intended: duplicate keys, NaN, whole-number floats', () => {
    const base = JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
      cells: [
        { id: 'a', cell_type: 'code', metadata: { x: 1 }, source: '', outputs: [], execution_count: 2 },
      ],
    });
    const duplicate = base.replace('"source":""', '"source":"print(1)","source":""');
    const nan = base.replace('"x":1', '"x":NaN');
    const float = base.replace('"execution_count":2', '"execution_count":2.0');
    expect(new Set([base, duplicate, nan, float]).size).toBe(4);

    const [vBase, vDuplicate, vNan, vFloat] = oracle([base, duplicate, nan, float]);
    expect(vBase!.valid).toBe(true);
    expect(nbErrors(nbopsFindings(base))).toEqual([]);

    expect(vDuplicate!.valid).toBe(true);
    expect(nbErrors(nbopsFindings(duplicate)).map((f) => f.rule)).toEqual(['NB-008']);

    expect(vNan!.valid).toBe(true);
    expect(nbErrors(nbopsFindings(nan)).map((f) => f.rule)).toEqual(['NB-001']);

    expect(vFloat!.valid).toBe(false);
    expect(nbErrors(nbopsFindings(float))).toEqual([]);
  });
});
