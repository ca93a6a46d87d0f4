/**
 * Retrain: train a version's notebook again as a new version ("Retrain Requested", from the drift
 * policy or an operator; the submit handler receives it).
 *
 * The version's immutable notebook copy (versions/<model>/v<n>/notebook/) is uploaded again under
 * notebooks/<model>/ as `<name>.retrain-v<n>-<request>.ipynb`, with the version's manifest beside
 * it as a sidecar when the notebook does not carry it. The upload's own S3 event then takes the
 * ordinary submit path: validation against today's policy, a new version, training, gates and
 * approval, exactly as if a person had uploaded it again. The key is the lineage: it names the
 * version retrained (`retrainLineage`), and the new version's notebook fact points at it.
 *
 * At most one retrain per model is in flight: a retrain version not yet deployed or decided, or a
 * retrain upload that has not become a version yet. Automatic requests also respect the drift
 * cooldown (drift.retrainCooldown since the last retrain asked for). A redelivered request finds
 * its upload and changes nothing.
 */
import { createHash } from 'node:crypto';
import type { RetrainRequested } from '#core/events/nbops';
import { s3Uri, versionKeys } from '#core/layout';
import { parseDuration } from '#core/manifest/duration';
import type { Status } from '#core/registry/lifecycle';
import type { VersionRecord } from '#core/registry/types';
import { NOTEBOOK_PREFIX } from '#core/wiring';
import type { Services } from '../ports';
import { fileName, isModelName, manifestOf, nowIso } from './context';
import type { RetrainOutcome } from './contracts';

/** `<stem>.retrain-v<n>-<8 hex>.ipynb`: the version retrained and the request. */
const RETRAIN_NAME = /\.retrain-v([1-9]\d{0,5})-([0-9a-f]{8})\.ipynb$/;
/** Versions in these states are a retrain still in flight. */
export const RETRAIN_IN_FLIGHT: readonly Status[] = [
  'RECEIVED',
  'VALIDATED',
  'TRAINING',
  'TRAINED',
  'GATES_PASSED',
  'PENDING_APPROVAL',
  'APPROVED',
  'DEPLOYING',
];
/** How long a retrain upload may take to become a version before it counts as lost (or ignored). */
export const PENDING_UPLOAD_SECONDS = 15 * 60;
const MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024;

/** Requests made by nbops itself (drift policy): these respect the cooldown. */
export function isAutomaticRequest(requestedBy: string): boolean {
  return requestedBy === 'drift' || requestedBy.startsWith('alarm:') || requestedBy.startsWith('nbops:');
}

const hash8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** Where the retrain of `version` (notebook `file`) for request `requestId` is uploaded. */
export function retrainKey(model: string, file: string, version: number, requestId: string): string {
  const stem = file.replace(/\.ipynb$/, '').replace(/\.retrain-v\d+-[0-9a-f]{8}$/, '');
  return `${NOTEBOOK_PREFIX}${model}/${stem}.retrain-v${version}-${hash8(requestId)}.ipynb`;
}

/** The version a notebook key retrains, when it is a retrain upload. */
export function retrainLineage(key: string | undefined): { retrainOf: number; request: string } | undefined {
  const match = key ? RETRAIN_NAME.exec(key) : null;
  return match ? { retrainOf: Number(match[1]), request: match[2]! } : undefined;
}

export interface RetrainState {
  /** When the latest retrain of the model was asked for (its upload, or its version's registration). */
  lastRequestedAt?: string;
  /** What is in flight, in words; undefined when nothing is. */
  inFlight?: string;
}

/** The model's retrains, from its versions and the retrain uploads under notebooks/<model>/. */
export async function retrainState(services: Services, model: string): Promise<RetrainState> {
  const versions = await services.registry.listVersions(model);
  const byKey = new Map<string, VersionRecord>();
  const state: RetrainState = {};
  const seen = (at: string | undefined) => {
    if (at && (!state.lastRequestedAt || at > state.lastRequestedAt)) state.lastRequestedAt = at;
  };
  for (const v of versions) {
    const key = v.facts.notebook?.key;
    if (!retrainLineage(key)) continue;
    byKey.set(key!, v);
    seen(v.createdAt);
    if (RETRAIN_IN_FLIGHT.includes(v.status)) state.inFlight ??= `v${v.version} is ${v.status}`;
  }
  const now = services.clock.now().getTime();
  const bucket = services.config.bucket;
  for await (const object of services.store.list(bucket, `${NOTEBOOK_PREFIX}${model}/`)) {
    if (!retrainLineage(object.key)) continue;
    // When it was asked for, by nbops's clock (S3's LastModified is the storage's clock).
    const head = await services.store.head({ bucket, key: object.key });
    const at = head?.metadata['nbops-requested-at'] ?? object.lastModified?.toISOString();
    if (!at) continue;
    seen(at);
    const age = (now - Date.parse(at)) / 1000;
    if (!byKey.has(object.key) && age < PENDING_UPLOAD_SECONDS)
      state.inFlight ??= `${object.key} was uploaded ${Math.max(0, Math.round(age))} s ago and is being submitted`;
  }
  return state;
}

export async function retrainModel(services: Services, request: RetrainRequested): Promise<RetrainOutcome> {
  const ignored = (reason: string): RetrainOutcome => ({ kind: 'ignored', reason });
  const { model } = request;
  if (!isModelName(model)) return ignored(`"${model}" is not a model name`);
  const meta = await services.registry.getModel(model);
  if (!meta) return ignored(`model ${model} is not registered`);
  const version = request.version ?? meta.aliases.champion;
  if (version === undefined)
    return ignored(`${model} has no version in production; name the version to retrain`);
  const record = await services.registry.getVersion(model, version);
  const notebook = record?.facts.notebook;
  const manifest = record?.facts.manifest;
  if (!record || !notebook || !manifest)
    return ignored(`version ${version} of ${model} has no validated notebook to retrain`);

  const bucket = services.config.bucket;
  const key = retrainKey(model, fileName(notebook.key), version, request.eventId);
  const submitted = (created: boolean): RetrainOutcome => ({
    kind: 'retrain-submitted',
    model,
    retrainOf: version,
    notebookUri: s3Uri(bucket, key),
    created,
  });
  // A redelivered request: its upload exists, the submit path has it.
  if (await services.store.head({ bucket, key })) return submitted(false);

  const state = await retrainState(services, model);
  if (state.inFlight) return ignored(`a retrain of ${model} is already in flight: ${state.inFlight}`);
  const cooldown = manifestOf(record)?.drift?.retrainCooldown;
  if (isAutomaticRequest(request.requestedBy) && cooldown !== undefined && state.lastRequestedAt) {
    const since = (Date.parse(request.eventTime) - Date.parse(state.lastRequestedAt)) / 1000;
    if (since < parseDuration(cooldown))
      return ignored(
        `the last retrain of ${model} was asked for at ${state.lastRequestedAt}; drift.retrainCooldown is ${cooldown}`,
      );
  }

  const copy = versionKeys.notebook(model, version, fileName(notebook.key));
  const bytes = await services.store.getBytes({ bucket, key: copy }, { maxBytes: MAX_NOTEBOOK_BYTES });
  const metadata = {
    // Who uploads: nbops on the requester's behalf (the local host reads this; on AWS the S3
    // event names the handler's role). The requester is kept beside it.
    'nbops-uploader': 'nbops:retrain',
    'nbops-retrain-of': String(version),
    'nbops-requested-by': ascii(request.requestedBy),
    'nbops-retrain-request': ascii(request.eventId),
    'nbops-requested-at': nowIso(services),
  };
  // The manifest came from a sidecar when the notebook has none: put it beside the new upload
  // first (a sidecar upload alone submits nothing), so the notebook's event finds it.
  if (!hasEmbeddedManifest(bytes))
    await services.store.put(
      { bucket, key: key.replace(/\.ipynb$/, '.nbops.json') },
      `${JSON.stringify(manifest, null, 2)}\n`,
      { contentType: 'application/json', metadata },
    );
  await services.store.put({ bucket, key }, bytes, { contentType: 'application/x-ipynb+json', metadata });
  return submitted(true);
}

function hasEmbeddedManifest(bytes: Uint8Array): boolean {
  try {
    const nb = JSON.parse(new TextDecoder().decode(bytes)) as { metadata?: { nbops?: unknown } };
    return typeof nb.metadata?.nbops === 'object' && nb.metadata.nbops !== null;
  } catch {
    return false;
  }
}

/** S3 user metadata is ASCII. */
function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 512);
}
