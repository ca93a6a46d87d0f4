/**
 * The EventsPort on EventBridge: nbops's own events (source `nbops`) on the service's bus.
 * PutEvents can succeed as a call and still fail an entry (FailedEntryCount): such a failure is
 * raised with the entry's ErrorCode as the error name, so throttling and internal failures are
 * retried like any other throttled call and the rest surface with EventBridge's own message.
 */
import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
} from '@aws-sdk/client-eventbridge';
import type { RetryOptions } from '#core/aws/retry';
import type { EventsPort } from '#core/ports';
import { NBOPS_EVENT_SOURCE } from '#core/wiring';
import { type AdapterOptions, checkedCall, retryOptions } from './call';

/** EventBridge's size limit for one PutEvents entry (conservative: the original 256 KB). */
export const MAX_ENTRY_BYTES = 256 * 1024;

export class AwsEvents implements EventsPort {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    options: AdapterOptions = {},
  ) {
    this.retry = retryOptions(options);
  }

  async publish(
    detailType: string,
    detail: Record<string, unknown>,
    opts: { resources?: string[] } = {},
  ): Promise<void> {
    const entry = {
      Source: NBOPS_EVENT_SOURCE,
      DetailType: detailType,
      Detail: JSON.stringify(detail),
      EventBusName: this.busName,
      ...(opts.resources?.length ? { Resources: opts.resources } : {}),
    };
    const size = Buffer.byteLength(entry.Source + entry.DetailType + entry.Detail, 'utf8');
    if (size > MAX_ENTRY_BYTES)
      throw new Error(
        `the "${detailType}" event is ${size} bytes; EventBridge takes at most ${MAX_ENTRY_BYTES} bytes per event. Put large data in S3 and send its URI in the event instead.`,
      );
    const input: PutEventsCommandInput = { Entries: [entry] };
    await checkedCall(
      'events',
      'PutEvents',
      input,
      async () => {
        const out = await this.client.send(new PutEventsCommand(input));
        const failed = out.FailedEntryCount ? out.Entries?.find((e) => e.ErrorCode) : undefined;
        if (out.FailedEntryCount) throw entryError(detailType, failed?.ErrorCode, failed?.ErrorMessage);
        return out;
      },
      this.retry,
    );
  }
}

function entryError(detailType: string, code: string | undefined, message: string | undefined): Error {
  const error = new Error(
    `EventBridge did not accept the "${detailType}" event: ${code ?? 'unknown error'}${message ? ` (${message})` : ''}`,
  );
  error.name = code ?? 'PutEventsFailedEntry';
  return error;
}
