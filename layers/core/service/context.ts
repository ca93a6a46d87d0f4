/**
 * What the use cases share: who they act as, the time, the version's manifest and build context,
 * SageMaker names parsed back into (model, version), and a transition helper that survives races
 * with concurrent deliveries of the same event.
 */
import { rollbackAlarmNames } from '#core/alarms/rollback';
import { MAX_MODEL_NAME_LENGTH } from '#core/manifest/names';
import { applyManifestDefaults, type ResolvedManifest, validateManifestShape } from '#core/manifest/schema';
import type { Policy } from '#core/policy/policy';
import type { Services } from '#core/ports';
import { IllegalTransitionError, NotFoundError } from '#core/registry/errors';
import type { Status } from '#core/registry/lifecycle';
import type { TransitionInput, TransitionResult, VersionRecord } from '#core/registry/types';
import type { BuildContext } from '#core/sagemaker/context';

/** Who a change is attributed to in the audit trail when nbops itself makes it. */
export const ACTORS = {
  submit: 'nbops:submit',
  training: 'nbops:training',
  autoApproval: 'nbops:auto-approval',
  deploy: 'nbops:deploy',
  endpoint: 'nbops:endpoint',
  sweeper: 'nbops:sweeper',
} as const;

/**
 * How long after a version entered TRAINING or DEPLOYING another delivery assumes the delivery
 * that moved it there is still starting the job or deployment (and asks to be retried instead of
 * starting it a second time). A crashed delivery is retried by Lambda after about a minute, past
 * this window, and then starts the work itself (idempotently).
 */
export const IN_FLIGHT_GRACE_SECONDS = 30;

export function nowIso(services: Services): string {
  return services.clock.now().toISOString();
}

const MODEL_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A name nbops can derive SageMaker names from (manifest model.name rules). */
export function isModelName(name: string): boolean {
  return name.length <= MAX_MODEL_NAME_LENGTH && MODEL_NAME.test(name);
}

/** `churn-v7-1a2b3c4d` -> churn, 7, 1a2b3c4d; undefined for names nbops does not make. */
export function parseTrainingJobName(
  name: string,
): { model: string; version: number; hash: string } | undefined {
  const match = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)-v([1-9]\d{0,5})-([0-9a-f]{8})$/.exec(name);
  if (!match || !isModelName(match[1]!)) return undefined;
  return { model: match[1]!, version: Number(match[2]), hash: match[3]! };
}

/** The version an endpoint config of `model` belongs to (`churn-v7` or `churn-v7-1a2b3c4d`). */
export function endpointConfigVersion(model: string, configName: string | undefined): number | undefined {
  if (!configName?.startsWith(`${model}-v`)) return undefined;
  const match = /^([1-9]\d{0,5})(?:-[0-9a-f]{8})?$/.exec(configName.slice(model.length + 2));
  return match ? Number(match[1]) : undefined;
}

/** The version's manifest with defaults applied; undefined when none was recorded. */
export function manifestOf(record: VersionRecord): ResolvedManifest | undefined {
  const raw = record.facts.manifest;
  if (!raw) return undefined;
  const shape = validateManifestShape(raw);
  return shape.ok ? applyManifestDefaults(shape.value) : undefined;
}

/**
 * The policy requests are built with: the configured artifact bucket is where nbops writes, so it
 * overrides whatever policy.aws says (requests must point where the notebook copy really is).
 */
export function buildPolicy(services: Services): Policy {
  const policy = services.config.policy;
  return { ...policy, aws: { ...policy.aws, artifactBucket: services.config.bucket } };
}

/** The last path segment of an S3 key. */
export function fileName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** The request-builder context of a registered version (its manifest must have been recorded). */
export function buildContextOf(services: Services, record: VersionRecord): BuildContext {
  const manifest = manifestOf(record);
  const notebook = record.facts.notebook;
  if (!manifest || !notebook)
    throw new Error(
      `version ${record.version} of ${record.model} has no recorded manifest or notebook; it was never validated`,
    );
  return {
    model: record.model,
    version: record.version,
    manifest,
    policy: buildPolicy(services),
    notebook: { file: fileName(notebook.key), sha256: notebook.sha256 },
    runtime: { hash: services.config.runtimeHash },
    owner: manifest.model.owner,
  };
}

/** When the version entered its current status (the last transition, else registration). */
export function enteredStatusAt(record: VersionRecord): string {
  return record.lastChange?.to === record.status ? record.lastChange.at : record.updatedAt;
}

/** True while the delivery that moved the version to its status may still be doing the follow-up work. */
export function withinGrace(services: Services, record: VersionRecord): boolean {
  const since = Date.parse(enteredStatusAt(record));
  return services.clock.now().getTime() - since < IN_FLIGHT_GRACE_SECONDS * 1000;
}

export async function mustGetVersion(
  services: Services,
  model: string,
  version: number,
): Promise<VersionRecord> {
  const record = await services.registry.getVersion(model, version);
  if (!record) throw new NotFoundError(model, version);
  return record;
}

/**
 * A transition that tolerates concurrent deliveries: when another delivery moved the version
 * first (the lifecycle refuses this move from the new state), the fresh record is returned with
 * changed = false so the caller continues from wherever the version is now.
 */
export async function advance(
  services: Services,
  record: VersionRecord,
  input: Omit<TransitionInput, 'at'> & { at?: string },
): Promise<TransitionResult> {
  try {
    return await services.registry.transition(record.model, record.version, {
      ...input,
      at: input.at ?? nowIso(services),
    });
  } catch (err) {
    if (!(err instanceof IllegalTransitionError)) throw err;
    const fresh = await mustGetVersion(services, record.model, record.version);
    if (fresh.status === record.status) throw err; // not a race: the move itself is illegal
    return { changed: false, status: fresh.status, record: fresh };
  }
}

/** Statuses in which a version's training is over (successfully or not). */
export const AFTER_TRAINING: readonly Status[] = [
  'TRAINED',
  'GATES_PASSED',
  'GATES_FAILED',
  'PENDING_APPROVAL',
  'APPROVED',
  'DECLINED',
  'DEPLOYING',
  'DEPLOYED',
  'DEPLOY_FAILED',
  'ROLLED_BACK',
];

/** The reason of the transition that put the version in its current status, when recorded. */
export function currentReason(record: VersionRecord): string | undefined {
  return record.lastChange?.to === record.status ? record.lastChange.reason : undefined;
}

/** Which of the named alarms are in ALARM now. */
export async function firingAlarms(services: Services, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const states = await services.alarms.describeAlarms([...names]);
  return states.filter((s) => s.state === 'ALARM').map((s) => s.name);
}

/**
 * The version's rollback alarms (those its blue/green update names in AutoRollbackConfiguration)
 * that are in ALARM now; none when its manifest cannot say which they are.
 */
export async function firingRollbackAlarms(services: Services, record: VersionRecord): Promise<string[]> {
  let names: string[];
  try {
    names = rollbackAlarmNames(buildContextOf(services, record));
  } catch {
    return [];
  }
  return firingAlarms(services, names);
}
