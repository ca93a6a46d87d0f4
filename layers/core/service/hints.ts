/**
 * Plain-language hints for a training job that failed or stopped. SageMaker's FailureReason is
 * recorded verbatim; the hint says what it most likely means and what to change.
 */
import { classifyAwsError } from '#core/aws/errors';
import { formatDuration, parseDuration } from '#core/manifest/duration';
import type { ResolvedManifest } from '#core/manifest/schema';

export interface TrainingEnd {
  /** TrainingJobStatus: Failed or Stopped. */
  status: string;
  secondaryStatus?: string;
  failureReason?: string;
}

function durationText(value: number | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return formatDuration(parseDuration(value));
  } catch {
    return String(value);
  }
}

/**
 * The runtime writes `cell N: <Error>: <message>` as the first line of SageMaker's failure file,
 * which SageMaker quotes in FailureReason (usually after "AlgorithmError: ").
 */
const CELL_FAILURE = /\bcell (\d+): ([A-Za-z_][\w.]*)(?::\s*([^\n]*))?/;

/** A hint for the failure, or undefined when there is nothing to add to FailureReason. */
export function trainingFailureHint(end: TrainingEnd, manifest?: ResolvedManifest): string | undefined {
  const reason = end.failureReason ?? '';
  const secondary = end.secondaryStatus ?? '';

  if (secondary === 'MaxWaitTimeExceeded' || /MaxWaitTime/i.test(reason)) {
    const wait = durationText(manifest?.training.spot.maxWait);
    return `spot capacity for ${manifest?.training.instanceType ?? 'the instance type'} was not available long enough within training.spot.maxWait${wait ? ` (${wait})` : ''}: raise training.spot.maxWait, choose an instance type with more spot capacity, or set training.spot.enabled to false, then upload the notebook again.`;
  }
  if (secondary === 'MaxRuntimeExceeded' || /MaxRuntime/i.test(reason)) {
    const runtime = durationText(manifest?.training.maxRuntime);
    return `the notebook ran longer than training.maxRuntime${runtime ? ` (${runtime})` : ''}: raise training.maxRuntime (within the platform policy), or make training faster (fewer epochs, a larger instance), then upload the notebook again.`;
  }

  const cell = CELL_FAILURE.exec(reason);
  if (cell) {
    const what = cell[3] ? `${cell[2]}: ${cell[3].trim()}` : cell[2];
    return `cell ${cell[1]} of the notebook raised ${what} (cells are numbered from 0, as in validation reports). Fix that cell, run the notebook top to bottom locally, and upload it again; the executed notebook with the full traceback is in the job's output data.`;
  }

  if (reason) {
    const kind = classifyAwsError(reason);
    if (kind.kind === 'quota' || kind.kind === 'capacity' || kind.kind === 'access-denied')
      return kind.message;
  }
  if (end.status === 'Stopped' && secondary !== 'MaxRuntimeExceeded')
    return 'the training job was stopped before it finished (StopTrainingJob, by a person or a tool); upload the notebook again to train a new version.';
  return undefined;
}
