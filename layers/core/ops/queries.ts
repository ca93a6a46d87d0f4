/**
 * The read operations of the ops API and CLI: what is running, is it healthy, what changed. Pure
 * over Services (registry, store, SageMaker describes), so the ops API on AWS and the local host
 * answer the same way.
 */
import { s3Uri, versionPrefix } from '#core/layout';
import { endpointName } from '#core/manifest/names';
import type { Services } from '#core/ports';
import { isStatus, STATUSES, type Status } from '#core/registry/lifecycle';
import type {
  AuditEvent,
  DriftRecord,
  IncidentRecord,
  ModelRecord,
  VersionRecord,
} from '#core/registry/types';
import { currentReason, endpointConfigVersion, isModelName, manifestOf } from '#core/service/context';
import { retrainLineage } from '#core/service/retrain';
import { OpsError } from './errors';
import type {
  DeploymentEvent,
  EndpointView,
  IncidentList,
  ModelSummary,
  TrainingLogs,
  VersionDetail,
  VersionSummary,
} from './views';

/** Where the HTML report of a version is written, beside its validation reports. */
export function versionReportKey(model: string, version: number): string {
  return `${versionPrefix(model, version)}reports/version.html`;
}

/** SageMaker training jobs log to this group, one stream per instance: `<job>/algo-1-<epoch>`. */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/** Most drift evaluations returned at once (hourly evaluations: three weeks). */
export const MAX_DRIFT_RECORDS = 500;

// --- inputs ------------------------------------------------------------------------------------

export function checkModelName(model: string): string {
  if (!isModelName(model))
    throw new OpsError(
      'INVALID_REQUEST',
      `"${model}" is not a model name: lower-case letters, digits and single hyphens, starting with a letter (the manifest's model.name)`,
    );
  return model;
}

/** `3` or `v3`; INVALID_REQUEST otherwise. */
export function parseVersionNumber(text: string | number): number {
  const raw = String(text).trim();
  const match = /^v?([1-9]\d{0,5})$/i.exec(raw);
  if (!match)
    throw new OpsError(
      'INVALID_REQUEST',
      `"${raw}" is not a version number: give the number nbops assigned, e.g. 3 or v3 (list them with \`nbops versions <model>\`)`,
    );
  return Number(match[1]);
}

export function parseStatus(text: string): Status {
  const upper = text.trim().toUpperCase();
  if (!isStatus(upper))
    throw new OpsError(
      'INVALID_REQUEST',
      `"${text}" is not a version status; use one of ${STATUSES.join(', ')}`,
    );
  return upper;
}

export async function requireModel(services: Services, model: string): Promise<ModelRecord> {
  checkModelName(model);
  const meta = await services.registry.getModel(model);
  if (!meta)
    throw new OpsError(
      'UNKNOWN_MODEL',
      `model ${model} is not registered: list models with \`nbops models\`, or submit its notebook first`,
    );
  return meta;
}

export async function requireVersion(
  services: Services,
  model: string,
  version: number,
): Promise<{ meta: ModelRecord; record: VersionRecord }> {
  const meta = await requireModel(services, model);
  const record = await services.registry.getVersion(model, version);
  if (!record)
    throw new OpsError(
      'UNKNOWN_VERSION',
      `version ${version} of ${model} is not registered (the latest is v${meta.latestVersion}): list versions with \`nbops versions ${model}\``,
    );
  return { meta, record };
}

/** The model's incidents (only open ones, or all), newest first. */
async function modelIncidents(services: Services, model: string, open: boolean): Promise<IncidentRecord[]> {
  const incidents = open
    ? await services.registry.openIncidents(model)
    : await services.registry.listIncidents(model);
  return newestFirst(incidents);
}

const newestFirst = <T extends { at: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));

// --- models and versions -----------------------------------------------------------------------

export async function endpointView(services: Services, model: string): Promise<EndpointView | undefined> {
  const name = endpointName(model);
  const endpoint = await services.sagemaker.describeEndpoint(name);
  if (!endpoint) return undefined;
  const config = endpoint.EndpointConfigName;
  const version = endpointConfigVersion(model, config);
  const pending = endpointConfigVersion(model, endpoint.PendingDeploymentSummary?.EndpointConfigName);
  return {
    name,
    status: endpoint.EndpointStatus ?? 'Unknown',
    ...(config ? { endpointConfigName: config } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(pending !== undefined && pending !== version ? { pendingVersion: pending } : {}),
    ...(endpoint.FailureReason ? { failureReason: endpoint.FailureReason } : {}),
  };
}

export async function listModels(services: Services): Promise<ModelSummary[]> {
  const models = await services.registry.listModels();
  const out: ModelSummary[] = [];
  for (const meta of models) {
    const champion = meta.aliases.champion;
    const championRecord =
      champion === undefined ? undefined : await services.registry.getVersion(meta.model, champion);
    const endpoint = await endpointView(services, meta.model);
    const open = await services.registry.openIncidents(meta.model);
    out.push({
      model: meta.model,
      owner: meta.owner,
      latestVersion: meta.latestVersion,
      createdAt: meta.createdAt,
      updatedAt: meta.updatedAt,
      ...(champion !== undefined && meta.champion
        ? {
            champion: {
              version: champion,
              ...(championRecord ? { status: championRecord.status } : {}),
              promotedAt: meta.champion.promotedAt,
              ...(meta.champion.metrics ? { metrics: meta.champion.metrics } : {}),
            },
          }
        : {}),
      ...(meta.aliases.challenger !== undefined ? { challenger: meta.aliases.challenger } : {}),
      ...(endpoint ? { endpoint } : {}),
      openIncidents: open.length,
    });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model));
}

export function versionSummary(record: VersionRecord, champion: number | undefined): VersionSummary {
  const facts = record.facts;
  const reason = currentReason(record);
  const lineage = retrainLineage(facts.notebook?.key);
  return {
    model: record.model,
    version: record.version,
    status: record.status,
    ...(reason !== undefined ? { reason } : {}),
    ...(record.lastChange?.to === record.status ? { changedBy: record.lastChange.actor } : {}),
    uploader: record.uploader,
    owner: record.owner,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    champion: record.version === champion,
    ...(facts.metrics ? { metrics: facts.metrics } : {}),
    ...(facts.gates ? { gatesPassed: facts.gates.passed } : {}),
    ...(lineage ? { retrainOf: lineage.retrainOf } : {}),
    ...(facts.notebook
      ? {
          notebook: {
            key: facts.notebook.key,
            ...(facts.notebook.etag ? { etag: facts.notebook.etag } : {}),
          },
        }
      : {}),
  };
}

export async function listVersions(
  services: Services,
  model: string,
  options: { status?: Status } = {},
): Promise<{ model: string; champion?: number; versions: VersionSummary[] }> {
  const meta = await requireModel(services, model);
  const versions = await services.registry.listVersions(model, {
    newestFirst: true,
    ...(options.status ? { status: options.status } : {}),
  });
  const champion = meta.aliases.champion;
  return {
    model,
    ...(champion !== undefined ? { champion } : {}),
    versions: versions.map((v) => versionSummary(v, champion)),
  };
}

/** What a version's way to and out of production looked like, from the model's audit trail. */
export function deploymentEvents(trail: readonly AuditEvent[], version: number): DeploymentEvent[] {
  const events: DeploymentEvent[] = [];
  const steps: readonly Status[] = [
    'APPROVED',
    'DEPLOYING',
    'DEPLOYED',
    'DEPLOY_FAILED',
    'ROLLED_BACK',
    'RETIRED',
  ];
  for (const e of trail) {
    if (e.kind === 'transition' && e.version === version && steps.includes(e.to))
      events.push({ at: e.at, event: e.to, actor: e.actor, reason: e.reason });
    else if (e.kind === 'alias' && e.alias === 'champion') {
      if (e.version === version && e.previousVersion !== version)
        events.push({ at: e.at, event: 'champion', actor: e.actor, reason: e.reason });
      else if (e.previousVersion === version && e.version !== version)
        events.push({ at: e.at, event: 'replaced', actor: e.actor, reason: e.reason, by: e.version });
    }
  }
  return events;
}

function declaredGates(record: VersionRecord): string[] {
  const manifest = manifestOf(record);
  if (!manifest) return [];
  const out: string[] = [];
  for (const gate of manifest.gates) {
    if (gate.min !== undefined) out.push(`${gate.metric} >= ${gate.min}`);
    if (gate.max !== undefined) out.push(`${gate.metric} <= ${gate.max}`);
    if (gate.noWorseThanChampionBy !== undefined)
      out.push(`${gate.metric} no worse than the champion by ${gate.noWorseThanChampionBy}`);
  }
  return out;
}

export async function showVersion(
  services: Services,
  model: string,
  version: number,
): Promise<VersionDetail> {
  const { meta, record } = await requireVersion(services, model, version);
  const facts = record.facts;
  const trail = await services.registry.auditTrail(model);
  const drift = (await services.registry.listDrift(model, { since: record.createdAt }))
    .filter((d) => d.version === version)
    .slice(0, MAX_DRIFT_RECORDS);
  const incidents = await modelIncidents(services, model, false);
  const manifest = manifestOf(record);
  const bucket = services.config.bucket;
  const retrain = retrainLineage(facts.notebook?.key);
  return {
    ...versionSummary(record, meta.aliases.champion),
    ...(record.lastChange ? { lastChange: record.lastChange } : {}),
    lineage: {
      ...(facts.notebook
        ? { notebook: { ...facts.notebook, uri: s3Uri(facts.notebook.bucket, facts.notebook.key) } }
        : {}),
      ...(facts.manifestHash ? { manifestHash: facts.manifestHash } : {}),
      dataRefs: facts.dataRefs ?? [],
      ...(facts.trainingImage ? { trainingImage: facts.trainingImage } : {}),
      ...(facts.servingImage ? { servingImage: facts.servingImage } : {}),
      ...(facts.trainingJob ? { trainingJob: facts.trainingJob } : {}),
      ...(facts.artifact ? { artifact: facts.artifact } : {}),
      ...(facts.baseline ? { baseline: facts.baseline } : {}),
      ...(retrain ? { retrainOf: retrain.retrainOf } : {}),
    },
    ...(manifest
      ? {
          deploymentPolicy: {
            approval: manifest.deployment.approval,
            strategy: manifest.deployment.strategy,
            bakeTime: manifest.deployment.bakeTime,
          },
        }
      : {}),
    ...(facts.gates ? { gates: facts.gates } : {}),
    declaredGates: declaredGates(record),
    ...(facts.validation ? { validation: facts.validation } : {}),
    // The HTML version report exists once `nbops report` (POST .../report) has written it.
    reports: {
      ...(facts.reportUris ?? {}),
      ...((await services.store.head({ bucket, key: versionReportKey(model, version) }))
        ? { version: s3Uri(bucket, versionReportKey(model, version)) }
        : {}),
    },
    ...(record.approval ? { approval: record.approval } : {}),
    ...(facts.billableSeconds !== undefined ? { billableSeconds: facts.billableSeconds } : {}),
    ...(facts.deployment ? { deployment: facts.deployment } : {}),
    deployments: deploymentEvents(trail, version),
    drift,
    incidents: incidents.filter((i) => i.version === version),
    audit: trail.filter((e) => e.version === version && e.kind !== 'alias'),
  };
}

// --- drift, incidents, logs ---------------------------------------------------------------------

export async function driftHistory(
  services: Services,
  model: string,
  options: { since?: string; limit?: number } = {},
): Promise<{ model: string; evaluations: DriftRecord[] }> {
  await requireModel(services, model);
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since)))
    throw new OpsError(
      'INVALID_REQUEST',
      `since "${options.since}" is not an ISO-8601 time, e.g. 2025-03-01T00:00:00Z`,
    );
  const limit = Math.min(options.limit ?? MAX_DRIFT_RECORDS, MAX_DRIFT_RECORDS);
  const evaluations = await services.registry.listDrift(model, {
    limit,
    ...(options.since !== undefined ? { since: new Date(options.since).toISOString() } : {}),
  });
  return { model, evaluations };
}

export async function listIncidents(
  services: Services,
  options: { model?: string; open?: boolean } = {},
): Promise<IncidentList> {
  const models =
    options.model !== undefined
      ? [(await requireModel(services, options.model)).model]
      : (await services.registry.listModels()).map((m) => m.model);
  const all: IncidentRecord[] = [];
  for (const model of models) all.push(...(await modelIncidents(services, model, options.open ?? false)));
  return { incidents: newestFirst(all) };
}

const ms = (d: Date | undefined) => (d ? new Date(d).toISOString() : undefined);

export async function trainingLogs(
  services: Services,
  model: string,
  version: number,
): Promise<TrainingLogs> {
  const { record } = await requireVersion(services, model, version);
  const job = record.facts.trainingJob;
  const bucket = services.config.bucket;
  const prefix = `${versionPrefix(model, version)}training/`;
  const objects: { uri: string; size: number }[] = [];
  for await (const object of services.store.list(bucket, job ? `${prefix}${job.name}/` : prefix))
    objects.push({ uri: s3Uri(bucket, object.key), size: object.size });
  const out: TrainingLogs = {
    model,
    version,
    output: { prefix: s3Uri(bucket, job ? `${prefix}${job.name}/` : prefix), objects },
  };
  if (!job) return out;
  const described = await services.sagemaker.describeTrainingJob(job.name);
  const started = ms(described?.TrainingStartTime);
  const ended = ms(described?.TrainingEndTime);
  out.trainingJob = {
    name: job.name,
    ...(job.arn ? { arn: job.arn } : {}),
    ...(described?.TrainingJobStatus ? { status: described.TrainingJobStatus } : {}),
    ...(described?.SecondaryStatus ? { secondaryStatus: described.SecondaryStatus } : {}),
    ...(described?.FailureReason ? { failureReason: described.FailureReason } : {}),
    ...(started ? { startedAt: started } : {}),
    ...(ended ? { endedAt: ended } : {}),
    ...(described?.BillableTimeInSeconds !== undefined
      ? { billableSeconds: described.BillableTimeInSeconds }
      : {}),
  };
  const region = services.config.policy.aws?.region;
  if (region) {
    const encode = (text: string) => encodeURIComponent(text).replaceAll('%', '$25');
    out.cloudWatch = {
      region,
      logGroup: TRAINING_LOG_GROUP,
      logStreamPrefix: `${job.name}/`,
      consoleUrl:
        `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/` +
        `${encode(TRAINING_LOG_GROUP)}$3FlogStreamNameFilter$3D${encode(`${job.name}/`)}`,
    };
  }
  return out;
}
