/**
 * A deployed model's drift schedule: one per model, named from it, carrying the nbops event
 * "Drift Evaluation Due" that the drift handler's route receives. The deployment path creates it
 * (service/endpoint.ts), retire deletes it, and `nbops plan` prints it.
 */

import { endpointName } from '#core/manifest/names';
import type { ResolvedManifest } from '#core/manifest/schema';
import type { EventSchedule } from '#core/ports';
import { NBOPS_EVENTS } from '#core/wiring';

/** The name of a model's drift schedule (EventBridge Scheduler: at most 64 of [0-9a-zA-Z-_.]). */
export function driftScheduleName(model: string): string {
  return `nbops-${model}-drift`;
}

/**
 * The drift schedule a manifest asks for: evaluations need a drift section and data capture;
 * without them there is nothing to evaluate, so there is no schedule.
 */
export function driftScheduleFor(model: string, manifest: ResolvedManifest): EventSchedule | undefined {
  const drift = manifest.drift;
  if (!drift || !manifest.serving?.dataCapture.enabled) return undefined;
  return {
    name: driftScheduleName(model),
    expression: drift.schedule,
    description: `nbops: drift evaluation of ${model} (${drift.method}, window ${drift.window})`,
    detailType: NBOPS_EVENTS.driftEvaluationDue,
    detail: { model, endpoint: endpointName(model) },
  };
}
