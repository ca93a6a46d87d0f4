/**
 * The validation report of a version, stored beside it in three forms: JSON (scripts), SARIF
 * (code scanning) and text (people). Rendering is deterministic, so a redelivered upload rewrites
 * the same bytes.
 */
import { s3Uri, versionKeys } from '#core/layout';
import type { Services } from '#core/ports';
import type { ValidationSummary as RegistrySummary } from '#core/registry/types';
import { type Finding, findingOrder } from '#core/validation/finding';
import { toJsonReport, toSarif, toText } from '#core/validation/report';
import { summarize, type ValidationResult } from '#core/validation/validate';
import packageJson from '../../../package.json' with { type: 'json' };

/** The nbops version named in SARIF output. */
export const TOOL_VERSION: string = packageJson.version;

export interface StoredReport {
  summary: RegistrySummary;
  /** URIs by format, recorded as the version's reportUris fact. */
  uris: { json: string; sarif: string; text: string };
}

/** The result with extra findings (from submission checks) merged in and the verdict recomputed. */
export function withFindings(result: ValidationResult, extra: readonly Finding[]): ValidationResult {
  if (extra.length === 0) return result;
  const findings = [...result.findings, ...extra].sort(findingOrder);
  const summary = summarize(findings);
  return { ...result, findings, summary, valid: summary.errors === 0 };
}

export async function writeReports(
  services: Services,
  model: string,
  version: number,
  result: ValidationResult,
): Promise<StoredReport> {
  const bucket = services.config.bucket;
  const keys = {
    json: versionKeys.report(model, version, 'json'),
    sarif: versionKeys.report(model, version, 'sarif'),
    text: versionKeys.report(model, version, 'txt'),
  };
  await Promise.all([
    services.store.put({ bucket, key: keys.json }, `${JSON.stringify(toJsonReport([result]), null, 2)}\n`, {
      contentType: 'application/json',
    }),
    services.store.put(
      { bucket, key: keys.sarif },
      `${JSON.stringify(toSarif([result], TOOL_VERSION), null, 2)}\n`,
      { contentType: 'application/sarif+json' },
    ),
    services.store.put({ bucket, key: keys.text }, toText([result], { color: false }), {
      contentType: 'text/plain; charset=utf-8',
    }),
  ]);
  const uris = {
    json: s3Uri(bucket, keys.json),
    sarif: s3Uri(bucket, keys.sarif),
    text: s3Uri(bucket, keys.text),
  };
  return {
    summary: {
      errors: result.summary.errors,
      warnings: result.summary.warnings,
      notices: result.summary.infos,
      reportUri: uris.json,
      sarifUri: uris.sarif,
      summaryUri: uris.text,
    },
    uris,
  };
}

/** `3 errors, 1 warning` plus the first errors, for audit reasons and notifications. */
export function describeValidation(result: ValidationResult, max = 3): string {
  const { errors, warnings } = result.summary;
  const head = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  const first = result.findings
    .filter((f) => f.severity === 'error')
    .slice(0, max)
    .map((f) => `${f.rule} ${f.message}`);
  return first.length === 0 ? head : `${head}: ${first.join(' | ')}${errors > max ? ' | ...' : ''}`;
}
