/** alarm: "CloudWatch Alarm State Change" of an nbops-* alarm -> onAlarmStateChange. */
import { parseAlarmStateChange } from '#core/events/cloudwatch';
import { onAlarmStateChange } from '#core/service/alarm';
import type { AlarmOutcome, AlarmStateChange } from '#core/service/contracts';
import { defaultDeps, type HandlerDeps, makeEventHandler, type UseCase } from '../commons/handler';

export interface AlarmDeps extends HandlerDeps {
  onAlarmStateChange: UseCase<AlarmStateChange, AlarmOutcome>;
}

export const makeHandler = (deps: AlarmDeps) =>
  makeEventHandler(
    {
      name: 'alarm',
      parse: parseAlarmStateChange,
      run: (services, change) => deps.onAlarmStateChange(services, change),
      metrics: (outcome): Record<string, number> => {
        if (outcome.kind === 'resolved') return { IncidentsResolved: outcome.incidents.length };
        if (outcome.kind !== 'incident') return { Ignored: 1 };
        const counts: Record<string, number> = { Incident: 1 };
        if (outcome.notified) counts.Notified = 1;
        if (outcome.policy.action === 'rollback') counts.Rollback = 1;
        if (outcome.policy.action === 'retrain') counts.RetrainRequested = 1;
        return counts;
      },
    },
    deps,
  );

export const handler = makeHandler({ ...defaultDeps('alarm'), onAlarmStateChange });
