/** sweeper: the 15-minute schedule -> sweepStuckVersions (versions stuck in TRAINING/DEPLOYING). */
import { parseScheduledTick } from '#core/events/schedule';
import type { SweepOutcome, SweepRequest } from '#core/service/contracts';
import { sweepStuckVersions } from '#core/service/sweeper';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface SweeperDeps extends HandlerDeps {
  sweepStuckVersions: UseCase<SweepRequest, SweepOutcome>;
}

export type SweepResult = SweepOutcome & { kind: 'swept' };

export const makeHandler = (deps: SweeperDeps) =>
  makeEventHandler<SweepRequest, SweepResult>(
    {
      name: 'sweeper',
      parse: (event) => {
        const { eventId, eventTime } = parseScheduledTick(event);
        return { eventId, eventTime };
      },
      run: async (services, request) => ({
        kind: 'swept',
        ...(await deps.sweepStuckVersions(services, request)),
      }),
      metrics: (result) => ({
        Swept: 1,
        StuckVersionsMarked: result.marked.length,
        LostEventsResolved: result.resolved.length,
        DeploymentsResent: result.resent.length,
        SweepErrors: result.errors.length,
      }),
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('sweeper'), sweepStuckVersions });
