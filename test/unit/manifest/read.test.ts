import { describe, expect, it } from 'vitest';
import { embedManifest, readManifest } from '#core/manifest/read';
import { example, exampleText, type Json, notebook, rulesOf } from './helpers';

const sidecar = (text: string, path = 'churn.nbops.yaml') => ({ path, text });

describe('readManifest', () => {
  it('reads metadata.nbops', () => {
    const { source, findings } = readManifest(notebook(example()));
    expect(findings).toEqual([]);
    expect(source).toMatchObject({ origin: 'metadata', pointer: '/metadata/nbops', raw: example() });
  });

  it('reads a YAML sidecar when the metadata has none, with a line for every field', () => {
    const { source, findings } = readManifest(notebook(), sidecar(exampleText));
    expect(findings).toEqual([]);
    expect(source).toMatchObject({
      origin: 'sidecar',
      pointer: '',
      file: 'churn.nbops.yaml',
      raw: example(),
    });
    const lines = exampleText.split('\n');
    const lineOf = (pointer: string) => source!.lineOf!(pointer)!;
    expect(lines[lineOf('/training/instanceType') - 1]).toContain('instanceType: ml.g5.xlarge');
    expect(lines[lineOf('/metrics/1/name') - 1]).toContain('- name: validation:accuracy');
    expect(lines[lineOf('/serving/features/3/type') - 1]).toContain('name: contract');
    expect(lines[lineOf('/drift/schedule') - 1]).toContain('schedule: rate(1 hour)');
    // a field that is absent maps to its nearest present parent
    expect(lineOf('/training/cellTimeout')).toBe(lineOf('/training'));
  });

  it('reads a JSON sidecar, including tab-indented JSON', () => {
    const text = JSON.stringify(example(), null, '\t');
    const { source, findings } = readManifest(notebook(), sidecar(text, 'churn.nbops.json'));
    expect(findings).toEqual([]);
    expect(source?.raw).toEqual(example());
    const broken = readManifest(
      notebook(),
      sidecar('{\n  "apiVersion": "nbops/v1"\n  "model": {}\n}\n', 'churn.nbops.json'),
    );
    expect(broken.source).toBeUndefined();
    expect(broken.findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-002',
        location: expect.objectContaining({ file: 'churn.nbops.json', line: 3 }),
      }),
    ]);
  });

  it('prefers metadata over a sidecar and says so (MAN-009)', () => {
    const { source, findings } = readManifest(notebook(example()), sidecar(exampleText));
    expect(source?.origin).toBe('metadata');
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-009',
        severity: 'warning',
        message: expect.stringContaining('metadata.nbops is used and the sidecar is ignored'),
        location: expect.objectContaining({ file: 'churn.nbops.yaml' }),
      }),
    ]);
  });

  it('reports YAML syntax errors with their line (MAN-002)', () => {
    const text = 'apiVersion: nbops/v1\nmodel:\n  name: churn\n  name: again\ntraining: [\n';
    const { source, findings } = readManifest(notebook(), sidecar(text));
    expect(source).toBeUndefined();
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({
      rule: 'MAN-002',
      severity: 'error',
      location: { file: 'churn.nbops.yaml', line: 4 },
    });
    expect(findings[0]!.message).toMatch(/not valid YAML \(line 4\)/);
    expect(findings[0]!.snippet).toBe('  name: again');
    expect(rulesOf(findings)).not.toContain('MAN-001');
  });

  it('refuses alias bombs and pathological nesting without throwing', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
          .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
          .join(', ')}]`,
      );
    const result = readManifest(notebook(), sidecar(bomb.join('\n')));
    expect(rulesOf(result.findings)).toEqual(['MAN-002']);
    for (const text of [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, `${'- '.repeat(5000)}x`]) {
      const deep = readManifest(notebook(), sidecar(text));
      expect(deep.source).toBeUndefined();
      expect(deep.findings).toEqual([
        expect.objectContaining({
          rule: 'MAN-002',
          message: expect.stringContaining('nests more than 200 levels'),
        }),
      ]);
    }
  });

  it('reports no manifest at all (MAN-001) with how to add one', () => {
    const { source, findings } = readManifest(notebook());
    expect(source).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'MAN-001', severity: 'error', location: { pointer: '/metadata' } }),
    ]);
    expect(findings[0]!.fix).toContain('nbops manifest embed');
  });

  it.each([
    [
      'metadata.nbops_manifest',
      (nb: Json) => (nb.metadata.nbops_manifest = example()),
      '/metadata/nbops_manifest',
    ],
    [
      'metadata.manifest with apiVersion nbops/v1',
      (nb: Json) => (nb.metadata.manifest = example()),
      '/metadata/manifest',
    ],
    ['metadata.NBOps', (nb: Json) => (nb.metadata.NBOps = {}), '/metadata/NBOps'],
    [
      'metadata.jupyter.nbops',
      (nb: Json) => (nb.metadata.jupyter = { nbops: example() }),
      '/metadata/jupyter/nbops',
    ],
    [
      'a cell metadata.nbops',
      (nb: Json) => (nb.cells[1].metadata.nbops = example()),
      '/cells/1/metadata/nbops',
    ],
    ['a top-level nbops key', (nb: Json) => (nb.nbops = example()), '/nbops'],
    [
      'a raw cell',
      (nb: Json) => nb.cells.push({ id: 'r', cell_type: 'raw', metadata: {}, source: exampleText }),
      '/cells/3/source',
    ],
  ])('recognises a manifest in %s (MAN-008) and says where it must go', (_, misplace, pointer) => {
    const nb = notebook();
    misplace(nb);
    const { source, findings } = readManifest(nb);
    expect(source).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-008',
        severity: 'error',
        location: expect.objectContaining({ pointer }),
      }),
    ]);
    expect(findings[0]!.message).toContain('it must be in the notebook metadata under "nbops"');
  });

  it('warns about a leftover misplaced manifest when a real one exists', () => {
    const nb = notebook(example());
    nb.cells[0].metadata.nbops = { old: true };
    const { source, findings } = readManifest(nb);
    expect(source?.origin).toBe('metadata');
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-008',
        severity: 'warning',
        location: { pointer: '/cells/0/metadata/nbops', cell: 0 },
      }),
    ]);
  });

  it('recognises a sidecar that wraps its fields in nbops:', () => {
    const wrapped = `nbops:\n${exampleText.replace(/^(?=.)/gm, '  ')}`;
    const { source, findings } = readManifest(notebook(), sidecar(wrapped));
    expect(source).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-008',
        location: { pointer: '/nbops', file: 'churn.nbops.yaml', line: 1 },
      }),
    ]);
  });

  it.each([null, 'text', [1, 2], 42])('never throws on a notebook that is %j', (nb) => {
    expect(() => readManifest(nb)).not.toThrow();
    expect(rulesOf(readManifest(nb).findings)).toEqual(['MAN-001']);
    expect(readManifest(nb, sidecar(exampleText)).source?.origin).toBe('sidecar');
  });

  it('keeps a non-object metadata.nbops as the source, for the schema to explain', () => {
    const { source, findings } = readManifest(notebook('{"apiVersion": "nbops/v1"}'));
    expect(findings).toEqual([]);
    expect(source?.raw).toBe('{"apiVersion": "nbops/v1"}');
  });
});

describe('embedManifest', () => {
  it('returns a new notebook with metadata.nbops set, leaving the input untouched', () => {
    const nb = notebook();
    const before = structuredClone(nb);
    const embedded = embedManifest(nb, example()) as Json;
    expect(nb).toEqual(before);
    expect(embedded.metadata.nbops).toEqual(example());
    expect(embedded.metadata.kernelspec).toEqual(nb.metadata.kernelspec);
    expect(embedded.cells).toBe(nb.cells);
    expect(readManifest(embedded).source?.raw).toEqual(example());
  });

  it('replaces an existing manifest and creates missing metadata', () => {
    expect((embedManifest(notebook({ old: 1 }), { apiVersion: 'nbops/v1' }) as Json).metadata.nbops).toEqual({
      apiVersion: 'nbops/v1',
    });
    expect(embedManifest({ cells: [] }, { a: 1 })).toEqual({ cells: [], metadata: { nbops: { a: 1 } } });
  });

  it('refuses something that is not a notebook object', () => {
    expect(() => embedManifest([1], {})).toThrow(/not a JSON object/);
  });
});
