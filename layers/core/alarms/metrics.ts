/**
 * nbops's own CloudWatch metrics (namespace `nbops`) and the Embedded Metric Format lines that
 * carry them: in Lambda a JSON object per stdout line becomes metrics with no API call; the local
 * host reads the same lines. Spec: CloudWatch user guide, "Embedded metric format specification".
 *
 * Drift metrics, per evaluation (dimension `Model`, plus `Feature` for the per-feature score):
 *   DriftScore         the feature's statistic (a distance or test statistic; see docs/drift.md)
 *   FeatureDrifted     1 when the feature drifted, else 0
 *   DatasetDriftShare  share of evaluated features that drifted (0-1)
 *   DatasetDrift       1 when the dataset drifted, else 0; absent when the window had too few
 *                      records for a verdict (the drift alarm then keeps its state)
 *   RecordsEvaluated   rows read from data capture in the window
 */
import type { DriftReport } from '#core/drift/evaluate';

export const NBOPS_NAMESPACE = 'nbops';

export const DRIFT_METRICS = {
  score: 'DriftScore',
  featureDrifted: 'FeatureDrifted',
  share: 'DatasetDriftShare',
  datasetDrift: 'DatasetDrift',
  records: 'RecordsEvaluated',
} as const;

export const MODEL_DIMENSION = 'Model';
export const FEATURE_DIMENSION = 'Feature';

/** EMF allows at most 100 metrics per directive and 30 dimension keys per set. */
const MAX_METRICS = 100;

export type EmfUnit = 'None' | 'Count' | 'Percent';

export interface EmfMetric {
  name: string;
  value: number;
  unit?: EmfUnit;
}

/**
 * One EMF document: the metrics with the given dimensions at `timestamp`, plus `properties` as
 * extra top-level fields (searchable in Logs Insights, not metrics). Non-finite values cannot be
 * metric values (CloudWatch rejects NaN and infinities), so they are left out.
 */
export function emfDocument(input: {
  timestamp: Date;
  dimensions: Record<string, string>;
  metrics: EmfMetric[];
  properties?: Record<string, unknown>;
  namespace?: string;
}): Record<string, unknown> {
  const metrics = input.metrics.filter((m) => Number.isFinite(m.value));
  if (metrics.length > MAX_METRICS)
    throw new Error(`an EMF document holds at most ${MAX_METRICS} metrics; got ${metrics.length}`);
  const keys = Object.keys(input.dimensions);
  const names = new Set([...keys, ...metrics.map((m) => m.name), '_aws']);
  // Properties may not shadow a dimension or metric: CloudWatch would read them as such.
  const properties = Object.fromEntries(
    Object.entries(input.properties ?? {}).filter(([key]) => !names.has(key)),
  );
  return {
    _aws: {
      Timestamp: input.timestamp.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: input.namespace ?? NBOPS_NAMESPACE,
          Dimensions: [keys],
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit ?? 'None' })),
        },
      ],
    },
    ...properties,
    ...input.dimensions,
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  };
}

/**
 * Writes EMF documents to stdout, one line each, bypassing `console` (Lambda's console prefixes
 * every line with a timestamp and request id, which would stop CloudWatch from reading it).
 */
export function printEmf(documents: Record<string, unknown>[]): void {
  for (const doc of documents) process.stdout.write(`${JSON.stringify(doc)}\n`);
}

/**
 * The EMF documents of one drift evaluation: one for the dataset (dimension Model), one per
 * evaluated feature (dimensions Model, Feature). Timestamped when emitted, so the drift alarm's
 * current period sees the verdict however long the evaluation took; the window's end is a property.
 */
export function driftMetricDocuments(
  report: DriftReport,
  context: { model: string; version: number; at: string; reportUri: string; timestamp: Date },
): Record<string, unknown>[] {
  const verdict = !report.insufficientData;
  const properties = {
    version: context.version,
    windowEnd: context.at,
    method: report.method,
    reportUri: context.reportUri,
    insufficientData: report.insufficientData,
  };
  const dataset = emfDocument({
    timestamp: context.timestamp,
    dimensions: { [MODEL_DIMENSION]: context.model },
    metrics: [
      { name: DRIFT_METRICS.records, value: report.records, unit: 'Count' },
      ...(report.datasetDrift.evaluatedFeatures > 0
        ? [{ name: DRIFT_METRICS.share, value: report.datasetDrift.share }]
        : []),
      ...(verdict ? [{ name: DRIFT_METRICS.datasetDrift, value: report.datasetDrift.drifted ? 1 : 0 }] : []),
    ],
    properties,
  });
  const features = report.features
    .filter((f) => f.statistic !== null)
    .map((f) =>
      emfDocument({
        timestamp: context.timestamp,
        dimensions: { [MODEL_DIMENSION]: context.model, [FEATURE_DIMENSION]: f.name },
        metrics: [
          { name: DRIFT_METRICS.score, value: f.statistic! },
          ...(verdict ? [{ name: DRIFT_METRICS.featureDrifted, value: f.drifted ? 1 : 0 }] : []),
        ],
        properties: { ...properties, featureMethod: f.method, pValue: f.pValue, threshold: f.threshold },
      }),
    );
  return [dataset, ...features];
}
