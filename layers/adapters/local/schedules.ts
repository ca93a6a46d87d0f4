/**
 * EventBridge Scheduler on a laptop: the SchedulesPort of the local host. A schedule is a timer
 * that puts the schedule's nbops event on the LocalEventBus, in exactly the shape EventBridge
 * delivers what the AWS schedule puts on the nbops bus (aws/scheduler.ts): source `nbops`, the
 * schedule's detail-type, and its detail plus `scheduledTime` and `executionId`. The wiring table
 * routes it from there, as on AWS.
 *
 * `rate(...)` schedules tick every period x `timeScale`; `cron(...)` schedules are kept (and can
 * be fired by hand with `fire`) but do not tick locally, as the bus's own cron routes. Timers are
 * unref'd: they never keep the process alive.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, EventSchedule, SchedulesPort } from '#core/ports';
import { NBOPS_EVENT_SOURCE } from '#core/wiring';
import { type AwsEvent, type AwsLocation, awsEvent, LOCAL_LOCATION } from './aws-event';
import { rateMillis } from './event-bus';

export interface LocalSchedulesOptions {
  /** Where runs go: normally `(event) => bus.put(event)` of the LocalEventBus. */
  put: (event: AwsEvent) => unknown;
  clock?: Clock;
  /** Multiplies rate periods (0.001 turns `rate(1 hour)` into 3.6 s). */
  timeScale?: number;
  location?: AwsLocation;
  log?: (line: string) => void;
}

interface Entry {
  schedule: EventSchedule;
  timer?: NodeJS.Timeout;
}

export class LocalSchedules implements SchedulesPort {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly options: LocalSchedulesOptions) {}

  async upsertSchedule(schedule: EventSchedule): Promise<void> {
    // The same definition again changes nothing (as the AWS adapter skips UpdateSchedule): the
    // timer keeps its phase, so redelivered events do not postpone the next evaluation.
    const current = this.entries.get(schedule.name);
    if (current?.timer && JSON.stringify(current.schedule) === JSON.stringify(schedule)) return;
    this.stop(schedule.name);
    const entry: Entry = { schedule: structuredClone(schedule) };
    this.entries.set(schedule.name, entry);
    if (this.closed) return;
    const period = rateMillis(schedule.expression);
    if (period === undefined) {
      this.log(
        `[nbops] schedule ${schedule.name} (${schedule.expression}) is not a rate(); it does not tick locally (fire it with fire("${schedule.name}"))`,
      );
      return;
    }
    entry.timer = setInterval(
      () => this.fire(schedule.name),
      Math.max(10, period * (this.options.timeScale ?? 1)),
    );
    entry.timer.unref();
  }

  async deleteSchedule(name: string): Promise<void> {
    this.stop(name);
    this.entries.delete(name);
  }

  /** The schedules that exist now (what ListSchedules would show). */
  list(): EventSchedule[] {
    return [...this.entries.values()].map((e) => structuredClone(e.schedule));
  }

  /** Runs a schedule now, as its timer would; returns the event put on the bus. */
  fire(name: string, at: Date = this.now()): AwsEvent {
    const entry = this.entries.get(name);
    if (!entry)
      throw new Error(`no schedule "${name}"; schedules: ${[...this.entries.keys()].join(', ') || 'none'}`);
    const location = this.options.location ?? LOCAL_LOCATION;
    const executionId = randomUUID();
    const event = awsEvent({
      source: NBOPS_EVENT_SOURCE,
      detailType: entry.schedule.detailType,
      detail: { ...entry.schedule.detail, scheduledTime: at.toISOString(), executionId },
      resources: [`arn:aws:scheduler:${location.region}:${location.account}:schedule/nbops/${name}`],
      at,
      location,
    });
    if (!this.closed) this.options.put(event);
    return event;
  }

  /** Stops every timer; schedules put afterwards are kept but do not tick. */
  close(): void {
    this.closed = true;
    for (const name of this.entries.keys()) this.stop(name);
  }

  private stop(name: string): void {
    const timer = this.entries.get(name)?.timer;
    if (timer) clearInterval(timer);
  }

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => console.error(l)))(line);
  }
}
