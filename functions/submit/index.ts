/**
 * submit: a notebook (or sidecar manifest) arrived under notebooks/<model>/ -> submitNotebook.
 * Takes S3 "Object Created" events from EventBridge (AWS) and classic S3 notification records
 * (s3rver on the local host); several records are submitted one after the other, in order.
 * Also receives nbops "Retrain Requested" events (wiring route retrain-requested).
 */
import { isRetrainRequested, parseRetrainRequested, type RetrainRequested } from '#core/events/nbops';
import { parseNotebookUploads } from '#core/events/s3';
import type { NotebookUpload, RetrainOutcome, SubmitOutcome } from '#core/service/contracts';
import { retrainModel } from '#core/service/retrain';
import { submitNotebook } from '#core/service/submit';
import {
  defaultDeps,
  type HandlerDeps,
  makeEventHandler,
  metricName,
  type UseCase,
} from '../commons/handler';

export interface SubmitDeps extends HandlerDeps {
  submitNotebook: UseCase<NotebookUpload, SubmitOutcome>;
  /** The retrain use case; without it retrain requests are logged and ignored. */
  retrain?: UseCase<RetrainRequested, RetrainOutcome>;
}

type SubmitInput =
  | { kind: 'uploads'; uploads: NotebookUpload[] }
  | { kind: 'retrain'; request: RetrainRequested };

/** One upload: its outcome. Several (classic S3 records): every outcome, in record order. */
export type SubmitResult = SubmitOutcome | RetrainOutcome | { kind: 'batch'; outcomes: SubmitOutcome[] };

export const makeHandler = (deps: SubmitDeps) =>
  makeEventHandler<SubmitInput, SubmitResult>(
    {
      name: 'submit',
      parse: (event) =>
        isRetrainRequested(event)
          ? { kind: 'retrain', request: parseRetrainRequested(event) }
          : { kind: 'uploads', uploads: parseNotebookUploads(event) },
      async run(services, input, logger) {
        if (input.kind === 'retrain') {
          if (deps.retrain) return deps.retrain(services, input.request);
          logger.warn('Retrain requested, but this deployment has no retrain use case', {
            request: input.request,
          });
          return {
            kind: 'ignored',
            reason: `retrain of ${input.request.model} requested, but retraining is not available yet`,
          };
        }
        if (input.uploads.length === 0)
          return { kind: 'ignored', reason: 'the event reports no created objects' };
        const outcomes: SubmitOutcome[] = [];
        for (const upload of input.uploads) {
          logger.info(`Submitting s3://${upload.bucket}/${upload.key}`, { upload });
          outcomes.push(await deps.submitNotebook(services, upload));
        }
        return outcomes.length === 1 ? outcomes[0]! : { kind: 'batch', outcomes };
      },
      metrics(result) {
        const counts: Record<string, number> = {};
        for (const outcome of result.kind === 'batch' ? result.outcomes : [result]) {
          const name = metricName(outcome.kind);
          counts[name] = (counts[name] ?? 0) + 1;
        }
        return counts;
      },
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('submit'), submitNotebook, retrain: retrainModel });
