/**
 * The transactional producers of one source in an exactly-once Kafka sink, taking turns
 * (docs/kafka.md, "Exactly once"): batch 1 is a transaction of the first, batch 2 of the second,
 * batch 3 of the third, batch 4 of the first again, and so on.
 *
 * Why: after EndTxn answers, the coordinator still writes the commit markers into every partition
 * of the transaction, and until it has, a transaction of the same transactional id is refused
 * (CONCURRENT_TRANSACTIONS, asked again after a wait; with transaction protocol 2 the brokers wait
 * themselves, 20 ms by default). Why three: while one producer's transaction runs, the next one's
 * is opened early (TransactionalProducer.open(), protocol 1); with three, the next one's last transaction
 * ended a whole transaction before, so its markers are written and opening it waits for nothing
 * (with two it would start the moment its own commit was answered, and wait for those markers).
 * Transactions still never overlap: the next one starts only after the previous one's EndTxn
 * answered, so it is decided (committed), and read_committed consumers see the batches in order.
 *
 * Each producer keeps the position of its own last transaction (its position record, keyed by its
 * transactional id; from versions before position records, its consumer group's offset metadata):
 * the source's position is the latest of them (latestPosition()). The records are read after
 * InitProducerId (once for all the producers initialised together, after the last one's; alone for
 * one initialised again after a failure), and the read waits until no transaction is open in the
 * position topic below its end (position-log.ts), so the old producers' open transaction, at most
 * one, is aborted or completed first.
 */
import { latestPosition, type StreamPosition } from './stream-position.ts';
import type { FoundPosition } from './position-records.ts';
import type { HeldPosition, JointRead, TransactionalProducer } from './transaction.ts';

/** How many producers take turns. */
export const TURNS = 3;

/** The transactional ids of one source's producers: `id` itself (so positions of earlier versions stay found), then `id.2`, `id.3`. */
export function turnIds(id: string): string[] {
  return Array.from({ length: TURNS }, (_, i) => (i === 0 ? id : `${id}.${i + 1}`));
}

export class TransactionTurns {
  private turn = 0;

  constructor(readonly producers: readonly TransactionalProducer[]) {
    if (producers.length === 0) throw new Error('no transactional producers');
  }

  /** The producer whose turn it is. */
  get current(): TransactionalProducer {
    return this.producers[this.turn] as TransactionalProducer;
  }

  /** The producer whose turn comes next (open() its transaction early while the current one's runs). */
  get next(): TransactionalProducer {
    return this.producers[(this.turn + 1) % this.producers.length] as TransactionalProducer;
  }

  /** The transactional id named in messages: the first producer's. */
  get transactionalId(): string {
    return (this.producers[0] as TransactionalProducer).transactionalId;
  }

  /** The consumer groups holding the positions. */
  get positionGroups(): string[] {
    return this.producers.map((p) => p.positionGroup);
  }

  /**
   * Every producer ready (initialised, their positions read): a failed one again, the others at once.
   * Producers starting together (at start, all three) read the position topic once for all of them,
   * after each has its new epoch: its InitProducerId ends the open transaction of its id, so the
   * read finds its record committed or aborted, never pending.
   */
  async prepare(): Promise<void> {
    const starting = this.producers.filter((p) => p.unprepared);
    const joint = starting.length > 1
      ? new JointPositionRead(starting.length, () => (starting[0] as TransactionalProducer).positionRecordsOf(starting.map((p) => p.transactionalId)))
      : undefined;
    await Promise.all(this.producers.map((p) => p.prepare(starting.includes(p) ? joint : undefined)));
  }

  /** The current producer's transaction committed: the next batch is the next producer's. */
  passTurn(): void {
    this.turn = (this.turn + 1) % this.producers.length;
  }

  /** Ends the transactions opened early that no batch used. */
  async close(): Promise<void> {
    await Promise.all(this.producers.map((p) => p.close()));
  }

  /** The latest position the producers hold for `stream` (see latestPosition()): their records' and their groups'. */
  committed(stream: string | undefined): StreamPosition | undefined {
    return this.startingPosition(stream)?.position;
  }

  /** As committed(), with where it was read (a position record or a group's offset metadata) and whose it is. */
  startingPosition(stream: string | undefined): HeldPosition | undefined {
    const held = this.producers.flatMap((p) => p.held);
    const latest = latestPosition(held.map((h) => h.position), stream);
    return held.find((h) => h.position === latest);
  }
}

/** One read of the position topic for `sharers` producers, started when each has said ready() or failed(). */
export class JointPositionRead implements JointRead {
  private waiting: number;
  private start!: () => void;
  private readonly records: Promise<Map<string, FoundPosition>>;

  constructor(sharers: number, read: () => Promise<Map<string, FoundPosition>>) {
    this.waiting = sharers;
    this.records = new Promise<void>((resolve) => (this.start = resolve)).then(read);
    this.records.catch(() => {}); // when every sharer failed, nobody waits for it
  }

  ready(): Promise<Map<string, FoundPosition>> {
    this.arrive();
    return this.records;
  }

  failed(): void {
    this.arrive();
  }

  private arrive(): void {
    if (--this.waiting === 0) this.start();
  }
}
