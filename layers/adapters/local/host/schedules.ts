/**
 * The host's SchedulesPort: LocalSchedules (the timers, adapters/local/schedules.ts) plus what the
 * host adds around it: every request is checked against the EventBridge Scheduler API model with
 * the AWS adapter's own request builder, and the definitions are saved to a file so a model's
 * drift schedule survives a restart of the host, like the endpoint it watches.
 */
import { readFile } from 'node:fs/promises';
import { assertValidRequest } from '#core/aws/api-model';
import type { EventSchedule, SchedulesPort } from '#core/ports';
import { buildScheduleRequest } from '../../aws/scheduler';
import type { AwsEvent, AwsLocation } from '../aws-event';
import { writeJsonAtomic } from '../context';
import { LocalSchedules } from '../schedules';

export class ScheduleFileError extends Error {}

interface FileContent {
  format: 'nbops-local-schedules/v1';
  schedules: EventSchedule[];
}

export class HostSchedules implements SchedulesPort {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly timers: LocalSchedules,
    private readonly location: AwsLocation,
    private readonly file: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Loads the saved schedules (they start ticking at once); ScheduleFileError when unreadable. */
  static async open(options: {
    put: (event: AwsEvent) => unknown;
    location: AwsLocation;
    timeScale: number;
    file: string;
    log: (line: string) => void;
  }): Promise<HostSchedules> {
    const timers = new LocalSchedules({
      put: options.put,
      location: options.location,
      timeScale: options.timeScale,
      log: options.log,
    });
    const schedules = new HostSchedules(timers, options.location, options.file, options.log);
    let text: string | undefined;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new ScheduleFileError(`${options.file} cannot be read (${(err as Error).message})`);
    }
    if (text !== undefined) {
      let content: FileContent;
      try {
        content = JSON.parse(text) as FileContent;
        if (content.format !== 'nbops-local-schedules/v1' || !Array.isArray(content.schedules))
          throw new Error('not an nbops local schedules file');
      } catch (err) {
        throw new ScheduleFileError(`${options.file} cannot be read (${(err as Error).message})`);
      }
      for (const schedule of content.schedules) await timers.upsertSchedule(schedule);
    }
    return schedules;
  }

  async upsertSchedule(schedule: EventSchedule): Promise<void> {
    const { account, region } = this.location;
    assertValidRequest(
      'scheduler',
      'CreateSchedule',
      buildScheduleRequest(schedule, {
        eventBusArn: `arn:aws:events:${region}:${account}:event-bus/nbops-local`,
        roleArn: `arn:aws:iam::${account}:role/nbops-local-scheduler`,
      }),
    );
    await this.timers.upsertSchedule(schedule);
    this.save();
  }

  async deleteSchedule(name: string): Promise<void> {
    await this.timers.deleteSchedule(name);
    this.save();
  }

  list(): EventSchedule[] {
    return this.timers.list();
  }

  /** Runs a schedule now, as its timer would. */
  fire(name: string): AwsEvent {
    return this.timers.fire(name);
  }

  async close(): Promise<void> {
    this.timers.close();
    await this.writes;
  }

  private save(): void {
    const content: FileContent = { format: 'nbops-local-schedules/v1', schedules: this.timers.list() };
    this.writes = this.writes
      .then(() => writeJsonAtomic(this.file, content))
      .catch((err) =>
        this.log(`[nbops] could not save schedules to ${this.file}: ${(err as Error).message}`),
      );
  }
}
