/** `nbops manifest embed|show`: move a manifest into notebook metadata, or print the one a notebook carries. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { embedManifest, readManifest } from '#core/manifest/read';
import { applyManifestDefaults, validateManifestShape } from '#core/manifest/schema';
import { parseNotebook } from '#core/validation/parse';
import { EXIT, UserError } from '../exit';
import { findSidecar, readBytes, readText } from '../files';

export function registerManifestCommands(program: Command, setExit: (code: number) => void): void {
  const manifest = program
    .command('manifest')
    .description('Work with the operational manifest a notebook carries.');

  manifest
    .command('embed')
    .description('Validate a manifest (YAML or JSON) and write it into the notebook metadata under "nbops".')
    .argument('<notebook>', 'the notebook to update')
    .argument('<manifest>', 'manifest file (YAML or JSON)')
    .option('-o, --output <file>', 'write the result here instead of updating the notebook in place')
    .option('--force', 'embed even when the manifest has schema errors')
    .action((notebookPath: string, manifestPath: string, options: { output?: string; force?: boolean }) => {
      setExit(guard(() => embed(notebookPath, manifestPath, options)));
    });

  manifest
    .command('show')
    .description("Print a notebook's manifest (from its metadata, or its sidecar file).")
    .argument('<notebook>', 'the notebook')
    .option('--json', 'print JSON instead of YAML')
    .option('--resolved', 'apply the schema defaults, showing every effective value')
    .action((notebookPath: string, options: { json?: boolean; resolved?: boolean }) => {
      setExit(guard(() => show(notebookPath, options)));
    });
}

function guard(run: () => number): number {
  try {
    return run();
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`nbops: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

function loadNotebook(path: string): unknown {
  const parsed = parseNotebook(readBytes(path), { maxBytes: Number.POSITIVE_INFINITY });
  if (!parsed.ok) {
    const reasons = parsed.findings.map((f) => `  - ${f.message}`).join('\n');
    throw new UserError(
      `${path} is not a readable notebook:\n${reasons}\nRun nbops validate ${path} for details.`,
    );
  }
  return parsed.value;
}

function embed(
  notebookPath: string,
  manifestPath: string,
  options: { output?: string; force?: boolean },
): number {
  const notebook = loadNotebook(notebookPath);
  let manifest: unknown;
  try {
    manifest = parseYaml(readText(manifestPath)); // YAML 1.2 is a superset of JSON
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${manifestPath} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const checked = validateManifestShape(manifest);
  if (!checked.ok) {
    for (const e of checked.errors)
      process.stderr.write(`${manifestPath}: ${e.path || '(root)'}: ${e.message} (fix: ${e.fix})\n`);
    if (!options.force) {
      process.stderr.write('nbops: manifest not embedded (use --force to embed it anyway)\n');
      return EXIT.findings;
    }
  }
  const updated = embedManifest(notebook, manifest);
  const target = options.output ?? notebookPath;
  writeFileSync(target, serializeNotebook(updated));
  process.stdout.write(`embedded ${manifestPath} into ${target} (metadata.nbops)\n`);
  return checked.ok ? EXIT.ok : EXIT.findings;
}

function show(notebookPath: string, options: { json?: boolean; resolved?: boolean }): number {
  const notebook = loadNotebook(notebookPath);
  const sidecarPath = findSidecar(notebookPath);
  const sidecar = sidecarPath ? { path: sidecarPath, text: readText(sidecarPath) } : undefined;
  const { source } = readManifest(notebook, sidecar);
  if (!source)
    throw new UserError(`${notebookPath} has no manifest (metadata.nbops) and no sidecar`, EXIT.findings);
  let value: unknown = source.raw;
  if (options.resolved) {
    const checked = validateManifestShape(source.raw);
    if (!checked.ok)
      throw new UserError(
        `the manifest has schema errors; run nbops validate ${notebookPath}`,
        EXIT.findings,
      );
    value = applyManifestDefaults(checked.value);
  }
  const origin = source.origin === 'sidecar' ? `sidecar ${source.file}` : 'notebook metadata (nbops)';
  process.stderr.write(`# manifest from ${origin}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
  return EXIT.ok;
}

/** Jupyter's own layout (nbformat: indent 1, sorted keys, trailing newline) keeps diffs small. */
export function serializeNotebook(notebook: unknown): string {
  return `${JSON.stringify(sortKeys(notebook), null, 1)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}
