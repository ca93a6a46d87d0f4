/**
 * Uploads through the ops API: `nbops submit` on AWS asks for a presigned PUT of
 * notebooks/<model>/<file> whose `nbops-uploader` metadata is the identity IAM verified for the
 * request. The submit handler records that metadata as the version's uploader (S3's event names
 * only the account), so "who uploaded" is the person, and the self-approval rule holds, as long
 * as operators upload this way (the stack's OperatorPolicy grants no direct PutObject).
 */
import { s3Uri, UPLOADER_METADATA } from '#core/layout';
import type { Services } from '#core/ports';
import { NOTEBOOK_PREFIX } from '#core/wiring';
import { OpsError } from './errors';
import { checkModelName } from './queries';
import type { Caller } from './views';

/** Long enough for a slow upload to start; short enough that a leaked URL is soon useless. */
export const UPLOAD_URL_SECONDS = 15 * 60;

/** Notebooks and their sidecar manifests, with the content type each is stored with. */
const UPLOADABLE: readonly { suffix: RegExp; contentType: string }[] = [
  { suffix: /\.ipynb$/, contentType: 'application/x-ipynb+json' },
  { suffix: /\.nbops\.ya?ml$/, contentType: 'application/yaml' },
  { suffix: /\.nbops\.json$/, contentType: 'application/json' },
];

export interface UploadGrant {
  model: string;
  bucket: string;
  key: string;
  uri: string;
  /** PUT the file's bytes here with `headers`, before `expiresAt`. */
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
  uploader: string;
}

/** A file name nbops takes under notebooks/<model>/: one path segment, a notebook or a sidecar. */
export function checkUploadFile(file: unknown): { file: string; contentType: string } {
  if (typeof file !== 'string' || file.trim() === '')
    throw new OpsError(
      'INVALID_REQUEST',
      '"file" is required: the file name to upload, e.g. {"file": "churn.ipynb"}',
    );
  const name = file.trim();
  if (name.includes('/') || name.includes('\\') || name.startsWith('.') || name.length > 200)
    throw new OpsError(
      'INVALID_REQUEST',
      `"file" must be a plain file name of at most 200 characters, without folders or a leading dot (got "${name.slice(0, 80)}")`,
    );
  // Control characters would end up in an S3 key and in log lines.
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new OpsError('INVALID_REQUEST', '"file" must not contain control characters');
  const kind = UPLOADABLE.find((u) => u.suffix.test(name));
  if (!kind)
    throw new OpsError(
      'INVALID_REQUEST',
      `"file" must be a notebook (.ipynb) or a sidecar manifest (.nbops.yaml, .nbops.yml, .nbops.json); "${name}" is neither`,
    );
  return { file: name, contentType: kind.contentType };
}

export async function grantUpload(
  services: Services,
  caller: Caller,
  request: { model: string; file: unknown },
): Promise<UploadGrant> {
  const model = checkModelName(request.model);
  const { file, contentType } = checkUploadFile(request.file);
  const bucket = services.config.bucket;
  const key = `${NOTEBOOK_PREFIX}${model}/${file}`;
  // S3 metadata is ASCII: identities are ARNs or e-mail addresses, anything else is refused.
  if (!/^[\x20-\x7e]+$/.test(caller.identity))
    throw new OpsError(
      'INVALID_REQUEST',
      `your identity "${caller.identity}" has characters S3 metadata cannot carry (ASCII only); on the local host pick a plain name with --as or NBOPS_USER`,
    );
  const signed = await services.store.presignPut(
    { bucket, key },
    { contentType, metadata: { [UPLOADER_METADATA]: caller.identity }, expiresInSeconds: UPLOAD_URL_SECONDS },
  );
  const expiresAt = new Date(services.clock.now().getTime() + UPLOAD_URL_SECONDS * 1000).toISOString();
  return {
    model,
    bucket,
    key,
    uri: s3Uri(bucket, key),
    method: 'PUT',
    url: signed.url,
    headers: signed.headers,
    expiresAt,
    uploader: caller.identity,
  };
}
