/**
 * The local host's NotifierPort: one line on the console (or a given writer) per notification, and
 * one JSON line in `<work>/notifications.log` with everything the AWS host would put on SNS.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, Notification, NotifierPort } from '#core/ports';

export interface LocalNotifierOptions {
  /** JSONL file, e.g. `.nbops/notifications.log`. */
  file: string;
  /** Where the one-line summary goes (default console.log; pass () => {} to silence it). */
  write?: (line: string) => void;
  clock?: Clock;
}

/** `[nbops] PAGE churn v3: subject - message` */
export function notificationLine(n: Notification): string {
  const about = n.model ? ` ${n.model}${n.version !== undefined ? ` v${n.version}` : ''}:` : '';
  return `[nbops] ${n.severity.toUpperCase()}${about} ${n.subject} - ${n.message.split('\n')[0]}`;
}

export class LocalNotifier implements NotifierPort {
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly options: LocalNotifierOptions) {}

  async notify(n: Notification): Promise<void> {
    (this.options.write ?? ((line: string) => console.log(line)))(notificationLine(n));
    const record = { at: (this.options.clock?.now() ?? new Date()).toISOString(), ...n };
    const file = this.options.file;
    // Serialised so lines never interleave; one failed write does not block later ones.
    const write = this.writes
      .catch(() => {})
      .then(async () => {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(record)}\n`);
      });
    this.writes = write;
    await write;
  }
}
