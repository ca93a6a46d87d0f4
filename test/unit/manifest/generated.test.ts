import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOCS_PATH, fieldRows, renderManifestDocs } from '../../../scripts/generate-manifest-docs';
import { GENERATED, generate } from '../../../scripts/generate-types';

describe('generated files are current (run npm run gen:types / generate-manifest-docs when this fails)', () => {
  it('lists both the policy and the manifest schema', () => {
    expect(GENERATED.map((g) => g.schema)).toEqual(
      expect.arrayContaining(['schemas/policy.schema.json', 'schemas/manifest.schema.json']),
    );
  });

  for (const { schema, output } of GENERATED) {
    it(`${output} matches ${schema}`, async () => {
      expect(readFileSync(output, 'utf8')).toBe(await generate(schema));
    }, 20_000);
  }

  it('docs/manifest.md matches the schema, the example and the rule catalogues', () => {
    expect(readFileSync(DOCS_PATH, 'utf8')).toBe(renderManifestDocs());
  });

  it('documents every schema field with a description', () => {
    const rows = fieldRows();
    expect(rows.length).toBeGreaterThan(60);
    for (const row of rows) expect(row.description, row.path).not.toBe('');
    expect(rows.find((r) => r.path === 'deployment.bakeTime')).toMatchObject({
      type: 'duration',
      defaultValue: '10m',
    });
    expect(rows.find((r) => r.path === 'training.instanceType')).toMatchObject({ required: true });
  });
});
