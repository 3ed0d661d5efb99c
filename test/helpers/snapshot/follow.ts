/**
 * Reading what a running streamer delivers, as it arrives: the file sink's JSON lines (across
 * kill -9 restarts, where a kill can tear the last line) and a Kafka topic (every partition in
 * offset order). Each complete event goes to a callback; nothing is kept here.
 */
import { Consumer } from '@platformatic/kafka';
import { uniqueTopic } from '../kafka.ts';
import { fileSize, forEachLine } from '../crash/output.ts';

/**
 * Follows a file the file sink appends to. `poll()` hands over the complete lines written since the
 * last call; `endRun()`, after the writing process was killed, also drops the torn bytes a kill can
 * leave after the last newline (the next run appends after them, so the next "line" would mix the
 * two), counting them in `tornLines`.
 */
export class FileFollower {
  private offset = 0;
  tornLines = 0;
  /** Lines handed over, in order. */
  lines = 0;

  constructor(readonly path: string, private readonly onLine: (line: string, run: number) => void) {}

  /** The run (0-based) lines are attributed to: incremented by endRun(). */
  run = 0;

  poll(): void {
    const size = fileSize(this.path);
    if (size <= this.offset) return;
    const tail = forEachLine(this.path, this.offset, size, (line) => {
      this.lines++;
      this.onLine(line, this.run);
    });
    this.offset = size - tail.length;
  }

  /** The writer of the file is gone: everything up to its end is read, a torn rest skipped. */
  endRun(): void {
    this.poll();
    const size = fileSize(this.path);
    if (size > this.offset) {
      this.tornLines++;
      this.offset = size;
    }
    this.run++;
  }
}

/** A Kafka message as the follower hands it over. */
export interface FollowedMessage {
  partition: number;
  offset: bigint;
  key: string | undefined;
  value: string | undefined;
}

/**
 * Consumes `topic` from its beginning (a throwaway group, every partition) and calls `onMessage`
 * for each message, in offset order per partition, until `stop()`.
 */
export async function followTopic(brokers: string[], topic: string, onMessage: (m: FollowedMessage) => void): Promise<{ stop(): Promise<void>; count(): number; error(): unknown }> {
  const consumer = new Consumer({ groupId: uniqueTopic('snapshot-follow'), clientId: 'snapshot-follow', bootstrapBrokers: brokers, maxWaitTime: 100, autocommit: false });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
  // A consumer can see a message twice (a fetch repeated around the group's first rebalance): per
  // partition, only offsets after the last one handed over.
  const next = new Map<number, bigint>();
  let count = 0;
  let failure: unknown;
  const done = (async () => {
    for await (const m of stream) {
      const expected = next.get(m.partition) ?? 0n;
      if (m.offset < expected) continue;
      next.set(m.partition, m.offset + 1n);
      count++;
      try {
        onMessage({
          partition: m.partition,
          offset: m.offset,
          key: m.key === null || m.key === undefined ? undefined : m.key.toString(),
          value: m.value === null || m.value === undefined ? undefined : m.value.toString(),
        });
      } catch (err) {
        failure ??= err;
      }
    }
  })();
  return {
    count: () => count,
    /** The first error the callback threw (the following messages were still handed over). */
    error: () => failure,
    async stop() {
      await stream.close().catch(() => {});
      await done.catch(() => {});
      await consumer.close(true).catch(() => {});
    },
  };
}
