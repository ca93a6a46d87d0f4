/**
 * The one test that bundles for real: every handler with code, with the esbuild settings
 * NbopsFunction deploys (BUNDLE_SETTINGS), must bundle without docker into an ESM file under
 * 1.5 MB that exports `handler`. (bench/lambda.ts also measures module init time.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleHandler, handlersWithCode, MAX_BUNDLE_BYTES } from '../../infra/lib/bundle';
import { ESM_REQUIRE_BANNER } from '../../infra/lib/function';
import { PROJECT_ROOT } from '../../infra/lib/nbops';

describe('handler bundles', () => {
  it('bundle with esbuild, without docker, each under 1.5 MB', async () => {
    const handlers = handlersWithCode(PROJECT_ROOT);
    expect(handlers.length).toBeGreaterThan(0);
    const outDir = mkdtempSync(join(tmpdir(), 'nbops-bundles-'));
    const bundles = await Promise.all(handlers.map((h) => bundleHandler(PROJECT_ROOT, h, outDir)));
    for (const b of bundles) {
      console.log(
        `[infra] ${b.handler}: bundle ${(b.bytes / 1024 / 1024).toFixed(2)} MB, source map ${(b.mapBytes / 1024 / 1024).toFixed(2)} MB`,
      );
      expect(b.bytes, b.handler).toBeLessThan(MAX_BUNDLE_BYTES);
      const code = readFileSync(b.file, 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER), `${b.handler} starts with the require banner`).toBe(true);
      // ESM with the handler exported; the AWS SDK and everything else inside (only Node built-ins stay imports).
      expect(code).toMatch(/export\s*\{[^}]*\bas handler\b|export\s*\{[^}]*\bhandler\b/);
      const builtins = new Set(builtinModules);
      const notBuiltin = b.externalImports.filter((spec) => !builtins.has(spec.replace(/^node:/, '')));
      expect(notBuiltin, `${b.handler} imports at run time`).toEqual([]);
    }
  }, 120_000);
});
