/**
 * Bundles a handler exactly as NbopsFunction deploys it (BUNDLE_SETTINGS through esbuild's API),
 * for the bundle-size test and bench/lambda.ts. No docker, no CDK: esbuild from devDependencies.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { HANDLERS, type HandlerName } from '#core/wiring';
import { BUNDLE_SETTINGS } from './function';

/** Lambda bundles nbops aims to stay under (DESIGN.md performance targets). */
export const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

export interface HandlerBundle {
  handler: HandlerName;
  /** The bundle (`index.mjs`), as deployed. */
  file: string;
  bytes: number;
  /** The source map next to it (deployed too, not loaded unless an error is mapped). */
  mapBytes: number;
  /** What the bundle still imports at run time (should be Node built-ins only). */
  externalImports: string[];
}

/** Handlers that have code in this checkout (functions/<handler>/index.ts). */
export function handlersWithCode(projectRoot: string): HandlerName[] {
  return HANDLERS.filter((h) => existsSync(join(projectRoot, 'functions', h, 'index.ts')));
}

export async function bundleHandler(
  projectRoot: string,
  handler: HandlerName,
  outDir: string,
): Promise<HandlerBundle> {
  const file = join(outDir, handler, 'index.mjs');
  const result = await build({
    entryPoints: [join(projectRoot, 'functions', handler, 'index.ts')],
    outfile: file,
    bundle: true,
    absWorkingDir: projectRoot,
    platform: BUNDLE_SETTINGS.platform,
    format: BUNDLE_SETTINGS.format,
    target: BUNDLE_SETTINGS.target,
    minify: BUNDLE_SETTINGS.minify,
    sourcemap: BUNDLE_SETTINGS.sourcemap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: { js: BUNDLE_SETTINGS.banner },
    external: [...BUNDLE_SETTINGS.external],
    logLevel: 'error',
    metafile: true,
  });
  const externalImports = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external).map((i) => i.path),
  );
  return {
    handler,
    file,
    bytes: statSync(file).size,
    mapBytes: statSync(`${file}.map`).size,
    externalImports: [...new Set(externalImports)].sort(),
  };
}
