/**
 * Scheduled drift evaluation of a model's endpoint ("Drift Evaluation Due", from its schedule):
 *
 *   champion's baseline (nbops-baseline.json inside model.tar.gz, streamed; cached after the first read)
 *   -> readCapture for [scheduledTime - drift.window, scheduledTime)     (streaming, bounded memory)
 *   -> evaluateDrift with the manifest's method, threshold, datasetShare, minRecords
 *   -> drift/<model>/<scheduledTime>/report.json + report.html
 *   -> EMF metrics on stdout (namespace nbops: DriftScore per feature, DatasetDriftShare,
 *      DatasetDrift, RecordsEvaluated; the drift alarm watches DatasetDrift)
 *   -> DRIFT item in the registry at scheduledTime (the commit point)
 *
 * One evaluation per model and scheduledTime: a redelivered run finds its DRIFT item and does
 * nothing. A window with fewer than minRecords records gets a report and an item that say so,
 * and no verdict (no DatasetDrift datapoint, so the drift alarm keeps its state).
 */
import { createHash } from 'node:crypto';
import { driftMetricDocuments, printEmf } from '#core/alarms/metrics';
import { findTarEntry, TarError } from '#core/archive/tar';
import { type Baseline, BaselineError, featureSpecs, parseBaseline } from '#core/drift/baseline';
import { readCapture } from '#core/drift/capture';
import { DEFAULT_DATASET_SHARE, DEFAULT_MIN_RECORDS, evaluateDrift } from '#core/drift/evaluate';
import {
  type DriftReportContext,
  driftedDistributions,
  driftReportJson,
  renderDriftReportHtml,
} from '#core/drift/report';
import type { FeatureSpec } from '#core/drift/values';
import { captureKeyPrefix, driftReportPrefix, parseS3Uri, s3Uri, versionPrefix } from '#core/layout';
import { parseDuration } from '#core/manifest/duration';
import { variantName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import type { DriftInput, FeatureDrift as RegistryFeatureDrift, VersionRecord } from '#core/registry/types';
import { isModelName, manifestOf, nowIso } from './context';
import type { DriftEvaluationRequest, DriftOutcome } from './contracts';

/** The file save_baseline writes into the model folder (layers/runtime/README.md). */
export const BASELINE_FILE = 'nbops-baseline.json';
/** A baseline of 1,000 features with 10,000-value samples is about 200 MB of JSON. */
const MAX_BASELINE_BYTES = 256 * 1024 * 1024;
const MISSING_OBJECT = new Set(['NoSuchKey', 'NotFound', 'NoSuchVersion']);

/** The schema defaults of the manifest's drift section, for a model evaluated without one. */
const DEFAULT_DRIFT = {
  method: 'auto',
  window: '1h',
  datasetShare: DEFAULT_DATASET_SHARE,
  minRecords: DEFAULT_MIN_RECORDS,
} as const;

export interface DriftOptions {
  /** Where EMF documents go (default: one JSON line each on stdout). */
  emit?: (documents: Record<string, unknown>[]) => void;
}

/** The DRIFT item: the registry's fields plus what says how much the verdict rests on. */
export type DriftItem = DriftInput & {
  insufficientData: boolean;
  records: number;
  minRecords: number;
  datasetShare: number;
  evaluatedFeatures: number;
};

export async function evaluateScheduledDrift(
  services: Services,
  request: DriftEvaluationRequest,
  options: DriftOptions = {},
): Promise<DriftOutcome> {
  const ignored = (reason: string): DriftOutcome => ({ kind: 'ignored', reason });
  const { model } = request;
  if (!isModelName(model)) return ignored(`"${model}" is not an nbops model name`);
  const at = request.scheduledTime;
  const done = (await services.registry.listDrift(model, { since: at })).find((d) => d.at === at);
  if (done)
    return { kind: 'already-evaluated', model, at, ...(done.reportUri ? { reportUri: done.reportUri } : {}) };

  const meta = await services.registry.getModel(model);
  const version = meta?.aliases.champion;
  if (version === undefined) return ignored(`${model} has no version in production; nothing to evaluate`);
  const record = await services.registry.getVersion(model, version);
  if (record?.status === 'RETIRED') return ignored(`${model} is retired; its drift schedule is gone`);
  const manifest = record && manifestOf(record);
  if (!record || !manifest?.serving)
    return ignored(`version ${version} of ${model} has no serving section; it has no endpoint to evaluate`);
  const drift = manifest.drift ?? DEFAULT_DRIFT;

  const loaded = await loadBaseline(services, record);
  if ('problem' in loaded) return { kind: 'no-baseline', model, version, reason: loaded.problem };
  const { baseline, uri: baselineUri } = loaded;
  const features: FeatureSpec[] = manifest.serving.features ?? featureSpecs(baseline);

  const to = new Date(at);
  const from = new Date(to.getTime() - parseDuration(drift.window) * 1000);
  const window = await readCapture(services.store, {
    bucket: services.config.bucket,
    prefix: captureKeyPrefix(request.endpoint, variantName()),
    from,
    to,
    features,
    contentType: manifest.serving.contentType,
    baseline,
  });
  const report = evaluateDrift({
    baseline,
    current: window.accumulators,
    features,
    method: drift.method,
    ...('threshold' in drift && drift.threshold !== undefined ? { threshold: drift.threshold } : {}),
    datasetShare: drift.datasetShare,
    minRecords: drift.minRecords,
  });

  const context: DriftReportContext = {
    model,
    version,
    endpoint: request.endpoint,
    window: { from: from.toISOString(), to: to.toISOString() },
    generatedAt: nowIso(services),
    baselineUri,
    capture: window.stats,
  };
  const distributions = driftedDistributions(report, baseline, window.accumulators);
  const prefix = driftReportPrefix(model, at);
  const bucket = services.config.bucket;
  await services.store.put(
    { bucket, key: `${prefix}report.json` },
    `${JSON.stringify(driftReportJson(report, context, distributions), null, 2)}\n`,
    { contentType: 'application/json' },
  );
  await services.store.put(
    { bucket, key: `${prefix}report.html` },
    renderDriftReportHtml(report, context, distributions),
    { contentType: 'text/html; charset=utf-8' },
  );
  const reportUri = s3Uri(bucket, `${prefix}report.html`);

  (options.emit ?? printEmf)(
    driftMetricDocuments(report, { model, version, at, reportUri, timestamp: services.clock.now() }),
  );

  const evaluated: Record<string, RegistryFeatureDrift> = {};
  for (const f of report.features)
    if (f.statistic !== null)
      evaluated[f.name] = {
        statistic: f.statistic,
        threshold: f.threshold,
        drifted: f.drifted,
        method: f.method,
        ...(f.pValue !== null ? { pValue: f.pValue } : {}),
      };
  const item: DriftItem = {
    at,
    version,
    method: report.method,
    drifted: report.datasetDrift.drifted,
    features: evaluated,
    reportUri,
    sourceEventId: request.eventId,
    insufficientData: report.insufficientData,
    records: report.records,
    minRecords: report.minRecords,
    datasetShare: report.datasetDrift.share,
    evaluatedFeatures: report.datasetDrift.evaluatedFeatures,
  };
  await services.registry.putDrift(model, item);

  if (report.insufficientData)
    return {
      kind: 'insufficient-data',
      model,
      version,
      at,
      records: report.records,
      minRecords: report.minRecords,
      reportUri,
    };
  return {
    kind: 'evaluated',
    model,
    version,
    at,
    drifted: report.datasetDrift.drifted,
    share: report.datasetDrift.share,
    driftedFeatures: report.features.filter((f) => f.drifted).map((f) => f.name),
    records: report.records,
    reportUri,
  };
}

/**
 * The version's training baseline: the recorded copy when there is one, else nbops-baseline.json
 * streamed out of model.tar.gz (only that entry is kept in memory) and then copied next to the
 * version with a `baseline` fact, so later runs read a small JSON instead of the whole archive.
 */
export async function loadBaseline(
  services: Services,
  record: VersionRecord,
): Promise<{ baseline: Baseline; uri: string } | { problem: string }> {
  const recorded = record.facts.baseline?.uri;
  const where = recorded && parseS3Uri(recorded);
  if (where) {
    try {
      const bytes = await services.store.getBytes(where, { maxBytes: MAX_BASELINE_BYTES });
      return {
        baseline: parseBaseline(JSON.parse(new TextDecoder().decode(bytes)), recorded),
        uri: recorded,
      };
    } catch (err) {
      if (!isMissing(err) && !(err instanceof BaselineError) && !(err instanceof SyntaxError)) throw err;
      // Fall back to the artifact, which is the source of truth.
    }
  }
  const artifactUri = record.facts.artifact?.uri;
  const artifact = artifactUri && parseS3Uri(artifactUri);
  if (!artifact)
    return {
      problem: `version ${record.version} of ${record.model} has no recorded model artifact, so it has no baseline; retrain it`,
    };
  let text: string;
  try {
    const entry = await findTarEntry(
      await services.store.getStream(artifact),
      (path) => path === BASELINE_FILE,
      { maxBytes: MAX_BASELINE_BYTES },
    );
    if (!entry)
      return {
        problem: `${artifactUri} has no ${BASELINE_FILE}: call save_baseline(rows, features) in the notebook (nbops_runtime) so the model folder carries the training data's distribution, then retrain`,
      };
    text = new TextDecoder().decode(entry.data);
  } catch (err) {
    if (err instanceof TarError) return { problem: `${artifactUri} cannot be read: ${err.message}` };
    if (isMissing(err)) return { problem: `${artifactUri} does not exist (deleted?); retrain the model` };
    throw err;
  }
  const source = `${artifactUri}!/${BASELINE_FILE}`;
  let baseline: Baseline;
  try {
    baseline = parseBaseline(JSON.parse(text), source);
  } catch (err) {
    if (err instanceof BaselineError) return { problem: err.message };
    if (err instanceof SyntaxError) return { problem: `${source} is not valid JSON (${err.message})` };
    throw err;
  }
  return { baseline, uri: (await cacheBaseline(services, record, text)) ?? source };
}

/** Best effort: a failed copy costs the next run another pass over the archive, nothing else. */
async function cacheBaseline(
  services: Services,
  record: VersionRecord,
  text: string,
): Promise<string | undefined> {
  try {
    const key = `${versionPrefix(record.model, record.version)}baseline/${BASELINE_FILE}`;
    await services.store.put({ bucket: services.config.bucket, key }, text, {
      contentType: 'application/json',
    });
    const uri = s3Uri(services.config.bucket, key);
    const sha256 = createHash('sha256').update(text).digest('hex');
    await services.registry.recordFacts(record.model, record.version, { baseline: { uri, sha256 } });
    return uri;
  } catch {
    return undefined;
  }
}

function isMissing(err: unknown): boolean {
  return MISSING_OBJECT.has((err as { name?: string } | null)?.name ?? '');
}
