/**
 * Submit: a notebook uploaded under notebooks/<model>/ becomes a registered, validated version
 * whose training job is running.
 *
 *   HEAD (size cap) -> download -> sha256 -> validate (+ sidecar) -> registerUpload
 *   -> reports (JSON, SARIF, text) -> REJECTED | VALIDATED (immutable notebook copy)
 *   -> TRAINING -> CreateTrainingJob (deterministic name; "already exists" with the same inputs is success)
 *
 * Every delivery redoes the pure part (download, validate) and then resumes from the version's
 * status, so a redelivery after a crash anywhere continues where the first delivery stopped and
 * never creates a second job. The version moves to TRAINING *before* the job is created: the
 * lifecycle has no VALIDATED -> TRAINING_FAILED edge, and a job that exists is then always
 * matched by a TRAINING (or later) version, so training events never overtake the registry.
 *
 * Sidecar manifests (`<name>.nbops.yaml|yml|json` beside `<name>.ipynb`) are read when their
 * notebook is submitted; uploading a sidecar alone submits nothing (its event is ignored with a
 * reason). To apply a changed sidecar, upload the notebook again: that is a new version.
 */
import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { RequestCheckError } from '#core/aws/api-model';
import { classifyAwsError } from '#core/aws/errors';
import { createIdempotently, NameCollisionError } from '#core/aws/retry';
import { parseNotebookKey, s3Uri, UPLOADER_METADATA, versionKeys } from '#core/layout';
import type { Manifest } from '#core/manifest/schema';
import { type ObjectRef, ObjectTooLargeError, type Services, unquoteEtag } from '#core/ports';
import type { JsonObject, NotebookRef, VersionFacts, VersionRecord } from '#core/registry/types';
import { BuildError, canonicalJson, sha256Hex } from '#core/sagemaker/context';
import { buildCreateTrainingJob } from '#core/sagemaker/requests';
import type { Finding } from '#core/validation/finding';
import { SUB_MODEL_FOLDER, SUB_TRAINING_REQUEST } from '#core/validation/submit-rules';
import { resultFromFindings, type ValidationResult, validateNotebook } from '#core/validation/validate';
import { NOTEBOOK_PREFIX } from '#core/wiring';
import {
  ACTORS,
  AFTER_TRAINING,
  advance,
  buildContextOf,
  currentReason,
  isModelName,
  mustGetVersion,
  withinGrace,
} from './context';
import type { NotebookUpload, SubmitOutcome } from './contracts';
import { RetryLaterError } from './errors';
import { describeValidation, type StoredReport, withFindings, writeReports } from './reports';

/** Used when the policy sets no maxNotebookBytes (the policy default). */
const DEFAULT_MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024;
/** A sidecar manifest is a few KB; anything this large is not one. */
export const MAX_SIDECAR_BYTES = 1024 * 1024;
const SIDECAR_EXTENSIONS = ['yaml', 'yml', 'json'] as const;
/** DynamoDB sort keys are at most 1024 bytes; longer upload ids are hashed. */
const MAX_UPLOAD_ID_BYTES = 900;

/**
 * Rules the submit step adds to the validator's: checks that need the upload's location or the
 * version number. Same Finding format, so they appear in the stored reports like any other.
 */

const ignored = (reason: string): SubmitOutcome => ({ kind: 'ignored', reason });

/**
 * Identity of an upload across redeliveries: bucket + key + versionId on versioned buckets, else
 * the ETag (content) and sequencer (which write). Hashed when too long for a DynamoDB key.
 */
export function uploadIdOf(upload: NotebookUpload): string {
  const base = `s3://${upload.bucket}/${upload.key}`;
  const id = upload.versionId
    ? `${base}?versionId=${upload.versionId}`
    : `${base}#${unquoteEtag(upload.etag)}${upload.sequencer ? `@${upload.sequencer}` : ''}`;
  return Buffer.byteLength(id, 'utf8') <= MAX_UPLOAD_ID_BYTES ? id : `sha256:${sha256Hex(id)}`;
}

/** Everything learnt about an upload before it is registered (pure, repeated by every delivery). */
interface Prepared {
  model: string;
  file: string;
  ref: ObjectRef;
  notebook: NotebookRef;
  /** Undefined when the notebook was refused unread (over the size cap). */
  bytes?: Uint8Array;
  result: ValidationResult;
  manifest?: Manifest;
  manifestHash: string;
  owner: string;
}

export async function submitNotebook(services: Services, upload: NotebookUpload): Promise<SubmitOutcome> {
  const where = parseNotebookKey(upload.key);
  if (!where)
    return ignored(
      `${upload.key} is not a notebook upload: nbops trains notebooks uploaded as ${NOTEBOOK_PREFIX}<model>/<name>.ipynb`,
    );
  if (where.kind === 'sidecar')
    return ignored(
      `${upload.key} is a sidecar manifest: it is read when its notebook is uploaded beside it; upload (or re-upload) the notebook to submit a version with it`,
    );
  if (!isModelName(where.model))
    return ignored(
      `folder "${where.model}" of ${upload.key} is not a model name: upload to ${NOTEBOOK_PREFIX}<model>/ with <model> in lowercase letters, digits and single hyphens (the manifest's model.name)`,
    );

  const ref: ObjectRef = { bucket: upload.bucket, key: upload.key };
  if (upload.versionId) ref.versionId = upload.versionId;
  const head = await services.store.head(ref);
  if (!head) return ignored(`s3://${upload.bucket}/${upload.key} no longer exists; nothing to submit`);
  if (!upload.versionId && unquoteEtag(head.etag) !== unquoteEtag(upload.etag))
    // Unversioned bucket: the key now holds a newer upload, which its own event submits.
    return ignored(
      `s3://${upload.bucket}/${upload.key} was overwritten after this upload (ETag ${unquoteEtag(head.etag)}, not ${unquoteEtag(upload.etag)}); the newer upload is submitted by its own event`,
    );

  // S3 events name only the requester's account: the uploader the object names is the person.
  const named = head.metadata[UPLOADER_METADATA]?.trim();
  if (named) upload = { ...upload, uploader: named };
  const prepared = await prepare(services, upload, where.model, where.file, ref, head.size, head.etag);
  const registered = await services.registry.registerUpload({
    model: prepared.model,
    uploadId: uploadIdOf(upload),
    owner: prepared.owner,
    uploader: upload.uploader,
    notebook: prepared.notebook,
    manifestHash: prepared.manifestHash,
    sourceEventId: upload.eventId,
    at: upload.eventTime,
    facts: registrationFacts(prepared.manifest),
  });
  const record = await mustGetVersion(services, prepared.model, registered.version);
  return resume(services, prepared, record, upload.eventId);
}

async function prepare(
  services: Services,
  upload: NotebookUpload,
  model: string,
  file: string,
  ref: ObjectRef,
  size: number,
  etag: string,
): Promise<Prepared> {
  const policy = services.config.policy;
  const maxBytes = policy.maxNotebookBytes ?? DEFAULT_MAX_NOTEBOOK_BYTES;
  const notebook: NotebookRef = {
    bucket: upload.bucket,
    key: upload.key,
    sha256: '',
    etag: unquoteEtag(etag),
  };
  if (upload.versionId) notebook.versionId = upload.versionId;
  const base = { model, file, ref, notebook, manifestHash: '', owner: upload.uploader };

  let bytes: Uint8Array | undefined;
  if (size <= maxBytes) {
    try {
      bytes = await services.store.getBytes(ref, { maxBytes });
    } catch (err) {
      if (!(err instanceof ObjectTooLargeError)) throw err;
      size = err.size;
    }
  }
  if (!bytes)
    // Refused unread: a 2 GB upload is never pulled into a Lambda. sha256 stays empty (not read).
    return { ...base, result: resultFromFindings(upload.key, [tooLarge(size, maxBytes)], policy) };

  notebook.sha256 = sha256Hex(bytes);
  const sidecar = await readSidecar(services, upload.bucket, upload.key, file);
  const validated = validateNotebook({
    content: bytes,
    path: upload.key,
    policy,
    ...(sidecar.sidecar ? { sidecar: sidecar.sidecar } : {}),
  });
  const manifest = validated.manifest?.value;
  const extra = [...sidecar.findings];
  if (manifest && manifest.model.name !== model) extra.push(folderMismatch(validated, manifest, model));
  const result = withFindings(validated, extra);
  return {
    ...base,
    bytes,
    result,
    ...(manifest ? { manifest } : {}),
    manifestHash: manifest ? sha256Hex(canonicalJson(manifest)) : '',
    owner: ownerOf(validated) ?? upload.uploader,
  };
}

/** Facts known before the version exists: written with it by registerUpload. */
function registrationFacts(manifest: Manifest | undefined): VersionFacts {
  if (!manifest) return {};
  const facts: VersionFacts = {
    manifest: manifest as unknown as JsonObject,
    trainingImage: manifest.training.image,
    dataRefs: (manifest.data ?? []).map((d) => ({
      uri: d.uri,
      ...(d.versionId !== undefined ? { versionId: d.versionId } : {}),
      ...(d.sha256 !== undefined ? { sha256: d.sha256 } : {}),
    })),
  };
  if (manifest.serving) facts.servingImage = manifest.serving.image;
  return facts;
}

/** The manifest's owner when it names one (even if the manifest is otherwise invalid). */
function ownerOf(result: ValidationResult): string | undefined {
  const raw = result.manifest?.raw as { model?: { owner?: unknown } } | undefined;
  const owner = raw?.model?.owner;
  return typeof owner === 'string' && owner.trim() !== '' ? owner : undefined;
}

async function readSidecar(
  services: Services,
  bucket: string,
  key: string,
  file: string,
): Promise<{ sidecar?: { path: string; text: string }; findings: Finding[] }> {
  const folder = key.slice(0, key.length - file.length);
  const stem = file.replace(/\.ipynb$/, '');
  for (const ext of SIDECAR_EXTENSIONS) {
    const path = `${folder}${stem}.nbops.${ext}`;
    const head = await services.store.head({ bucket, key: path });
    if (!head) continue;
    try {
      const bytes = await services.store.getBytes({ bucket, key: path }, { maxBytes: MAX_SIDECAR_BYTES });
      return { sidecar: { path, text: new TextDecoder().decode(bytes) }, findings: [] };
    } catch (err) {
      if (!(err instanceof ObjectTooLargeError)) throw err;
      return {
        findings: [
          {
            rule: 'MAN-002',
            severity: 'error',
            message: `sidecar ${path} is ${err.size} bytes; a manifest is at most ${MAX_SIDECAR_BYTES} bytes, so it was not read.`,
            location: { pointer: '', file: path },
            fix: 'Replace the sidecar with the manifest alone (YAML or JSON), or put the manifest in the notebook metadata under "nbops".',
          },
        ],
      };
    }
  }
  return { findings: [] };
}

function tooLarge(size: number, maxBytes: number): Finding {
  return {
    rule: 'NB-010',
    severity: 'error',
    message: `notebook is ${size.toLocaleString('en-US')} bytes; the limit (policy maxNotebookBytes) is ${maxBytes.toLocaleString('en-US')} bytes. It was not read.`,
    location: { pointer: '' },
    fix: 'Strip stored outputs before uploading (`jupyter nbconvert --clear-output --inplace <notebook>.ipynb` or `nbstripout <notebook>.ipynb`) and keep data out of the notebook, or ask the platform team to raise policy maxNotebookBytes.',
  };
}

function folderMismatch(result: ValidationResult, manifest: Manifest, folder: string): Finding {
  const source = result.manifest;
  return {
    rule: SUB_MODEL_FOLDER,
    severity: 'error',
    message: `model.name is "${manifest.model.name}" but the notebook was uploaded under ${NOTEBOOK_PREFIX}${folder}/; the folder names the model a version belongs to.`,
    location: {
      pointer: `${source?.pointer ?? '/metadata/nbops'}/model/name`,
      ...(source?.file ? { file: source.file } : {}),
    },
    fix: `Upload the notebook to ${NOTEBOOK_PREFIX}${manifest.model.name}/, or set model.name to "${folder}".`,
  };
}

/** The training request of a valid version, or the finding that says why it cannot be built. */
function trainingRequest(
  services: Services,
  record: VersionRecord,
): { request: CreateTrainingJobCommandInput } | { finding: Finding } {
  try {
    return { request: buildCreateTrainingJob(buildContextOf(services, record)) };
  } catch (err) {
    const pointer = '/metadata/nbops';
    if (err instanceof BuildError)
      return {
        finding: {
          rule: SUB_TRAINING_REQUEST,
          severity: 'error',
          message: `${err.field}: ${err.message.replace(/ Fix: .*$/s, '')}`,
          location: { pointer },
          fix: err.fix,
        },
      };
    if (err instanceof RequestCheckError)
      return {
        finding: {
          rule: SUB_TRAINING_REQUEST,
          severity: 'error',
          message: `CreateTrainingJob would be refused by SageMaker: ${err.violations.map((v) => `${v.path || '(request)'} ${v.message}`).join('; ')}.`,
          location: { pointer },
          fix: 'Change the manifest field behind each named request field (training, parameters, data) to a value SageMaker accepts; fields that come from the platform policy (RoleArn, KMS keys, VpcConfig) are for the platform team to fix in the policy.',
        },
      };
    throw err;
  }
}

/** Continues from the version's status; each step is idempotent. */
async function resume(
  services: Services,
  prepared: Prepared,
  initial: VersionRecord,
  eventId: string,
): Promise<SubmitOutcome> {
  let record = initial;
  let startedTraining = false;
  let report: StoredReport | undefined;
  const reportUri = () =>
    report?.uris.json ??
    s3Uri(services.config.bucket, versionKeys.report(record.model, record.version, 'json'));
  const base = () => ({ model: record.model, version: record.version });

  for (let step = 0; step < 8; step++) {
    switch (record.status) {
      case 'RECEIVED': {
        let result = prepared.result;
        let request: CreateTrainingJobCommandInput | undefined;
        if (result.valid) {
          const built = trainingRequest(services, record);
          if ('finding' in built) result = withFindings(result, [built.finding]);
          else request = built.request;
        }
        report = await writeReports(services, record.model, record.version, result);
        const facts: VersionFacts = {
          validation: report.summary,
          reportUris: { json: report.uris.json, sarif: report.uris.sarif, text: report.uris.text },
        };
        if (!result.valid || !request || !prepared.bytes) {
          const moved = await advance(services, record, {
            to: 'REJECTED',
            expectedFrom: ['RECEIVED'],
            actor: ACTORS.submit,
            reason: `validation failed (${describeValidation(result)}); report ${report.uris.text}`,
            sourceEventId: eventId,
            facts,
          });
          if (moved.changed)
            await services.notifier.notify({
              severity: 'info',
              subject: `nbops: ${record.model} v${record.version} rejected`,
              message: `${prepared.notebook.key} was rejected: ${describeValidation(result)}.\nReport: ${report.uris.text}`,
              model: record.model,
              version: record.version,
            });
          record = moved.record;
          break;
        }
        // The copy training reads: the exact bytes validated and hashed, not the upload key,
        // which a later upload may overwrite.
        await services.store.put(
          {
            bucket: services.config.bucket,
            key: versionKeys.notebook(record.model, record.version, prepared.file),
          },
          prepared.bytes,
          { contentType: 'application/x-ipynb+json' },
        );
        const moved = await advance(services, record, {
          to: 'VALIDATED',
          expectedFrom: ['RECEIVED'],
          actor: ACTORS.submit,
          reason: `valid (${describeValidation(result)}); report ${report.uris.text}`,
          sourceEventId: eventId,
          facts,
        });
        record = moved.record;
        break;
      }
      case 'REJECTED':
        return {
          kind: 'rejected',
          ...base(),
          reportUri: record.facts.validation?.reportUri ?? reportUri(),
          errors: record.facts.validation?.errors ?? prepared.result.summary.errors,
        };
      case 'VALIDATED': {
        const built = trainingRequest(services, record);
        if ('finding' in built)
          throw new Error(`version ${record.version} of ${record.model}: ${built.finding.message}`);
        const r = built.request;
        const resources = r.ResourceConfig;
        const moved = await advance(services, record, {
          to: 'TRAINING',
          expectedFrom: ['VALIDATED'],
          actor: ACTORS.submit,
          reason: `starting training job ${r.TrainingJobName} on ${resources?.InstanceCount ?? 1} x ${resources?.InstanceType}${r.EnableManagedSpotTraining ? ' (managed spot)' : ''}`,
          sourceEventId: eventId,
        });
        startedTraining = moved.changed;
        record = moved.record;
        break;
      }
      case 'TRAINING':
        return ensureTrainingJob(services, record, startedTraining, eventId, reportUri());
      case 'TRAINING_FAILED':
        return {
          kind: 'training-failed',
          ...base(),
          reason: currentReason(record) ?? 'training failed',
          reportUri: reportUri(),
        };
      default:
        if (AFTER_TRAINING.includes(record.status))
          return {
            kind: 'training',
            ...base(),
            trainingJobName: record.facts.trainingJob?.name ?? '',
            reportUri: reportUri(),
          };
        return ignored(`version ${record.version} of ${record.model} is ${record.status}; nothing to do`);
    }
  }
  throw new RetryLaterError(
    `version ${record.version} of ${record.model} kept changing while being submitted; retry the upload event`,
  );
}

/**
 * The version is TRAINING: make sure its job exists. The delivery that moved it to TRAINING creates
 * the job; another delivery finding no job yet within the grace period assumes that one is still
 * at it and asks to be retried, so concurrent duplicates send one CreateTrainingJob.
 */
async function ensureTrainingJob(
  services: Services,
  record: VersionRecord,
  startedTraining: boolean,
  eventId: string,
  reportUri: string,
): Promise<SubmitOutcome> {
  const built = trainingRequest(services, record);
  if ('finding' in built)
    throw new Error(`version ${record.version} of ${record.model}: ${built.finding.message}`);
  const request = built.request;
  const name = request.TrainingJobName!;
  const training = (): SubmitOutcome => ({
    kind: 'training',
    model: record.model,
    version: record.version,
    trainingJobName: name,
    reportUri,
  });
  const known = record.facts.trainingJob;
  if (known?.name === name && known.arn) return training();

  const existing = await services.sagemaker.describeTrainingJob(name);
  if (existing) {
    await services.registry.recordFacts(record.model, record.version, {
      trainingJob: { name, arn: existing.TrainingJobArn! },
    });
    return training();
  }
  if (!startedTraining && withinGrace(services, record))
    throw new RetryLaterError(
      `version ${record.version} of ${record.model} entered TRAINING moments ago and training job ${name} does not exist yet: another delivery is creating it; retry`,
    );

  let arn: string;
  try {
    const made = await createIdempotently(
      () => services.sagemaker.createTrainingJob(request),
      async () => {
        const found = await services.sagemaker.describeTrainingJob(name);
        if (!found)
          throw new RetryLaterError(`training job ${name} exists but cannot be described yet; retry`);
        return found;
      },
      { resource: `training job ${name}`, input: request },
    );
    arn = made.created ? made.output.TrainingJobArn : made.existing.TrainingJobArn!;
  } catch (err) {
    const message = startFailure(err);
    if (message === undefined) throw err;
    const moved = await advance(services, record, {
      to: 'TRAINING_FAILED',
      expectedFrom: ['TRAINING'],
      actor: ACTORS.submit,
      reason: `CreateTrainingJob ${name} failed: ${message}`,
      sourceEventId: eventId,
    });
    if (moved.changed)
      await services.notifier.notify({
        severity: 'ticket',
        subject: `nbops: ${record.model} v${record.version} could not start training`,
        message: `CreateTrainingJob ${name} failed: ${message}`,
        model: record.model,
        version: record.version,
      });
    if (moved.record.status !== 'TRAINING_FAILED') return training();
    return {
      kind: 'training-failed',
      model: record.model,
      version: record.version,
      reason: currentReason(moved.record) ?? message,
      reportUri,
    };
  }
  await services.registry.recordFacts(record.model, record.version, { trainingJob: { name, arn } });
  return training();
}

/**
 * The actionable message for an error that ends the version (quota, capacity, access, invalid
 * request, a name taken by other inputs); undefined for errors worth retrying (throttling,
 * transient failures) and for unexpected ones, which are rethrown.
 */
function startFailure(err: unknown): string | undefined {
  if (err instanceof RetryLaterError) return undefined;
  if (err instanceof NameCollisionError || err instanceof RequestCheckError) return err.message;
  const kind = classifyAwsError(err);
  if (kind.retryable && kind.kind !== 'capacity') return undefined;
  if (kind.kind === 'unknown') return undefined;
  return kind.message;
}
