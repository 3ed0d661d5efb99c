/**
 * Exactly-once delivery of the Kafka sink (`exactlyOnce = true`, docs/kafka.md "Exactly once"):
 * each batch is one Kafka transaction per source, holding the batch's messages and the position it
 * completes, so "in Kafka" and "position recorded" never disagree.
 *
 * The position goes as a record of the transaction's own first produce request, to
 * `positionTopic` (position-records.ts), so a PostgreSQL source's transaction is the produce
 * requests and EndTxn under either transaction protocol (with protocol 1 the next producer adds
 * the partitions while the current one's transaction runs: txn-turns.ts, transaction.ts). Relayed
 * events commit their consumer groups' offsets in the transaction instead (TxnOffsetCommit).
 *
 * On the first batch of a source (and after any failure) the producers are (re)initialised and the
 * positions read back (their records, and the group offsets earlier versions committed); events at
 * or before the latest are in Kafka already and are dropped. The source
 * itself resumes from its state store, which is never ahead of Kafka (the pipeline acknowledges a
 * batch only after its transaction committed), so nothing is lost and nothing written twice.
 *
 * Any failure aborts the whole transaction (the next attempt bumps the epoch, which aborts it on
 * the brokers and resets the sequence numbers) and the batch is sent again in a new one, with
 * messages that can never be written replaced by their dead-letter copies. A producer fenced by
 * another instance with the same transactional id stops the pipeline for good.
 */
import { StreamerError, permanentError } from '../../core/errors.ts';
import type { ChangeEvent } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchProgress } from './batch-state.ts';
import { retryDelayMs, type KafkaProducer } from './client.ts';
import { takeChunk, type OutMessage } from './message.ts';
import type { KafkaSinkMetrics } from './metrics.ts';
import { describePosition, isDelivered, lastPosition, otherStream, positionOf } from './stream-position.ts';
import type { PositionTopicState } from './position-log.ts';
import { cleanupPolicyProblem, compactCommand } from './position-records.ts';
import { transactionalIdOf } from './spec.ts';
import { TransactionalProducer } from './transaction.ts';
import { PositionRecordFailed, TransactionRefused } from './txn-errors.ts';
import type { GroupCommit } from './txn-requests.ts';
import { leaveOutMoved, MovedPartitionLog, stillOwned } from './relay-ownership.ts';
import { TransactionTurns, turnIds } from './txn-turns.ts';

/** What exactly-once delivery uses of the sink. */
export interface ExactlyOnceParts {
  readonly sinkName: string;
  readonly component: string;
  readonly log: Logger;
  readonly producer: KafkaProducer;
  readonly metrics: KafkaSinkMetrics;
  /** `transactionalId` with its {sink} and {source} placeholders. */
  readonly transactionalId: string;
  readonly positionTopic: string;
  readonly transactionTimeoutMs: number;
  readonly maxAttempts: number;
  readonly chunkLimits: { maxMessages: number; maxBytes: number };
  readonly isClosed: () => boolean;
  /** Gives pending messages their partitions (or dead-letter copies). */
  assign(pending: OutMessage[]): Promise<void>;
  /** Sends one chunk in `txn`; acknowledged messages leave `p.pending`, replaced ones are reported; throws on any failure. */
  produce(p: BatchProgress, chunk: OutMessage[], txn: TransactionalProducer, replaced: Map<OutMessage, OutMessage>): Promise<void>;
  deadline<T>(call: Promise<T>, what: string): Promise<T>;
}

export class ExactlyOnceDelivery {
  private readonly producers = new Map<string, TransactionTurns>();
  /** Which source uses each transactional id: two sources must not share one. */
  private readonly owners = new Map<string, string>();
  private positionTopicChecked = false;
  private readonly otherStreamWarned = new WeakSet<TransactionTurns>();
  private readonly startLogged = new WeakSet<TransactionTurns>();
  private readonly protocols = new WeakMap<TransactionTurns, 1 | 2>();
  private readonly moved: MovedPartitionLog;

  constructor(private readonly parts: ExactlyOnceParts) {
    this.moved = new MovedPartitionLog((line) => parts.log.info(line));
  }

  /** Delivers the batch in one transaction (retrying as the opening comment says), or throws. */
  async deliver(p: BatchProgress, batch: readonly ChangeEvent[]): Promise<void> {
    const parts = this.parts;
    const source = batch[0]?.source ?? '';
    const turns = this.producersFor(source);
    const position = lastPosition(batch);
    let attempt = 1;
    for (;;) {
      // Asked per attempt: a rebalance of the relayed group gives the consumer a new generation,
      // and events of partitions that moved meanwhile are left out (relay-ownership.ts).
      const left = leaveOutMoved(p);
      if (left !== undefined) {
        parts.metrics.recordRelayLeftOut(left.events);
        this.moved.report(left);
      }
      const relayed = relayCommits(batch);
      let sent: OutMessage[] = [];
      let txn: TransactionalProducer | undefined;
      const replaced = new Map<OutMessage, OutMessage>();
      const started = performance.now();
      try {
        await this.checkPositionTopic();
        await this.prepare(turns);
        this.dropDelivered(p, turns);
        txn = turns.current;
        this.logProtocol(turns, txn);
        await parts.assign(p.pending);
        sent = p.pending.slice();
        if (sent.length === 0 && relayed.length === 0) return; // nothing to write: the position moves with the next transaction
        const partitions = partitionsOf(sent);
        turns.next.open(partitions);
        let stage = performance.now();
        await parts.deadline(txn.begin(partitions, position, relayed), `opening a transaction of "${txn.transactionalId}"`);
        parts.metrics.recordTransactionStage('begin', stage);
        stage = performance.now();
        while (p.pending.length > 0) {
          const chunk = takeChunk(p.pending, { ...parts.chunkLimits, single: p.single });
          await parts.produce(p, chunk, txn, replaced);
        }
        parts.metrics.recordTransactionStage('produce', stage);
        await parts.deadline(txn.commit((s, at) => parts.metrics.recordTransactionStage(s, at)), `committing a transaction of "${txn.transactionalId}"`);
        parts.metrics.recordTransactionStage('transaction', started);
        parts.metrics.recordTransaction(true);
        turns.passTurn();
        return;
      } catch (err) {
        if (sent.length > 0 || relayed.length > 0) parts.metrics.recordTransaction(false);
        // The position topic deleted while we run? Checked again (created compacted) before the next
        // attempt; the produce path never has the brokers auto-create it (PartitionBatch.neverCreate).
        if (err instanceof PositionRecordFailed) this.positionTopicChecked = false;
        // A producer refused while preparing (fenced, not allowed) may be the other one than the current.
        const failed = (txn ?? turns.current).failed(err);
        const refused = err instanceof TransactionRefused ? err : failed;
        if (refused !== undefined) throw permanentError(refused.message, { component: parts.component, cause: err });
        // Everything of the aborted transaction goes again, dead-letter copies in their originals' places.
        if (sent.length > 0) p.pending = sent.map((m) => replaced.get(m) ?? m);
        const retryable = err instanceof StreamerError ? err.retryable : true;
        if (!retryable || attempt >= parts.maxAttempts || parts.isClosed()) throw err;
        parts.log.debug(`Transaction attempt ${attempt} of ${parts.maxAttempts} failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
        parts.producer.clearMetadata();
        await Bun.sleep(retryDelayMs(attempt));
        attempt++;
      }
    }
  }

  /**
   * Before `source` reads (an exactly-once relay finding its group's offsets held by an open
   * transaction): initialises its producers now, which fences the producers of an earlier run and
   * ends their open transaction, so the offsets it holds become readable at once instead of when the
   * brokers time it out (transactionTimeout). Failures are left to the first batch's prepare().
   * Returns false when they were ready already (nothing done).
   */
  async prepareFor(source: string): Promise<boolean> {
    const turns = this.producersFor(source);
    if (turns.producers.every((p) => p.ready)) return false;
    await this.prepare(turns);
    return true;
  }

  /** Every producer of `turns` initialised (TransactionTurns.prepare()), within the sink's deadline. */
  private prepare(turns: TransactionTurns): Promise<void> {
    return this.parts.deadline(turns.prepare(), `starting the transactional producers "${turns.transactionalId}"`);
  }

  /** At shutdown, after the last write: ends the transactions opened early that no batch used. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.producers.values()].map((turns) => this.parts.deadline(turns.close(), `ending the transactions of "${turns.transactionalId}"`)));
  }

  private producersFor(source: string): TransactionTurns {
    let turns = this.producers.get(source);
    if (turns !== undefined) return turns;
    const parts = this.parts;
    const ids = turnIds(transactionalIdOf(parts.transactionalId, parts.sinkName, source));
    for (const id of ids) {
      const owner = this.owners.get(id);
      if (owner !== undefined) {
        throw permanentError(`transactionalId "${id}" is used by sources "${owner}" and "${source}": put {source} in the sink's transactionalId`, { component: parts.component });
      }
    }
    for (const id of ids) this.owners.set(id, source);
    turns = new TransactionTurns(ids.map((id) => new TransactionalProducer(parts.producer.transactions(id, parts.transactionTimeoutMs), parts.positionTopic, source)));
    this.producers.set(source, turns);
    parts.log.info(`Exactly once: source "${source}" writes in transactions as ${ids.map((id) => `"${id}"`).join(', ')} in turn ` +
      `(positions as records of those keys in topic "${parts.positionTopic}")`);
    return turns;
  }

  /** Says which transaction protocol the source's transactions use, when it is first known and when it changes. */
  private logProtocol(turns: TransactionTurns, txn: TransactionalProducer): void {
    if (this.protocols.get(turns) === txn.protocol) return;
    this.protocols.set(turns, txn.protocol);
    this.parts.log.info(txn.protocol === 2
      ? `Exactly once: transactions of "${turns.transactionalId}" use Kafka's transaction protocol 2 (KIP-890: partitions added by the produce requests, a new epoch per transaction)`
      : `Exactly once: transactions of "${turns.transactionalId}" use Kafka's transaction protocol 1 (AddPartitionsToTxn; the brokers' transaction.version is below 2 or they lack the requests of version 2)`);
  }

  /**
   * The position topic must exist, and be compacted so that no producer's last position record is
   * ever deleted: created so when missing (CreateTopics); an existing one that is not compacted
   * is used, with a warning naming the remedy.
   */
  private async checkPositionTopic(): Promise<void> {
    if (this.positionTopicChecked) return;
    const { producer, positionTopic, log } = this.parts;
    let state: PositionTopicState;
    try {
      state = await this.parts.deadline(producer.ensurePositionTopic(positionTopic, this.parts.transactionTimeoutMs), `creating the position topic "${positionTopic}"`);
    } catch (err) {
      throw new StreamerError('SINK_WRITE', `the position topic "${positionTopic}" does not exist and cannot be created (${err instanceof Error ? err.message : String(err)}): ` +
        `create it with 1 partition and cleanup.policy=compact`, { component: this.parts.component, cause: err });
    }
    if (state.created) log.info(`Exactly once: created the position topic "${positionTopic}" (1 partition, cleanup.policy=compact)`);
    if (state.cleanupPolicy.known) {
      const problem = cleanupPolicyProblem(positionTopic, state.cleanupPolicy.value);
      if (problem !== undefined) log.warn(`Exactly once: ${problem}; make it compacted: ${compactCommand(positionTopic)}`);
    } else {
      log.warn(`Exactly once: cannot tell whether the position topic "${positionTopic}" is compacted (${state.cleanupPolicy.why}); it must be (cleanup.policy=compact)`);
    }
    this.positionTopicChecked = true;
  }

  /** Says once per source where its position came from at start: a position record, a group's offset metadata (an earlier version), or nothing. */
  private logStart(turns: TransactionTurns, stream: string | undefined): void {
    if (this.startLogged.has(turns)) return;
    this.startLogged.add(turns);
    const held = turns.startingPosition(stream);
    const what = held === undefined
      ? 'have no position in Kafka yet (nothing delivered exactly once)'
      : `start from position ${describePosition(held.position)} from ${held.from === 'record'
        ? `the position record of "${held.id}" (topic "${this.parts.positionTopic}", offset ${held.offset})`
        : `the offset metadata of group "${held.id}" (committed by a version before position records)`}`;
    this.parts.log.info(`Exactly once: transactions of "${turns.transactionalId}" ${what}`);
  }

  /**
   * Drops the messages whose events Kafka has already (replayed after a restart, or an attempt that
   * failed but in fact committed). Batches are in stream order: one look at the first stream event
   * tells whether any is.
   */
  private dropDelivered(p: BatchProgress, turns: TransactionTurns): void {
    const first = p.pending.find((m) => positionOf(m.event) !== undefined);
    if (first === undefined) return;
    const stream = first.event.stream;
    this.logStart(turns, stream);
    const committed = turns.committed(stream);
    if (committed === undefined) return;
    if (otherStream(committed.stream, stream)) {
      if (!this.otherStreamWarned.has(turns)) {
        this.otherStreamWarned.add(turns);
        this.parts.log.warn(`Exactly once: the position in Kafka (${describePosition(committed)}) belongs to stream ${committed.stream}, this source is ${stream} ` +
          `(another cluster or slot): ignored, nothing is skipped; to clear it, write tombstones (null values) of keys ${turns.positionGroups.map((g) => `"${g}"`).join(', ')} ` +
          `to topic "${this.parts.positionTopic}" and delete the groups of the same names (docs/operations.md, "Clearing an exactly-once position")`);
      }
      return;
    }
    if (!isDelivered(first.event, committed)) return;
    const before = p.pending.length;
    p.pending = p.pending.filter((m) => !isDelivered(m.event, committed));
    p.routed = p.routed.filter((e) => !isDelivered(e, committed));
    const skipped = before - p.pending.length;
    if (skipped > 0) {
      this.parts.metrics.recordAlreadyDelivered(skipped);
      this.parts.log.info(`Exactly once: ${skipped} message(s) up to ${describePosition(committed)} are in Kafka already (transactions of "${turns.transactionalId}"); not writing them again`);
    }
  }
}

/** The topics and partitions of the messages. */
function partitionsOf(messages: readonly OutMessage[]): Map<string, Set<number>> {
  const topics = new Map<string, Set<number>>();
  for (const m of messages) {
    let set = topics.get(m.topic);
    if (set === undefined) topics.set(m.topic, (set = new Set()));
    set.add(m.partition);
  }
  return topics;
}

/** For events read from Kafka: the next offset of each partition read and still owned, per consumer group, to commit in the transaction. */
export function relayCommits(batch: readonly ChangeEvent[]): GroupCommit[] {
  const groups = new Map<string, { ref: NonNullable<ChangeEvent['origin']>['group']; next: Map<string, { topic: string; partition: number; offset: bigint }> }>();
  for (const event of batch) {
    const origin = event.origin;
    if (origin === undefined || !stillOwned(origin)) continue;
    let group = groups.get(origin.group.id);
    if (group === undefined) {
      groups.set(origin.group.id, (group = { ref: origin.group, next: new Map() }));
      origin.group.commitsInTransactions(); // the source's own commits could move these offsets back
    }
    const key = `${origin.topic}\u0000${origin.partition}`;
    const offset = origin.offset + 1n;
    const known = group.next.get(key);
    if (known === undefined || known.offset < offset) group.next.set(key, { topic: origin.topic, partition: origin.partition, offset });
  }
  return [...groups.values()].map(({ ref, next }) => ({
    group: ref.id,
    generation: ref.generation(),
    member: ref.member(),
    offsets: [...next.values()].map((o) => ({ ...o, metadata: null })),
  }));
}
