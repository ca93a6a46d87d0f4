/**
 * The NotifierPort on SNS: one topic per severity (page, ticket, and optionally info), so teams
 * subscribe a pager to one and a ticket queue to the other. Messages carry the model, version and
 * severity as message attributes for subscription filter policies. Without an info topic, info
 * notifications are only logged.
 */
import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import type { RetryOptions } from '#core/aws/retry';
import { withRetry } from '#core/aws/retry';
import type { Notification, NotifierPort } from '#core/ports';
import { type AdapterOptions, retryOptions } from './call';

export interface SnsTopics {
  pageTopicArn: string;
  ticketTopicArn: string;
  infoTopicArn?: string;
}

/** Where notifications without a topic go (a structured logger in Lambda). */
export type NotificationLog = (message: string, fields: Record<string, unknown>) => void;

/** SNS limits: a subject of at most 100 printable ASCII characters, a message of at most 256 KB. */
const MAX_SUBJECT = 100;
const MAX_MESSAGE_BYTES = 256 * 1024;

export class SnsNotifier implements NotifierPort {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: SNSClient,
    private readonly topics: SnsTopics,
    private readonly log: NotificationLog = (message, fields) => console.info(message, fields),
    options: AdapterOptions = {},
  ) {
    this.retry = retryOptions(options);
  }

  async notify(n: Notification): Promise<void> {
    const topic = this.topicFor(n.severity);
    if (!topic) {
      this.log('notification (no info topic configured)', { ...n });
      return;
    }
    const attributes: PublishCommandInput['MessageAttributes'] = {
      severity: { DataType: 'String', StringValue: n.severity },
    };
    if (n.model) attributes.model = { DataType: 'String', StringValue: n.model };
    if (n.version !== undefined) attributes.version = { DataType: 'Number', StringValue: String(n.version) };
    const input: PublishCommandInput = {
      TopicArn: topic,
      Subject: snsSubject(n.subject),
      Message: truncateBytes(n.message, MAX_MESSAGE_BYTES),
      MessageAttributes: attributes,
    };
    await withRetry(() => this.client.send(new PublishCommand(input)), this.retry);
  }

  private topicFor(severity: Notification['severity']): string | undefined {
    if (severity === 'page') return this.topics.pageTopicArn;
    if (severity === 'ticket') return this.topics.ticketTopicArn;
    return this.topics.infoTopicArn;
  }
}

/**
 * A subject SNS accepts: ASCII printable characters only (no line breaks), at most 100 of them,
 * not starting with a space. Other characters become `?`; a cut subject ends with `...`.
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const text = ascii || 'nbops notification';
  return text.length > MAX_SUBJECT ? `${text.slice(0, MAX_SUBJECT - 3)}...` : text;
}

function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  const note = '\n[truncated: the full text is in the nbops logs]';
  let cut = Buffer.from(text, 'utf8')
    .subarray(0, max - Buffer.byteLength(note))
    .toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD; drop it.
  cut = cut.replace(/\uFFFD$/, '');
  return cut + note;
}
