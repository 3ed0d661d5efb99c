/**
 * The upstream of the exactly-once relay test: a transactional Kafka producer (@platformatic/kafka's
 * own) writing events of the crash table (`id`, `version`, `txn` columns, our passthrough JSON) in
 * transactions of a few inserts/updates, aborting some of them, as fast as it can. Like
 * test/helpers/crash/writer.ts it remembers only what was committed: an aborted transaction's
 * versions are written again by a later one, so a relay that read aborted records would show them
 * as duplicates or versions never committed.
 */
import { randomUUID } from 'node:crypto';
import { Producer } from '@platformatic/kafka';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { encodePassthrough } from '../../../src/event/passthrough.ts';
import { uniqueTopic } from '../kafka.ts';
import { randomBetween } from '../crash/writer.ts';

export interface KafkaWriterOptions {
  changesPerTxn: number;
  insertShare: number;
  /** Share of transactions aborted instead of committed. */
  abortShare: number;
  pauseMs: number;
  /** Partitions of the topic; a row always goes to partition id % partitions, so its versions stay in order. */
  partitions: number;
}

/** The same counters as crash/writer.ts's Writer, for harness.ts. */
export class KafkaWriter {
  /** Row id → highest committed version; versions of a row are 1..max, committed in that order. */
  readonly committed = new Map<number, number>();
  transactions = 0;
  changes = 0;
  aborted = 0;
  error: unknown;
  private readonly ids: number[] = [];
  private nextId = 1;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly brokers: readonly string[], private readonly topic: string, private readonly options: KafkaWriterOptions) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    if (this.error !== undefined) throw this.error;
  }

  private async loop(): Promise<void> {
    // Retried quickly: the next transaction's first request meets CONCURRENT_TRANSACTIONS until the
    // previous one's markers are written (the client's default 1 s wait allowed ≈ 1 transaction/s).
    const producer = new Producer({
      clientId: 'exactly-once-upstream', bootstrapBrokers: [...this.brokers], acks: -1, idempotent: true, retries: 100, retryDelay: 20, transactionalId: uniqueTopic('upstream'),
    });
    try {
      while (!this.stopped) {
        await this.transaction(producer);
        if (this.options.pauseMs > 0) await Bun.sleep(this.options.pauseMs);
      }
    } catch (err) {
      this.error = err;
    } finally {
      await producer.close().catch(() => {});
    }
  }

  private async transaction(producer: Producer): Promise<void> {
    const txn = this.transactions + this.aborted + 1;
    const pending = new Map<number, number>();
    const fresh: number[] = [];
    const messages = [];
    for (let i = 0; i < this.options.changesPerTxn; i++) {
      const candidates = this.ids.length + fresh.length;
      let id: number;
      if (candidates === 0 || Math.random() < this.options.insertShare) {
        id = this.nextId++;
        fresh.push(id);
      } else {
        const pick = Math.floor(Math.random() * candidates);
        id = (pick < this.ids.length ? this.ids[pick] : fresh[pick - this.ids.length]) as number;
      }
      const version = (pending.get(id) ?? this.committed.get(id) ?? 0) + 1;
      pending.set(id, version);
      messages.push({ topic: this.topic, partition: id % this.options.partitions, value: Buffer.from(eventJson(id, version, txn)) });
    }
    const transaction = await producer.beginTransaction();
    await transaction.send({ messages });
    if (Math.random() < this.options.abortShare) {
      await transaction.abort();
      // Not committed: the ids are free again (inserted by a later transaction), the versions written again.
      this.nextId -= fresh.length;
      this.aborted++;
      return;
    }
    await transaction.commit();
    for (const [id, version] of pending) this.committed.set(id, version);
    for (const id of fresh) this.ids.push(id);
    this.transactions++;
    this.changes += messages.length;
  }
}

/** A row change of the crash table in our passthrough JSON (the Kafka source reads it as any event). */
function eventJson(id: number, version: number, txn: number): string {
  const event: ChangeEvent = {
    source: 'upstream', host: 'upstream.example', database: 'shop', schema: 'public', table: 'eo',
    action: version === 1 ? 'insert' : 'update', lsn: BigInt(txn) * 1000n, timestamp: new Date().toISOString(), uuid: randomUUID(),
    columns: { id, version, txn, payload: 'p'.repeat(randomBetween(1, 120)) }, key: ['id'],
  };
  return encodePassthrough(event);
}
