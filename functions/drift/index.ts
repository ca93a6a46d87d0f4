/**
 * drift: "Drift Evaluation Due" (a model's drift schedule, or an operator) -> evaluateScheduledDrift.
 * Drift metrics go to stdout in Embedded Metric Format (the use case prints them), next to the
 * handler's own outcome metrics.
 */
import { parseDriftEvaluationRequest } from '#core/events/schedule-drift';
import type { DriftEvaluationRequest, DriftOutcome } from '#core/service/contracts';
import { evaluateScheduledDrift } from '#core/service/drift';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface DriftDeps extends HandlerDeps {
  evaluateScheduledDrift: UseCase<DriftEvaluationRequest, DriftOutcome>;
}

export const makeHandler = (deps: DriftDeps) =>
  makeEventHandler(
    {
      name: 'drift',
      parse: parseDriftEvaluationRequest,
      run: (services, request) => deps.evaluateScheduledDrift(services, request),
    },
    deps,
  );

export const handler = makeHandler({
  ...defaultDeps('drift'),
  evaluateScheduledDrift: (services, request) => evaluateScheduledDrift(services, request),
});
