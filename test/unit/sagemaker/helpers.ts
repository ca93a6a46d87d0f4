/** The example manifest as a BuildContext, for request-builder tests (safe to mutate). */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { applyManifestDefaults, type ResolvedManifest, validateManifestShape } from '#core/manifest/schema';
import { type Policy, resolvePolicy } from '#core/policy/policy';
import type { BuildContext } from '#core/sagemaker/context';

const exampleText = readFileSync('examples/churn/manifest.yaml', 'utf8');

/** The example manifest as written (plain data), to edit before resolving. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field in tests
export function rawExample(): any {
  return parse(exampleText);
}

export function resolve(raw: unknown): ResolvedManifest {
  const shape = validateManifestShape(raw);
  if (!shape.ok) throw new Error(`fixture manifest is not schema-valid: ${JSON.stringify(shape.errors)}`);
  return applyManifestDefaults(shape.value);
}

export function context(
  edit: (raw: ReturnType<typeof rawExample>) => void = () => {},
  options: { version?: number; policy?: Policy } = {},
): BuildContext {
  const raw = rawExample();
  edit(raw);
  const manifest = resolve(raw);
  return {
    model: manifest.model.name,
    version: options.version ?? 1,
    manifest,
    policy: resolvePolicy(options.policy),
    notebook: { file: 'churn.ipynb', sha256: 'c0ffee00'.repeat(8) },
    runtime: { hash: 'beef'.repeat(16) },
    owner: manifest.model.owner,
  };
}
