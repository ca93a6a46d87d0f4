/**
 * The manifest's shape, checked against schemas/manifest.schema.json (the single source of truth),
 * and its defaults, read from the schema's `default` keywords.
 */

import { isRecord } from '#core/notebook/notebook';
import manifestSchema from '../../../schemas/manifest.schema.json' with { type: 'json' };
import { type Duration, parseDuration } from './duration';
import type { Manifest } from './manifest.generated';
import { describeErrors, type SchemaProblem, validatorFor } from './schema-errors';

export type { Manifest } from './manifest.generated';
export type { SchemaProblem } from './schema-errors';
export { manifestSchema };

export type ManifestShapeResult = { ok: true; value: Manifest } | { ok: false; errors: SchemaProblem[] };

/** Checks `raw` against the manifest schema; never throws, whatever `raw` is. */
export function validateManifestShape(raw: unknown): ManifestShapeResult {
  const validate = validatorFor(manifestSchema);
  if (validate(raw)) return { ok: true, value: raw as Manifest };
  return { ok: false, errors: describeErrors(validate.errors ?? [], raw, 'manifest', manifestSchema) };
}

type Defaulted<T, K extends keyof T> = T & { [P in K]-?: Exclude<T[P], undefined> };
type Training = Manifest['training'];
type Serving = NonNullable<Manifest['serving']>;

/** A manifest with every schema default filled in (what nbops actually uses). */
export type ResolvedManifest = Defaulted<Manifest, 'parameters' | 'data' | 'metrics' | 'gates'> & {
  model: Defaulted<Manifest['model'], 'tags'>;
  training: Defaulted<Training, 'instanceCount' | 'volumeSizeGB' | 'maxRuntime' | 'environment'> & {
    /** `maxWait` is filled (twice maxRuntime) when spot is enabled and it was absent. */
    spot: Defaulted<NonNullable<Training['spot']>, 'enabled'>;
    checkpoints: Defaulted<NonNullable<Training['checkpoints']>, 'enabled'>;
  };
  serving?: Defaulted<Serving, 'instanceCount' | 'contentType' | 'accept' | 'environment'> & {
    dataCapture: Defaulted<NonNullable<Serving['dataCapture']>, 'enabled' | 'samplingPercent'>;
  };
  deployment: Defaulted<
    NonNullable<Manifest['deployment']>,
    'approval' | 'strategy' | 'canaryPercent' | 'linearStepPercent' | 'bakeTime' | 'rollbackWindow'
  >;
  drift?: Defaulted<
    NonNullable<Manifest['drift']>,
    'schedule' | 'method' | 'datasetShare' | 'window' | 'minRecords' | 'action' | 'retrainCooldown'
  >;
};

/**
 * Returns a new manifest with every absent field that has a schema `default` filled in. Objects
 * whose schema default is `{}` (e.g. training.spot, deployment) are created so their own defaults
 * apply; optional sections without a default (serving, slo, drift) stay absent. Two defaults
 * depend on other fields and are derived here: spot.maxWait (twice maxRuntime) and serving.accept
 * (same as contentType). Expects a schema-valid manifest.
 */
export function applyManifestDefaults(m: Manifest): ResolvedManifest {
  const resolved = withDefaults(manifestSchema, m) as ResolvedManifest;
  const spot = resolved.training.spot;
  if (spot.enabled && spot.maxWait === undefined) {
    const maxRuntime = safeSeconds(resolved.training.maxRuntime);
    if (maxRuntime !== undefined) spot.maxWait = 2 * maxRuntime;
  }
  if (resolved.serving && resolved.serving.accept === undefined)
    resolved.serving.accept = resolved.serving.contentType;
  return resolved;
}

type SchemaNode = Record<string, unknown>;

function withDefaults(schema: unknown, value: unknown): unknown {
  if (!isRecord(schema)) return value;
  if (Array.isArray(value))
    return isRecord(schema.items) ? value.map((item) => withDefaults(schema.items, item)) : [...value];
  if (!isRecord(value)) return value;
  const properties = (isRecord(schema.properties) ? schema.properties : {}) as Record<string, SchemaNode>;
  // Map entries (parameters, tags, environment) are scalars without defaults: the spread copies them.
  const out: Record<string, unknown> = { ...value };
  for (const [name, sub] of Object.entries(properties)) {
    if (out[name] === undefined && 'default' in sub) out[name] = structuredClone(sub.default);
    if (out[name] !== undefined) out[name] = withDefaults(sub, out[name]);
  }
  return out;
}

function safeSeconds(d: Duration): number | undefined {
  try {
    return parseDuration(d);
  } catch {
    return undefined;
  }
}
