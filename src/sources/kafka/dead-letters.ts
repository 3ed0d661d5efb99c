/**
 * The Kafka source's dead-letter topic: a malformed message is copied there (value, key and
 * headers as read, plus why and where it came from) as soon as it is read, and its offset is
 * committed only after that copy was acknowledged (`flush` before the commit). A failed copy is
 * sent again by the next acknowledgement attempt; nothing is skipped while the topic is unwritable.
 */
import type { MessageToProduce } from '@platformatic/kafka';
import { Producer } from '../../kafka/library/producer.ts';
import { withDeadline } from '../../core/deadline.ts';
import { StreamerError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { describeKafkaError, type KafkaConnectionOptions } from '../../kafka/client-options.ts';
import {
  HEADER_DLQ_ERROR,
  HEADER_DLQ_ERROR_CODE,
  HEADER_DLQ_PARTITION,
  HEADER_DLQ_TOPIC,
  HEADER_SOURCE,
  internedBytes,
} from '../../kafka/headers.ts';
import { partitionKey, type KafkaPosition } from './offsets.ts';

/** A dead-letter write not answered in this long fails (and is sent again before the offset is committed). */
const SEND_DEADLINE_MS = 20_000;

/** Offset of the malformed message in its topic (the sink's dead letters have no such header). */
export const HEADER_DLQ_OFFSET = 'psql-streamer-original-offset';
/** Value of `psql-streamer-error-code` for a message that is not a valid event. */
export const MALFORMED_EVENT = 'MALFORMED_EVENT';

/** What the source knows of the message it could not decode. */
export interface UnreadableMessage {
  key: Buffer | undefined;
  value: Buffer | undefined;
  headers: readonly [Buffer, Buffer][];
}

interface Letter {
  record: MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
  topic: string;
  /** The send in progress, or the last one (rejected: to be sent again). */
  sending: Promise<void>;
  failed: boolean;
}

function letterKey(p: KafkaPosition): string {
  return `${partitionKey(p.topic, p.partition)}@${p.offset}`;
}

export class DeadLetters {
  private producer: Producer<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** Letters not yet confirmed, by position of the malformed message. */
  private readonly pending = new Map<string, Letter>();
  private sent = 0;
  private closed = false;

  constructor(
    readonly topic: string,
    private readonly sourceName: string,
    private readonly connection: KafkaConnectionOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Starts copying a malformed message to the dead-letter topic. */
  add(position: KafkaPosition, message: UnreadableMessage, reason: string): void {
    const headers = new Map<Buffer, Buffer>(message.headers);
    headers.set(internedBytes(HEADER_DLQ_ERROR), Buffer.from(reason));
    headers.set(internedBytes(HEADER_DLQ_ERROR_CODE), internedBytes(MALFORMED_EVENT));
    headers.set(internedBytes(HEADER_SOURCE), internedBytes(this.sourceName));
    headers.set(internedBytes(HEADER_DLQ_TOPIC), internedBytes(position.topic));
    headers.set(internedBytes(HEADER_DLQ_PARTITION), Buffer.from(String(position.partition)));
    headers.set(internedBytes(HEADER_DLQ_OFFSET), Buffer.from(position.offset.toString()));
    const record: MessageToProduce<Buffer, Buffer, Buffer, Buffer> = { topic: this.topic, headers };
    if (message.key !== undefined && message.key.length > 0) record.key = message.key;
    if (message.value !== undefined) record.value = message.value;
    const letter: Letter = { record, topic: position.topic, sending: Promise.resolve(), failed: false };
    this.pending.set(letterKey(position), letter);
    this.send(letter);
  }

  /** Letters not yet acknowledged by the broker. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Messages copied so far. */
  get count(): number {
    return this.sent;
  }

  /**
   * Resolves once the letters of `positions` are written (sending again those that failed);
   * rejects with a retryable error otherwise, so the offsets are not committed yet.
   */
  async flush(positions: readonly KafkaPosition[]): Promise<void> {
    const letters: [string, Letter][] = [];
    for (const position of positions) {
      const key = letterKey(position);
      const letter = this.pending.get(key);
      if (letter === undefined) continue;
      if (letter.failed) this.send(letter);
      letters.push([key, letter]);
    }
    if (letters.length === 0) return;
    const results = await Promise.allSettled(letters.map(([, letter]) => letter.sending));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (let i = 0; i < letters.length; i++) {
      if (results[i]?.status === 'fulfilled') this.pending.delete((letters[i] as [string, Letter])[0]);
    }
    if (failure) {
      throw new StreamerError('SOURCE', `unable to write ${letters.length - results.filter((r) => r.status === 'fulfilled').length} malformed message(s) to the dead-letter topic "${this.topic}": ${describeKafkaError(failure.reason)}`, { retryable: true, cause: failure.reason, explainsCause: true });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close().catch(() => {});
  }

  private send(letter: Letter): void {
    if (this.closed) return;
    letter.failed = false;
    // acks with every send: the client ignores the producer-level setting (and would use 1). A send
    // the brokers never answer fails (it is sent again at the next flush) rather than hold the commit.
    letter.sending = withDeadline(
      this.client().send({ messages: [letter.record], acks: -1, autocreateTopics: true }),
      SEND_DEADLINE_MS,
      () => new Error(`no answer within ${SEND_DEADLINE_MS / 1000} s`),
    )
      .then(
        () => {
          this.sent++;
          this.metrics.kafkaSourceDeadLettered.inc({ sourceName: this.sourceName, topic: letter.topic });
        },
        (err: unknown) => {
          letter.failed = true;
          this.log.warn(`Unable to write a malformed message to the dead-letter topic "${this.topic}" (sent again before its offset is committed): ${describeKafkaError(err)}`);
          throw err;
        },
      );
    // Failures are reported by flush(); this keeps an unobserved rejection from being fatal.
    letter.sending.catch(() => {});
  }

  private client(): Producer<Buffer, Buffer, Buffer, Buffer> {
    // Created at the first malformed message: a healthy stream never opens this connection.
    this.producer ??= new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...this.connection,
      clientId: `${this.connection.clientId}-dlq`,
    });
    return this.producer;
  }
}
