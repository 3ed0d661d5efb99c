/**
 * The exactly-once harness's consumer: reads a data topic from the beginning as a Kafka consumer
 * of a fresh group with isolation READ_COMMITTED (records of aborted or still open transactions are
 * never seen), and hands each record of the crash table to a callback, in offset order per
 * partition. A record the client delivers twice at the same offset (a fetch repeated around the
 * group's first rebalance) is passed on once: a duplicate in the log has an offset of its own.
 * The client's read_committed filter misses aborted transactions (src/sources/kafka/read-committed.ts):
 * the reader uses the source's complete one, or it would report aborted records as duplicates.
 */
import { Consumer, FetchIsolationLevels, type MessagesStream } from '@platformatic/kafka';
import { uniqueTopic } from '../kafka.ts';
import { parseLine } from '../crash/output.ts';
import { filterAbortedFetches } from '../../../src/sources/kafka/read-committed.ts';
import type { ReadRecord } from './check.ts';

/**
 * Row id and version of an event of the crash table. Its columns come sorted (id, payload, txn,
 * version), so a pattern finds them without parsing the whole JSON (the soak reads millions while
 * the streamer writes); anything else is parsed.
 */
export function rowVersion(value: string): { id: number; version: number } | undefined {
  const match = /"Columns":\{"id":(\d+),.*?"version":(\d+)\}/.exec(value);
  if (match !== null) return { id: Number(match[1]), version: Number(match[2]) };
  return parseLine(value, 0);
}

export class CommittedReader {
  /** Records passed on. */
  records = 0;
  /** Record values that are not events of the crash table (at most a few kept). */
  readonly bad: string[] = [];
  /** When the last record arrived (performance.now()). */
  lastRecordAt = performance.now();
  error: unknown;
  /** Next offset to pass on, per partition. */
  private readonly next = new Map<number, bigint>();

  private constructor(
    private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
    private readonly stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
    onRecord: (record: ReadRecord) => void,
  ) {
    stream.on('data', (m) => {
      if (m.offset < (this.next.get(m.partition) ?? 0n)) return;
      this.next.set(m.partition, m.offset + 1n);
      this.lastRecordAt = performance.now();
      const value = m.value?.toString() ?? '';
      const event = rowVersion(value);
      if (event === undefined) {
        if (this.bad.length < 5) this.bad.push(`partition ${m.partition} offset ${m.offset}: ${value.slice(0, 200)}`);
        return;
      }
      this.records++;
      onRecord({ id: event.id, version: event.version, partition: m.partition, offset: m.offset });
    });
    stream.on('error', (err) => {
      this.error ??= err;
    });
  }

  /** Starts reading `topic` from its first offset. */
  static async start(brokers: readonly string[], topic: string, onRecord: (record: ReadRecord) => void): Promise<CommittedReader> {
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      groupId: uniqueTopic('exactly-once-reader'),
      clientId: 'exactly-once-reader',
      bootstrapBrokers: [...brokers],
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      maxWaitTime: 200,
      autocommit: false,
    });
    filterAbortedFetches(consumer);
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    return new CommittedReader(consumer, stream, onRecord);
  }

  /** Waits until no record arrived for `quietMs` (or `timeoutMs` passed). */
  async settle(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() - this.lastRecordAt < quietMs && performance.now() < deadline) await Bun.sleep(50);
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => {});
    await this.consumer.close(true).catch(() => {});
  }
}
