/** Shared fixtures: the example churn manifest, notebooks around it, and a family runner. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { readManifest, type Sidecar } from '#core/manifest/read';
import type { Policy } from '#core/policy/policy';
import { resolvePolicy } from '#core/policy/policy';
import type { CheckContext, RuleFamilyModule } from '#core/validation/family';
import type { Finding } from '#core/validation/finding';

/** Test fixtures are mutated freely to build each case. */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited field by field in tests
export type Json = any;

export const EXAMPLE_PATH = 'examples/churn/manifest.yaml';
export const exampleText = readFileSync(EXAMPLE_PATH, 'utf8');

/** A fresh copy of the example manifest (safe to mutate). */
export function example(): Json {
  return parse(exampleText);
}

export function notebook(
  manifest?: unknown,
  parametersSource = 'epochs = 200\nlearning_rate = 0.1\nseed = 42\nn_rows = 5000\n',
): Json {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' },
      ...(manifest === undefined ? {} : { nbops: manifest }),
    },
    cells: [
      { id: 'intro', cell_type: 'markdown', metadata: {}, source: '# Churn' },
      {
        id: 'params',
        cell_type: 'code',
        metadata: { tags: ['parameters'] },
        source: parametersSource,
        outputs: [],
        execution_count: null,
      },
      {
        id: 'train',
        cell_type: 'code',
        metadata: {},
        source: 'print(epochs)',
        outputs: [],
        execution_count: null,
      },
    ],
  };
}

/** Runs the reader and then the given families, as the validator does; returns every finding. */
export function run(
  families: RuleFamilyModule[],
  nb: unknown,
  options: { sidecar?: Sidecar; policy?: Policy } = {},
): { findings: Finding[]; ctx: CheckContext } {
  const specs = new Map(families.flatMap((f) => f.rules).map((r) => [r.id, r]));
  const { source, findings } = readManifest(nb, options.sidecar);
  const ctx: CheckContext = {
    notebook: nb,
    text: jsonText(nb),
    policy: resolvePolicy(options.policy),
    report: (f) =>
      findings.push({ ...f, severity: f.severity ?? specs.get(f.rule)?.defaultSeverity ?? 'error' }),
  };
  if (source) ctx.manifest = source;
  for (const family of families) family.check(ctx);
  return { findings, ctx };
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return ''; // deeply nested fixtures: the manifest and policy families do not read the text
  }
}

export const rulesOf = (findings: Finding[]) => findings.map((f) => f.rule);
