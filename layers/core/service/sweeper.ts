/**
 * The stuck-version sweep (every 15 minutes): nothing stays TRAINING or DEPLOYING forever.
 *
 * - TRAINING past the job's limits (maxRuntime, plus maxWait with spot) plus an hour: describe the
 *   job. If SageMaker finished it, the finishing event was lost: process it as the event would
 *   have. If it is still running, nbops stops it; either way (or when the job was never created)
 *   the version becomes TRAINING_FAILED with a "stuck" reason.
 * - DEPLOYING for more than 15 minutes without its deployment sent (the deploy handler waited for
 *   a busy endpoint or a firing rollback alarm, and Lambda's few retries ran out): "Version
 *   Approved" is published again, so the deploy handler tries again (each run, until the limit below).
 * - DEPLOYING past the deployment's MaximumExecutionTimeoutInSeconds plus an hour: describe the
 *   endpoint and settle the version as the endpoint event would have; if the endpoint still does
 *   not say how the deployment ended, DEPLOY_FAILED "stuck".
 * A version that fails here is reported in `errors` and tried again on the next run.
 */
import { formatDuration, parseDuration } from '#core/manifest/duration';
import { MAX_DEPLOYMENT_SECONDS } from '#core/manifest/limits';
import { endpointName, trainingJobName } from '#core/manifest/names';
import type { ResolvedManifest } from '#core/manifest/schema';
import type { Services } from '#core/ports';
import type { Status } from '#core/registry/lifecycle';
import type { VersionRecord } from '#core/registry/types';
import { deploymentTimeline } from '#core/sagemaker/deployment';
import { NBOPS_EVENTS } from '#core/wiring';
import { ACTORS, advance, enteredStatusAt, manifestOf, mustGetVersion } from './context';
import type { SweepOutcome, SweepRequest } from './contracts';
import { resolveDeployment } from './endpoint';
import { processTrainingJob } from './training';

/** Slack on top of SageMaker's own limits before a version counts as stuck. */
export const STUCK_SLACK_SECONDS = 3600;
/** How long a deployment may wait unsent (its event's retries) before the sweep sends it again. */
export const RESEND_DEPLOYMENT_AFTER_SECONDS = 900;
/** SageMaker's default MaxRuntimeInSeconds, used when a manifest's value cannot be read. */
const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;
const FINISHED = new Set(['Completed', 'Failed', 'Stopped']);

function seconds(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch {
    return fallback;
  }
}

/** Longest a version's training job may take: maxRuntime, plus maxWait for spot jobs. */
export function trainingLimitSeconds(manifest: ResolvedManifest | undefined): number {
  const runtime = seconds(manifest?.training.maxRuntime, DEFAULT_MAX_RUNTIME_SECONDS);
  if (!manifest?.training.spot.enabled) return runtime;
  return runtime + seconds(manifest.training.spot.maxWait, 2 * runtime);
}

/** Longest a version's deployment may take: its MaximumExecutionTimeoutInSeconds. */
export function deploymentLimitSeconds(manifest: ResolvedManifest | undefined): number {
  if (!manifest) return MAX_DEPLOYMENT_SECONDS;
  try {
    return deploymentTimeline(manifest).timeoutSeconds;
  } catch {
    return MAX_DEPLOYMENT_SECONDS;
  }
}

export async function sweepStuckVersions(services: Services, request: SweepRequest): Promise<SweepOutcome> {
  const now = services.clock.now().getTime();
  const outcome: SweepOutcome = { marked: [], resolved: [], resent: [], errors: [] };
  // Nothing is stuck before the slack has passed, whatever its limits; an unsent deployment is
  // sent again sooner.
  const before = (seconds: number) => new Date(now - seconds * 1000).toISOString();
  const sweeps: [Status, string, (v: VersionRecord, elapsed: number, stuck: boolean) => Promise<void>][] = [
    [
      'TRAINING',
      before(STUCK_SLACK_SECONDS),
      (v, elapsed, stuck) =>
        stuck ? sweepTraining(services, v, request, elapsed, outcome) : Promise.resolve(),
    ],
    [
      'DEPLOYING',
      before(RESEND_DEPLOYMENT_AFTER_SECONDS),
      (v, elapsed, stuck) =>
        stuck
          ? sweepDeploying(services, v, request, elapsed, outcome)
          : resendDeployment(services, v, elapsed, outcome),
    ],
  ];
  for (const [status, updatedBefore, sweep] of sweeps) {
    for (const version of await services.registry.versionsByStatus(status, { updatedBefore })) {
      if (version.status !== status) continue;
      const manifest = manifestOf(version);
      const limit = status === 'TRAINING' ? trainingLimitSeconds(manifest) : deploymentLimitSeconds(manifest);
      const elapsed = (now - Date.parse(enteredStatusAt(version))) / 1000;
      try {
        await sweep(version, elapsed, elapsed > limit + STUCK_SLACK_SECONDS);
      } catch (err) {
        outcome.errors.push({
          model: version.model,
          version: version.version,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
  return outcome;
}

async function sweepTraining(
  services: Services,
  record: VersionRecord,
  request: SweepRequest,
  elapsed: number,
  outcome: SweepOutcome,
): Promise<void> {
  const jobName =
    record.facts.trainingJob?.name ??
    trainingJobName(record.model, record.version, record.facts.notebook?.sha256 ?? '');
  const job = await services.sagemaker.describeTrainingJob(jobName);
  const status = job?.TrainingJobStatus;
  if (job && status && FINISHED.has(status)) {
    await processTrainingJob(services, record, jobName, request.eventId);
    const after = await mustGetVersion(services, record.model, record.version);
    outcome.resolved.push({
      model: record.model,
      version: record.version,
      from: 'TRAINING',
      to: after.status,
    });
    return;
  }
  const limit = formatDuration(trainingLimitSeconds(manifestOf(record)));
  let reason: string;
  if (job) {
    if (status !== 'Stopping') await services.sagemaker.stopTrainingJob(jobName);
    reason = `stuck: training job ${jobName} is still ${status} ${formatDuration(Math.round(elapsed))} after the version entered TRAINING, past its limit (${limit}) plus ${formatDuration(STUCK_SLACK_SECONDS)}; nbops stopped it. Upload the notebook again to retry.`;
  } else {
    reason = `stuck: training job ${jobName} was never created (the submit step did not finish within ${limit} plus ${formatDuration(STUCK_SLACK_SECONDS)}). Upload the notebook again to retry.`;
  }
  await markStuck(services, record, 'TRAINING_FAILED', reason, request, outcome);
}

async function sweepDeploying(
  services: Services,
  record: VersionRecord,
  request: SweepRequest,
  elapsed: number,
  outcome: SweepOutcome,
): Promise<void> {
  const name = endpointName(record.model);
  const endpoint = await services.sagemaker.describeEndpoint(name);
  const settled = await resolveDeployment(services, record, endpoint, request.eventId);
  if (settled.kind !== 'in-progress') {
    const after = await mustGetVersion(services, record.model, record.version);
    outcome.resolved.push({
      model: record.model,
      version: record.version,
      from: 'DEPLOYING',
      to: after.status,
    });
    return;
  }
  const limit = formatDuration(deploymentLimitSeconds(manifestOf(record)));
  const reason =
    record.facts.deployment === undefined
      ? `stuck: the deployment to endpoint ${name} was never sent (the endpoint stayed ${endpoint?.EndpointStatus ?? 'absent'} for ${formatDuration(Math.round(elapsed))}, past the deployment limit ${limit} plus ${formatDuration(STUCK_SLACK_SECONDS)}). Upload the notebook again to deploy it as a new version.`
      : `stuck: endpoint ${name} is still ${settled.status} ${formatDuration(Math.round(elapsed))} after the deployment started, past its limit (${limit}) plus ${formatDuration(STUCK_SLACK_SECONDS)}. Check the endpoint in the SageMaker console.`;
  await markStuck(services, record, 'DEPLOY_FAILED', reason, request, outcome);
}

/**
 * A version claimed DEPLOYING whose deployment was never sent: the deploy handler waited (busy
 * endpoint, firing rollback alarm) and its event's retries ran out. The approval is published
 * again; the deploy handler redoes its idempotent steps and sends the deployment when it can.
 */
async function resendDeployment(
  services: Services,
  record: VersionRecord,
  elapsed: number,
  outcome: SweepOutcome,
): Promise<void> {
  if (record.facts.deployment !== undefined || elapsed < RESEND_DEPLOYMENT_AFTER_SECONDS) return;
  await services.events.publish(NBOPS_EVENTS.versionApproved, {
    model: record.model,
    version: record.version,
    approvedBy: record.approval?.approver ?? ACTORS.sweeper,
    reason: `resent by the stuck sweep: v${record.version} has waited ${formatDuration(Math.round(elapsed))} in DEPLOYING without its deployment sent (${record.lastChange?.reason ?? 'no reason recorded'})`,
  });
  outcome.resent.push({ model: record.model, version: record.version, waitedSeconds: Math.round(elapsed) });
}

async function markStuck(
  services: Services,
  record: VersionRecord,
  to: 'TRAINING_FAILED' | 'DEPLOY_FAILED',
  reason: string,
  request: SweepRequest,
  outcome: SweepOutcome,
): Promise<void> {
  const from = record.status;
  const moved = await advance(services, record, {
    to,
    expectedFrom: [from],
    actor: ACTORS.sweeper,
    reason,
    sourceEventId: request.eventId,
  });
  if (!moved.changed) return;
  outcome.marked.push({ model: record.model, version: record.version, from, to, reason });
  await services.notifier.notify({
    severity: 'ticket',
    subject: `nbops: ${record.model} v${record.version} was stuck in ${from}`,
    message: reason,
    model: record.model,
    version: record.version,
  });
}
