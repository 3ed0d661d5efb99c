/**
 * The Kafka sink's dead-letter handling: a message that can never be written to its topic is replaced
 * by its copy for `deadLetterTopic` (message.ts's deadLetterMessage), or stops the pipeline with
 * a permanent error that says what, why and how to fix it.
 */
import { permanentError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { lsnText } from '../../kafka/headers.ts';
import { qualifiedTable } from '../../event/key.ts';
import { deadLetterMessage, dropValue, type OutMessage, type Undeliverable } from './message.ts';

/** Diverts undeliverable messages to the dead-letter topic, or fails for good when there is none. */
export class DeadLetters {
  /** @param topic `deadLetterTopic`, undefined when not configured. */
  constructor(private readonly topic: string | undefined, private readonly log: Logger, private readonly component: string) {}

  /**
   * Replaces a message that can never be written to its topic by its dead-letter copy (in place in
   * `pending`, so order is kept), or throws the permanent error that stops the pipeline. Returns the
   * message that now takes its place (the copy, or the message itself without its value).
   */
  divert(pending: OutMessage[], message: OutMessage, reason: Undeliverable): OutMessage {
    const dlq = this.topic;
    const original = message.deadLetterOf;
    if (original !== undefined) {
      if (reason.code === 'MESSAGE_TOO_LARGE' && message.value !== undefined) {
        this.log.warn(`Dead-letter topic "${message.topic}" refuses the ${message.value.length}-byte value too; writing the dead-letter message without value`);
        dropValue(message);
        return message;
      }
      throw permanentError(
        `cannot write to the dead-letter topic "${message.topic}": ${reason.message}; the message for ${describeMessage(original)} ` +
          `was diverted from topic "${original.topic}" because ${original.deadLetterReason?.message ?? 'it could not be written'}`,
        { component: this.component },
      );
    }
    if (dlq === undefined) throw permanentError(explainUndeliverable(message, reason), { component: this.component });
    const copy = deadLetterMessage(message, reason, dlq);
    message.deadLetterReason = reason;
    const index = pending.indexOf(message);
    if (index >= 0) pending[index] = copy;
    this.log.warn(`Message for ${describeMessage(message)} goes to dead-letter topic "${dlq}" instead of "${message.topic}": ${reason.message}`);
    return copy;
  }
}

/** `public.users (LSN 0/16B3748)` */
function describeMessage(message: OutMessage): string {
  return `${qualifiedTable(message.event)} ${message.event.action} (LSN ${lsnText(message.event.commitLsn ?? message.event.lsn)}, UUID ${message.event.uuid})`;
}

/** The permanent error for a message that cannot be written and has nowhere else to go: what, why, how to fix. */
function explainUndeliverable(message: OutMessage, reason: Undeliverable): string {
  const what = `cannot write the message for ${describeMessage(message)} to topic "${message.topic}"`;
  const divert = 'or set deadLetterTopic to divert such messages';
  switch (reason.code) {
    case 'MESSAGE_TOO_LARGE':
      return `${what}: ${reason.message}. Raise the topic's max.message.bytes (and the brokers' message.max.bytes), ${divert}`;
    case 'UNKNOWN_TOPIC':
      return `${what}: ${reason.message}. Create the topic (or enable auto.create.topics.enable on the brokers), fix tableTopicMapping/topicFallback, ${divert}`;
    case 'INVALID_TOPIC':
    case 'INVALID_TOPIC_EXCEPTION':
      return `${what}: ${reason.message}. Fix tableTopicMapping/topicFallback`;
    default:
      return `${what}: ${reason.message}. ${divert.charAt(0).toUpperCase()}${divert.slice(1)}`;
  }
}
