/**
 * Generates TypeScript types from the JSON Schemas in schemas/ (the single source of truth).
 *   npm run gen:types            # rewrite the generated files
 *   npm run gen:types -- --check # exit 1 when a generated file is stale (also a unit test)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** schema file -> generated TypeScript file */
export const GENERATED: { schema: string; output: string }[] = [
  { schema: 'schemas/policy.schema.json', output: 'layers/core/policy/policy.generated.ts' },
  { schema: 'schemas/manifest.schema.json', output: 'layers/core/manifest/manifest.generated.ts' },
];

export async function generate(schemaPath: string): Promise<string> {
  const schema = JSON.parse(readFileSync(join(repoRoot, schemaPath), 'utf8'));
  const ts = await compile(schema, schema.title ?? 'Schema', {
    bannerComment: `/* Generated from ${schemaPath} by scripts/generate-types.ts. Do not edit: change the schema and run npm run gen:types. */`,
    cwd: join(repoRoot, 'schemas'),
    additionalProperties: false,
    strictIndexSignatures: true,
    unreachableDefinitions: true,
    format: false,
  });
  return ts;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { schema, output } of GENERATED) {
    const fresh = await generate(schema);
    const path = join(repoRoot, output);
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {}
      if (current !== fresh) {
        console.error(`${output} is stale: run npm run gen:types`);
        stale++;
      }
    } else {
      writeFileSync(path, fresh);
      console.log(`wrote ${output}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
