/**
 * Every handler under functions/, built for the local host exactly as its Lambda entry point builds
 * it (`makeHandler` with the use case), but with the host's Services, observability and idempotency.
 * The wiring table names handlers; this map turns a name into the middy handler Lambda would run.
 * A test checks that every route's handler and every folder under functions/ is registered here.
 */
import type { Context } from 'aws-lambda';
import { onAlarmStateChange } from '#core/service/alarm';
import { deployVersion } from '#core/service/deploy';
import { evaluateScheduledDrift } from '#core/service/drift';
import { onEndpointStateChange } from '#core/service/endpoint';
import { retrainModel } from '#core/service/retrain';
import { submitNotebook } from '#core/service/submit';
import { sweepStuckVersions } from '#core/service/sweeper';
import { onTrainingJobStateChange } from '#core/service/training';
import type { HandlerName } from '#core/wiring';
import { makeHandler as makeAlarm } from '../../../../functions/alarm/index';
import type { HandlerDeps } from '../../../../functions/commons/handler';
import { makeHandler as makeDeploy } from '../../../../functions/deploy/index';
import { makeHandler as makeDrift } from '../../../../functions/drift/index';
import { makeHandler as makeEndpointState } from '../../../../functions/endpoint-state/index';
import { makeHandler as makeOpsApi } from '../../../../functions/ops-api/index';
import { makeHandler as makeSubmit } from '../../../../functions/submit/index';
import { makeHandler as makeSweeper } from '../../../../functions/sweeper/index';
import { makeHandler as makeTrainingState } from '../../../../functions/training-state/index';

/** A handler as Lambda calls it: the event and a context; resolves to its outcome. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;
export type HandlerFactory = (deps: HandlerDeps) => LocalHandler;

export const HANDLER_FACTORIES: Partial<Record<HandlerName, HandlerFactory>> = {
  submit: (deps) => makeSubmit({ ...deps, submitNotebook, retrain: retrainModel }),
  'training-state': (deps) => makeTrainingState({ ...deps, onTrainingJobStateChange }),
  deploy: (deps) => makeDeploy({ ...deps, deployVersion }),
  'endpoint-state': (deps) => makeEndpointState({ ...deps, onEndpointStateChange }),
  sweeper: (deps) => makeSweeper({ ...deps, sweepStuckVersions }),
  // Drift metrics go to stdout as EMF, as on Lambda; the host takes them off stdout for its alarms.
  drift: (deps) =>
    makeDrift({
      ...deps,
      evaluateScheduledDrift: (services, request) => evaluateScheduledDrift(services, request),
    }),
  alarm: (deps) => makeAlarm({ ...deps, onAlarmStateChange }),
  // Not routed by events: the host serves it at a local Function URL (host.json `opsUrl`).
  'ops-api': (deps) => makeOpsApi(deps),
};

/** Names of the handlers this checkout has. */
export function registeredHandlers(): HandlerName[] {
  return Object.keys(HANDLER_FACTORIES) as HandlerName[];
}
