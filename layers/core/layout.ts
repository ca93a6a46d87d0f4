/**
 * Where everything lives in the artifact bucket. One module, so handlers, request builders, the
 * local host and the CDK lifecycle rules agree on every key.
 *
 *   notebooks/<model>/<name>.ipynb           uploads (and sidecars <name>.nbops.yaml)
 *   versions/<model>/v<n>/notebook/<name>    immutable copy trained from (uploads can be overwritten)
 *   versions/<model>/v<n>/reports/           validation report (json, sarif, txt), version.html
 *   versions/<model>/v<n>/training/          SageMaker S3OutputPath (<job>/output/model.tar.gz)
 *   versions/<model>/v<n>/checkpoints/       spot checkpoints
 *   runtime/<hash>/nbops_runtime/            the Python runtime, published at deploy
 *   capture/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl   SageMaker data capture
 *   drift/<model>/<iso time>/                drift reports
 */
import { NOTEBOOK_PREFIX } from './wiring';

export const PREFIXES = {
  notebooks: NOTEBOOK_PREFIX,
  versions: 'versions/',
  runtime: 'runtime/',
  capture: 'capture/',
  drift: 'drift/',
} as const;

/**
 * Object metadata naming who a notebook upload is for (x-amz-meta-nbops-uploader): set by
 * `nbops submit` (the identity the ops API verified) and by nbops's own retrain uploads. S3's event
 * only names the requester's account, so this is what the registry records as the uploader.
 */
export const UPLOADER_METADATA = 'nbops-uploader';

export const s3Uri = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/** Splits `s3://bucket/key` (key may be empty); undefined when not an S3 URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return match ? { bucket: match[1]!, key: match[2]! } : undefined;
}

/**
 * The model an upload belongs to, from `notebooks/<model>/<file>`; undefined for keys that are
 * not notebook uploads (the submit handler ignores those).
 */
export function parseNotebookKey(
  key: string,
): { model: string; file: string; kind: 'notebook' | 'sidecar' } | undefined {
  if (!key.startsWith(NOTEBOOK_PREFIX)) return undefined;
  const rest = key.slice(NOTEBOOK_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const model = rest.slice(0, slash);
  const file = rest.slice(slash + 1);
  if (!file || file.includes('/')) return undefined;
  if (file.endsWith('.ipynb')) return { model, file, kind: 'notebook' };
  if (/\.nbops\.(ya?ml|json)$/.test(file)) return { model, file, kind: 'sidecar' };
  return undefined;
}

export function versionPrefix(model: string, version: number): string {
  return `${PREFIXES.versions}${model}/v${version}/`;
}

export const versionKeys = {
  notebook: (model: string, version: number, file: string) =>
    `${versionPrefix(model, version)}notebook/${file}`,
  notebookDir: (model: string, version: number) => `${versionPrefix(model, version)}notebook/`,
  report: (model: string, version: number, ext: 'json' | 'sarif' | 'txt') =>
    `${versionPrefix(model, version)}reports/validation.${ext}`,
  trainingOutput: (model: string, version: number) => `${versionPrefix(model, version)}training/`,
  checkpoints: (model: string, version: number) => `${versionPrefix(model, version)}checkpoints/`,
};

export const runtimePrefix = (hash: string): string => `${PREFIXES.runtime}${hash}/`;

export const captureKeyPrefix = (endpoint: string, variant: string): string =>
  `${PREFIXES.capture}${endpoint}/${variant}/`;

export const driftReportPrefix = (model: string, isoTime: string): string =>
  `${PREFIXES.drift}${model}/${isoTime}/`;
