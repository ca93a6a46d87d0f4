/**
 * The local host's EventBridge: one in-process bus routed by the same wiring table the CDK stack
 * turns into rules (core/wiring.ts `routes()` + `matchesPattern`).
 *
 * - `publish` is the EventsPort (nbops's own events, source `nbops`); `put` takes AWS-shaped
 *   events (LocalSageMaker's, local alarms'); `putS3Notification` / `connectS3` take s3rver's
 *   classic records and turn them into EventBridge "Object Created" events (s3-events.ts).
 * - Each event goes to every route whose pattern matches, asynchronously, through the dispatcher
 *   `(handlerName, event) => Promise<unknown>`. Delivery is at least once, as on AWS: with
 *   `duplicateRate` some deliveries are repeated, to prove handlers idempotent.
 * - A handler that throws is retried with exponential backoff (like Lambda's asynchronous
 *   invocation, which tries 3 times); after `maxAttempts` the event is dead-lettered.
 * - Every attempt is one JSON line in `logFile`; dead letters also go to `deadLetterFile`.
 * - Schedule routes (`rate(...)`) fire as EventBridge "Scheduled Event"s after `startSchedules()`.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, EventsPort } from '#core/ports';
import {
  type EventRoute,
  type HandlerName,
  matchesPattern,
  NBOPS_EVENT_SOURCE,
  type Route,
  routes,
  type ScheduleRoute,
} from '#core/wiring';
import { type AwsEvent, type AwsLocation, awsEvent, isAwsEvent, LOCAL_LOCATION } from './aws-event';
import { seededRandom } from './context';
import type { S3EventListener, S3Notification } from './emulators';
import { type S3KeyEncoding, s3NotificationToEvents } from './s3-events';

/** Runs one handler on one event (the local host calls the handler's use case). */
export type Dispatcher = (handler: HandlerName, event: AwsEvent) => Promise<unknown>;

/** EventBridge's limit for one event (the same check as the AWS adapter). */
export const MAX_EVENT_BYTES = 256 * 1024;

export interface LocalEventBusOptions {
  /** The artifact bucket (the upload route matches it). */
  bucketName: string;
  dispatch?: Dispatcher;
  /** JSONL log of every delivery attempt, e.g. `.nbops/events.jsonl`. */
  logFile?: string;
  /** JSONL of events that failed every attempt, e.g. `.nbops/dead-letters.jsonl`. */
  deadLetterFile?: string;
  clock?: Clock;
  location?: AwsLocation;
  /** Attempts per delivery before dead-lettering (default 3, as Lambda's async invocation). */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt (default 1000 ms). */
  retryBaseMs?: number;
  /** Longest retry delay (default 30 s). */
  retryMaxMs?: number;
  /** Share (0-1) of deliveries repeated once, to exercise idempotency (default 0). */
  duplicateRate?: number;
  /** Seed for duplicateRate (deterministic tests). */
  seed?: number;
  /** Multiplies schedule periods (e.g. 0.001 turns `rate(15 minutes)` into 0.9 s). */
  timeScale?: number;
  log?: (line: string) => void;
}

export interface DeliveryRecord {
  /** ISO time of the attempt's end. */
  at: string;
  eventId: string;
  source: string;
  detailType: string;
  route: string;
  handler: HandlerName;
  attempt: number;
  /** A repeated delivery (duplicateRate), not a retry. */
  duplicate: boolean;
  outcome: 'ok' | 'error' | 'dead-letter' | 'no-dispatcher';
  durationMs: number;
  error?: string;
  result?: unknown;
}

export interface DeadLetter {
  at: string;
  route: string;
  handler: HandlerName;
  attempts: number;
  error: string;
  event: AwsEvent;
}

const RATE = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/;

/** Milliseconds between ticks of a `rate(...)` expression; undefined for cron (not run locally). */
export function rateMillis(expression: string): number | undefined {
  const match = RATE.exec(expression.trim());
  if (!match) return undefined;
  const unit = match[2]!.replace(/s$/, '');
  const factor = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
  return Number(match[1]) * factor;
}

/** Keeps only what JSON can carry, so the log never fails on a handler's odd return value. */
function loggable(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return undefined;
    return text.length > 4000 ? `${text.slice(0, 4000)}...` : JSON.parse(text);
  } catch {
    return String(value);
  }
}

export class LocalEventBus implements EventsPort {
  private readonly routeTable: Route[];
  private dispatcher: Dispatcher | undefined;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly duplicateRate: number;
  private readonly location: AwsLocation;
  private readonly log: (line: string) => void;
  private pending = 0;
  private waiters: (() => void)[] = [];
  private writes: Promise<void> = Promise.resolve();
  /** Deliveries waiting to run (each counts in `pending`). */
  private readonly deliveryTimers = new Set<NodeJS.Timeout>();
  private readonly scheduleTimers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Every delivery attempt so far (also in logFile). */
  readonly deliveries: DeliveryRecord[] = [];
  readonly deadLetters: DeadLetter[] = [];

  constructor(private readonly options: LocalEventBusOptions) {
    this.routeTable = routes({ bucketName: options.bucketName });
    this.dispatcher = options.dispatch;
    this.random = options.seed !== undefined ? seededRandom(options.seed) : Math.random;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.retryBaseMs = options.retryBaseMs ?? 1_000;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.duplicateRate = Math.min(1, Math.max(0, options.duplicateRate ?? 0));
    this.location = options.location ?? LOCAL_LOCATION;
    this.log = options.log ?? ((line) => console.error(line));
  }

  setDispatcher(dispatch: Dispatcher): void {
    this.dispatcher = dispatch;
  }

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  /** EventsPort: an nbops event (source `nbops`) on the bus. */
  async publish(
    detailType: string,
    detail: Record<string, unknown>,
    opts: { resources?: string[] } = {},
  ): Promise<void> {
    const size = Buffer.byteLength(NBOPS_EVENT_SOURCE + detailType + JSON.stringify(detail), 'utf8');
    if (size > MAX_EVENT_BYTES)
      throw new Error(
        `the "${detailType}" event is ${size} bytes; EventBridge takes at most ${MAX_EVENT_BYTES} bytes per event. Put large data in S3 and send its URI in the event instead.`,
      );
    this.put(
      awsEvent({
        source: NBOPS_EVENT_SOURCE,
        detailType,
        // A copy, as EventBridge serialises it: later changes by the caller do not leak in.
        detail: JSON.parse(JSON.stringify(detail)) as Record<string, unknown>,
        ...(opts.resources?.length ? { resources: opts.resources } : {}),
        at: this.now(),
        location: this.location,
      }),
    );
  }

  /** Routes an AWS-shaped event (EventBridge envelope) to the handlers whose pattern matches. */
  put(event: AwsEvent): EventRoute[] {
    if (!isAwsEvent(event)) {
      this.log(
        `[nbops] event bus: ignored a value that is not an EventBridge event: ${JSON.stringify(event)}`,
      );
      return [];
    }
    if (this.closed) return [];
    const matched = this.routeTable.filter(
      (r): r is EventRoute => r.kind === 'event' && matchesPattern(r.pattern, event),
    );
    for (const route of matched) {
      this.schedule(route.id, route.handler, event, 1, false, 0);
      if (this.duplicateRate > 0 && this.random() < this.duplicateRate)
        this.schedule(route.id, route.handler, event, 1, true, 0);
    }
    return matched;
  }

  /** s3rver's classic notification, as the EventBridge events S3 would send for it. */
  putS3Notification(notification: S3Notification, options: { keyEncoding?: S3KeyEncoding } = {}): void {
    for (const event of s3NotificationToEvents(notification, { ...options, location: this.location }))
      this.put(event);
  }

  /** Subscribes to an emulator's S3 events (keys raw, as s3rver sends them); returns the unsubscribe. */
  connectS3(source: { onS3Event(listener: S3EventListener): () => void }): () => void {
    return source.onS3Event((notification) => this.putS3Notification(notification, { keyEncoding: 'raw' }));
  }

  private schedule(
    routeId: string,
    handler: HandlerName,
    event: AwsEvent,
    attempt: number,
    duplicate: boolean,
    delayMs: number,
  ): void {
    this.pending += 1;
    const run = () => {
      this.deliveryTimers.delete(timer);
      this.deliver(routeId, handler, event, attempt, duplicate).finally(() => this.settleOne());
    };
    const timer = setTimeout(run, delayMs);
    this.deliveryTimers.add(timer);
  }

  private settleOne(): void {
    this.pending -= 1;
    if (this.pending === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async deliver(
    routeId: string,
    handler: HandlerName,
    event: AwsEvent,
    attempt: number,
    duplicate: boolean,
  ): Promise<void> {
    const base = {
      eventId: event.id,
      source: event.source,
      detailType: event['detail-type'],
      route: routeId,
      handler,
      attempt,
      duplicate,
    };
    const dispatcher = this.dispatcher;
    if (!dispatcher) {
      this.record({ ...base, at: this.now().toISOString(), outcome: 'no-dispatcher', durationMs: 0 });
      return;
    }
    const started = performance.now();
    try {
      // Each handler gets its own copy, as separate Lambda invocations would.
      const result = await dispatcher(handler, structuredClone(event));
      this.record({
        ...base,
        at: this.now().toISOString(),
        outcome: 'ok',
        durationMs: Math.round(performance.now() - started),
        result: loggable(result),
      });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const durationMs = Math.round(performance.now() - started);
      if (attempt < this.maxAttempts && !this.closed) {
        this.record({ ...base, at: this.now().toISOString(), outcome: 'error', durationMs, error: message });
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1));
        this.schedule(routeId, handler, event, attempt + 1, duplicate, delay);
        return;
      }
      this.record({
        ...base,
        at: this.now().toISOString(),
        outcome: 'dead-letter',
        durationMs,
        error: message,
      });
      const letter: DeadLetter = {
        at: this.now().toISOString(),
        route: routeId,
        handler,
        attempts: attempt,
        error: message,
        event,
      };
      this.deadLetters.push(letter);
      this.log(
        `[nbops] ${handler} failed ${attempt} time(s) on ${event['detail-type']} ${event.id}: ${message} (dead-lettered)`,
      );
      if (this.options.deadLetterFile) this.append(this.options.deadLetterFile, letter);
    }
  }

  private record(entry: DeliveryRecord): void {
    if (entry.result === undefined) delete entry.result;
    this.deliveries.push(entry);
    if (this.options.logFile) this.append(this.options.logFile, entry);
  }

  private append(file: string, value: unknown): void {
    this.writes = this.writes
      .then(async () => {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(value)}\n`);
      })
      .catch((error) => this.log(`[nbops] event bus: could not write ${file}: ${(error as Error).message}`));
  }

  /** Resolves once no delivery is pending or waiting for a retry (and the log is written). */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    await this.writes;
  }

  /** Fires a schedule route now (as its timer would): the "Scheduled Event" EventBridge sends. */
  fireSchedule(routeId: string): AwsEvent {
    const route = this.routeTable.find((r): r is ScheduleRoute => r.kind === 'schedule' && r.id === routeId);
    if (!route) throw new Error(`no schedule route "${routeId}" in the wiring table`);
    const event = awsEvent({
      source: 'aws.events',
      detailType: 'Scheduled Event',
      detail: {},
      resources: [`arn:aws:events:${this.location.region}:${this.location.account}:rule/${route.id}`],
      at: this.now(),
      location: this.location,
    });
    if (!this.closed) this.schedule(route.id, route.handler, event, 1, false, 0);
    return event;
  }

  /** Starts a timer per `rate(...)` schedule route (cron routes are reported and skipped). */
  startSchedules(): void {
    const scale = this.options.timeScale ?? 1;
    for (const route of this.routeTable) {
      if (route.kind !== 'schedule') continue;
      const period = rateMillis(route.schedule);
      if (period === undefined) {
        this.log(`[nbops] schedule ${route.id} (${route.schedule}) is not a rate(); it does not run locally`);
        continue;
      }
      const timer = setInterval(() => this.fireSchedule(route.id), Math.max(10, period * scale));
      timer.unref();
      this.scheduleTimers.add(timer);
    }
  }

  /** Stops schedules and pending retries; deliveries already running finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.scheduleTimers) clearInterval(timer);
    this.scheduleTimers.clear();
    // Cancelled deliveries count as settled, so idle() callers are released.
    const cancelled = [...this.deliveryTimers];
    this.deliveryTimers.clear();
    for (const timer of cancelled) {
      clearTimeout(timer);
      this.settleOne();
    }
    await this.writes;
  }
}
