/**
 * A training job finished: record what SageMaker says about it (metrics, artifact, billed time),
 * check the quality gates, then wait for a person's approval or approve automatically.
 *
 * DescribeTrainingJob is the source of truth, not the event: SageMaker may send several events for
 * one change, late or out of order. The version's status says which steps are done, so every
 * delivery continues from there:
 *   TRAINING -> TRAINED -> GATES_PASSED | GATES_FAILED -> PENDING_APPROVAL -> (auto) APPROVED
 *
 * Out of order: an event for a version the registry has not caught up with (still RECEIVED, or
 * VALIDATED without its job) is retried (RetryLaterError). A VALIDATED version whose job already
 * exists is moved forward safely: the job's name is derived from the version and its notebook
 * hash, so the job can only be that version's.
 */
import type { DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { formatDuration } from '#core/manifest/duration';
import type { ResolvedManifest } from '#core/manifest/schema';
import type { Services } from '#core/ports';
import type { VersionFacts, VersionRecord } from '#core/registry/types';
import { autoApprove, publishApproved } from './approvals';
import { ACTORS, advance, currentReason, manifestOf, nowIso, parseTrainingJobName } from './context';
import type { TrainingJobStateChange, TrainingOutcome } from './contracts';
import { RetryLaterError } from './errors';
import { describeGateResults, describeMetrics, evaluateGates } from './gates';
import { trainingFailureHint } from './hints';

const HINT_SEPARATOR = '\nHint: ';
const FINISHED = new Set(['Completed', 'Failed', 'Stopped']);

const ignored = (reason: string): TrainingOutcome => ({ kind: 'ignored', reason });

export async function onTrainingJobStateChange(
  services: Services,
  change: TrainingJobStateChange,
): Promise<TrainingOutcome> {
  const name = change.trainingJobName;
  const parsed = parseTrainingJobName(name);
  if (!parsed)
    return ignored(`training job ${name} was not started by nbops (nbops names jobs <model>-v<n>-<hash>)`);
  const record = await services.registry.getVersion(parsed.model, parsed.version);
  if (!record)
    return ignored(`training job ${name}: ${parsed.model} has no version ${parsed.version} in this registry`);
  if (!record.facts.notebook?.sha256.startsWith(parsed.hash))
    return ignored(
      `training job ${name} does not match version ${parsed.version} of ${parsed.model} (its notebook hash differs); not started by this registry`,
    );
  return processTrainingJob(services, record, name, change.eventId, change.failureReason);
}

/** Whether the version goes to production without a person's approval. */
export function approvalMode(services: Services, manifest: ResolvedManifest | undefined): 'auto' | 'manual' {
  return manifest?.deployment.approval === 'auto' && !services.config.policy.approval?.forceManual
    ? 'auto'
    : 'manual';
}

/**
 * Moves a version on from whatever status it is in, as far as the training job allows. Also used
 * by the stuck-version sweep when a job's finishing event was lost.
 */
export async function processTrainingJob(
  services: Services,
  initial: VersionRecord,
  jobName: string,
  sourceEventId: string,
  eventFailureReason?: string,
): Promise<TrainingOutcome> {
  let record = initial;
  const base = () => ({ model: record.model, version: record.version });
  const manifest = manifestOf(record);
  const describe = async () => {
    const job = await services.sagemaker.describeTrainingJob(jobName);
    if (!job) throw new RetryLaterError(`training job ${jobName} cannot be described (yet); retry the event`);
    return job;
  };

  for (let step = 0; step < 12; step++) {
    switch (record.status) {
      case 'RECEIVED':
        throw new RetryLaterError(
          `version ${record.version} of ${record.model} is still being validated; the event for ${jobName} arrived early, retry it`,
        );
      case 'VALIDATED': {
        const job = await services.sagemaker.describeTrainingJob(jobName);
        if (!job)
          throw new RetryLaterError(
            `version ${record.version} of ${record.model} has not started ${jobName} yet; retry the event`,
          );
        record = (
          await advance(services, record, {
            to: 'TRAINING',
            expectedFrom: ['VALIDATED'],
            actor: ACTORS.training,
            reason: `training job ${jobName} exists (${job.TrainingJobStatus}); recorded from its state-change event`,
            sourceEventId,
          })
        ).record;
        break;
      }
      case 'TRAINING': {
        const job = await describe();
        const status = job.TrainingJobStatus ?? 'Unknown';
        if (!FINISHED.has(status))
          return ignored(`training job ${jobName} is ${status}; waiting for it to finish`);
        if (status === 'Completed') {
          record = (
            await advance(services, record, {
              to: 'TRAINED',
              expectedFrom: ['TRAINING'],
              actor: ACTORS.training,
              reason: completedReason(job),
              sourceEventId,
              facts: trainedFacts(jobName, job),
            })
          ).record;
          break;
        }
        const failureReason =
          job.FailureReason ?? eventFailureReason ?? `the job ended ${status} without a FailureReason`;
        const hint = trainingFailureHint(
          { status, failureReason, ...(job.SecondaryStatus ? { secondaryStatus: job.SecondaryStatus } : {}) },
          manifest,
        );
        const moved = await advance(services, record, {
          to: 'TRAINING_FAILED',
          expectedFrom: ['TRAINING'],
          actor: ACTORS.training,
          reason: `training job ${jobName} ${status} (${job.SecondaryStatus ?? 'no secondary status'}): ${failureReason}${hint ? `${HINT_SEPARATOR}${hint}` : ''}`,
          sourceEventId,
          facts: { trainingJob: { name: jobName, arn: job.TrainingJobArn! } },
        });
        if (moved.changed)
          await services.notifier.notify({
            severity: 'ticket',
            subject: `nbops: ${record.model} v${record.version} training failed`,
            message: `Training job ${jobName} ${status}: ${failureReason}${hint ? `\n\nWhat to do: ${hint}` : ''}`,
            model: record.model,
            version: record.version,
          });
        record = moved.record;
        break;
      }
      case 'TRAINING_FAILED': {
        const [reason, hint] = (currentReason(record) ?? 'training failed').split(HINT_SEPARATOR);
        return { kind: 'training-failed', ...base(), reason: reason!, ...(hint ? { hint } : {}) };
      }
      case 'TRAINED': {
        const model = await services.registry.getModel(record.model);
        const champion =
          model?.champion && model.champion.version !== record.version && model.champion.metrics
            ? { version: model.champion.version, metrics: model.champion.metrics }
            : undefined;
        if (!manifest)
          throw new Error(`version ${record.version} of ${record.model} has no recorded manifest`);
        const gates = evaluateGates(manifest, record.facts.metrics ?? {}, champion);
        const moved = await advance(services, record, {
          to: gates.passed ? 'GATES_PASSED' : 'GATES_FAILED',
          expectedFrom: ['TRAINED'],
          actor: ACTORS.training,
          reason: `quality gates ${gates.passed ? 'passed' : 'failed'}: ${describeGateResults(gates.results).replace(/\n/g, '; ')}`,
          sourceEventId,
          facts: { gates },
        });
        if (moved.changed && !gates.passed)
          await services.notifier.notify({
            severity: 'ticket',
            subject: `nbops: ${record.model} v${record.version} failed its quality gates`,
            message: `Version ${record.version} of ${record.model} will not be deployed.\n${describeGateResults(gates.results)}\nMetrics: ${describeMetrics(record.facts.metrics)}`,
            model: record.model,
            version: record.version,
          });
        record = moved.record;
        break;
      }
      case 'GATES_FAILED':
        return {
          kind: 'gates-failed',
          ...base(),
          failed: (record.facts.gates?.results ?? []).filter((r) => !r.passed),
        };
      case 'GATES_PASSED': {
        const mode = approvalMode(services, manifest);
        const forced = manifest?.deployment.approval === 'auto' && mode === 'manual';
        const moved = await advance(services, record, {
          to: 'PENDING_APPROVAL',
          expectedFrom: ['GATES_PASSED'],
          actor: ACTORS.training,
          reason:
            mode === 'auto'
              ? 'approved automatically next (deployment.approval: auto)'
              : `waiting for a person's approval (${forced ? 'the platform policy forces manual approval' : 'deployment.approval: manual'})`,
          sourceEventId,
        });
        if (moved.changed && mode === 'manual')
          await services.notifier.notify({
            severity: 'ticket',
            subject: `nbops: ${record.model} v${record.version} waits for approval`,
            message: [
              `Version ${record.version} of ${record.model} passed its quality gates and waits for approval.`,
              `Metrics: ${describeMetrics(record.facts.metrics)}`,
              describeGateResults(record.facts.gates?.results ?? []),
              `Approve: nbops approve ${record.model} ${record.version} --reason "..." (or decline with nbops reject).`,
            ].join('\n'),
            model: record.model,
            version: record.version,
          });
        record = moved.record;
        break;
      }
      case 'PENDING_APPROVAL':
        if (approvalMode(services, manifest) === 'manual') return { kind: 'pending-approval', ...base() };
        record = await autoApprove(services, record, sourceEventId, nowIso(services));
        break;
      case 'APPROVED':
        // The delivery that approved publishes (again after a crash: the deploy handler is idempotent).
        if (
          record.approval?.approver === ACTORS.autoApproval &&
          record.approval.sourceEventId === sourceEventId
        )
          await publishApproved(services, record, ACTORS.autoApproval);
        return { kind: 'approved', ...base() };
      case 'DEPLOYING':
      case 'DEPLOYED':
      case 'DEPLOY_FAILED':
      case 'ROLLED_BACK':
        return { kind: 'approved', ...base() };
      default:
        return ignored(
          `version ${record.version} of ${record.model} is ${record.status}; nothing to do for ${jobName}`,
        );
    }
  }
  throw new RetryLaterError(`version ${record.version} of ${record.model} kept changing; retry the event`);
}

/** name -> final value; a metric listed twice keeps its latest value. */
export function finalMetrics(job: DescribeTrainingJobCommandOutput): Record<string, number> {
  const latest = new Map<string, { value: number; at: number }>();
  for (const item of job.FinalMetricDataList ?? []) {
    if (!item.MetricName || item.Value === undefined || !Number.isFinite(item.Value)) continue;
    const at = item.Timestamp ? new Date(item.Timestamp).getTime() : 0;
    const seen = latest.get(item.MetricName);
    if (!seen || at >= seen.at) latest.set(item.MetricName, { value: item.Value, at });
  }
  return Object.fromEntries([...latest].map(([name, { value }]) => [name, value]));
}

/**
 * Billed compute: BillableTimeInSeconds x InstanceCount (instance-seconds), and what spot saved:
 * (1 - Billable / TrainingTime) x 100.
 */
export function trainingCost(job: DescribeTrainingJobCommandOutput): {
  instanceCount: number;
  trainingSeconds?: number;
  billableSeconds?: number;
  computeSeconds?: number;
  spotSavingsPercent?: number;
} {
  const instanceCount = job.ResourceConfig?.InstanceCount ?? 1;
  const training = job.TrainingTimeInSeconds;
  const billable = job.BillableTimeInSeconds;
  const out: ReturnType<typeof trainingCost> = { instanceCount };
  if (training !== undefined) out.trainingSeconds = training;
  if (billable !== undefined) {
    out.billableSeconds = billable;
    out.computeSeconds = billable * instanceCount;
  }
  if (job.EnableManagedSpotTraining && training && billable !== undefined)
    out.spotSavingsPercent = Math.round((1 - billable / training) * 1000) / 10;
  return out;
}

function trainedFacts(jobName: string, job: DescribeTrainingJobCommandOutput): VersionFacts {
  const facts: VersionFacts = {
    trainingJob: { name: jobName, arn: job.TrainingJobArn! },
    metrics: finalMetrics(job),
  };
  const artifact = job.ModelArtifacts?.S3ModelArtifacts;
  if (artifact) facts.artifact = { uri: artifact };
  const cost = trainingCost(job);
  if (cost.computeSeconds !== undefined) facts.billableSeconds = cost.computeSeconds;
  return facts;
}

function completedReason(job: DescribeTrainingJobCommandOutput): string {
  const cost = trainingCost(job);
  const parts = [`metrics ${describeMetrics(finalMetrics(job))}`];
  const type = job.ResourceConfig?.InstanceType ?? 'instances';
  if (cost.trainingSeconds !== undefined)
    parts.push(`${cost.instanceCount} x ${type} for ${formatDuration(cost.trainingSeconds)}`);
  if (cost.computeSeconds !== undefined) parts.push(`${cost.computeSeconds} instance-seconds billed`);
  if (cost.spotSavingsPercent !== undefined) parts.push(`managed spot saved ${cost.spotSavingsPercent}%`);
  return `training job ${job.TrainingJobName} completed: ${parts.join('; ')}; model ${job.ModelArtifacts?.S3ModelArtifacts ?? '(no artifact)'}`;
}
