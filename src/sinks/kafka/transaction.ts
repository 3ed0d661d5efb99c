/**
 * One source's transactional producer in an exactly-once Kafka sink (docs/kafka.md, "Exactly
 * once"): its producer id and epoch, the sequence number of each partition, and the stream position
 * Kafka holds for it.
 *
 * A batch's transaction: prepare() (the first time, and after any failure: InitProducerId, which
 * fences older instances and completes the transaction a crashed one left open, then the committed
 * position is read back with require_stable) → begin() (AddPartitionsToTxn, AddOffsetsToTxn) →
 * record batches stamped by stamp() → commit() (TxnOffsetCommit of the position or of the relayed
 * offsets, EndTxn). After a failure, failed() makes the next prepare() ask for a new epoch with the
 * current one (KIP-360): the open transaction is aborted and the sequences start again at 0. If
 * another instance took the transactional id meanwhile, the brokers refuse and the producer is
 * fenced for good.
 */
import type { ProducerStamp } from '../../kafka/protocol/record-batch.ts';
import { errorNames } from './outcome.ts';
import { decodePosition, encodePosition, type StreamPosition } from './stream-position.ts';
import type { GroupCommit, ProducerIdentity, TxnRequests } from './txn-requests.ts';

/**
 * Errors that mean another producer with the same transactional id took over. INVALID_PRODUCER_EPOCH
 * from a transaction's request may also mean the coordinator aborted it for taking longer than
 * `transactionTimeout`: that one is only proven a fencing when bumping the epoch is refused too.
 */
const FENCED = new Set(['PRODUCER_FENCED']);
const FENCED_ON_INIT = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);
/** Errors that no retry can fix: the brokers refuse this producer's settings or rights. */
const REFUSED = new Set(['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'INVALID_TRANSACTION_TIMEOUT', 'CLUSTER_AUTHORIZATION_FAILED']);

const MAX_SEQUENCE = 2 ** 31 - 1;

/** A transactional producer that can no longer write: fenced by another instance, or refused. */
export class TransactionRefused extends Error {
  constructor(message: string, readonly fenced: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransactionRefused';
  }
}

/** Whether a failed transactional request says the producer can never write again. */
export function refusal(err: unknown, transactionalId: string, onInit = false): TransactionRefused | undefined {
  const names = errorNames(err);
  const fenced = names.find((n) => (onInit ? FENCED_ON_INIT : FENCED).has(n));
  if (fenced !== undefined) {
    return new TransactionRefused(
      `fenced (${fenced}): another producer with transactional id "${transactionalId}" started (another psql-streamer instance with the same config?); ` +
        'this one stops so that only one writes',
      true, { cause: err },
    );
  }
  const refused = names.find((n) => REFUSED.has(n));
  if (refused !== undefined) return new TransactionRefused(`the brokers refuse transactional id "${transactionalId}" (${refused})`, false, { cause: err });
  return undefined;
}

export class TransactionalProducer {
  private identity: ProducerIdentity | undefined;
  /** A transaction failed: the next prepare() bumps the epoch (aborting it) and reads the position again. */
  private dirty = true;
  private readonly sequences = new Map<string, number>();
  private committedPosition: StreamPosition | undefined;
  private refused: TransactionRefused | undefined;
  /** The offset commits of the open transaction (begin()), awaited by commit(). */
  private staged: Promise<void> | undefined;
  private stagedPosition: StreamPosition | undefined;

  /**
   * @param positionTopic the topic whose partition 0 carries the position as committed offset metadata
   * @param source the source this producer writes for (in the position, for people reading it)
   */
  constructor(private readonly requests: TxnRequests, private readonly positionTopic: string, private readonly source: string) {}

  get transactionalId(): string {
    return this.requests.transactionalId;
  }

  /** The consumer group whose offset metadata holds the position (the transactional id). */
  get positionGroup(): string {
    return this.requests.transactionalId;
  }

  /** The stream position Kafka holds, as read by the last prepare() and moved by each commit. */
  get committed(): StreamPosition | undefined {
    return this.committedPosition;
  }

  /** Ready for a transaction: a producer id and epoch (new, or bumped after a failure) and the position Kafka holds. */
  async prepare(): Promise<void> {
    if (this.refused !== undefined) throw this.refused;
    if (!this.dirty) return;
    try {
      this.identity = await this.requests.initProducerId(this.identity);
    } catch (err) {
      this.refused = refusal(err, this.transactionalId, true);
      if (this.refused !== undefined) throw this.refused;
      throw err;
    }
    this.sequences.clear();
    const offsets = await this.requests.fetchOffsets(this.positionGroup, this.positionTopic, [0]);
    const metadata = offsets[0]?.metadata;
    this.committedPosition = metadata ? decodePosition(metadata) : undefined;
    this.dirty = false;
  }

  /** The producer fields of the next batch of `recordCount` records to a partition. */
  readonly stamp = (partitionKey: string, recordCount: number): ProducerStamp => {
    const identity = this.current();
    const baseSequence = this.sequences.get(partitionKey) ?? 0;
    this.sequences.set(partitionKey, (baseSequence + recordCount) % (MAX_SEQUENCE + 1));
    return { producerId: identity.producerId, producerEpoch: identity.producerEpoch, baseSequence, transactional: true };
  };

  /**
   * Opens the transaction on the coordinator with the partitions it writes, then stages the offsets
   * it commits: the position it completes (to the position group) and the relayed offsets (to their
   * groups). Returns once the partitions may be written; the offsets go on while the batches are
   * sent (they are independent until EndTxn) and commit() waits for them. Round trips per
   * transaction: AddPartitionsToTxn, then the produce requests beside AddOffsetsToTxn and
   * TxnOffsetCommit, then EndTxn. (AddPartitionsToTxn and AddOffsetsToTxn at once would save
   * nothing: the coordinator answers the second CONCURRENT_TRANSACTIONS until the first is logged.)
   */
  async begin(partitions: ReadonlyMap<string, ReadonlySet<number>>, position: StreamPosition | undefined, relayed: readonly GroupCommit[]): Promise<void> {
    const identity = this.current();
    await this.guard(async () => {
      if (partitions.size > 0) await this.requests.addPartitions(identity, partitions);
    });
    const commits = [...relayed];
    if (position !== undefined) {
      commits.unshift({
        group: this.positionGroup, generation: -1, member: '',
        offsets: [{ topic: this.positionTopic, partition: 0, offset: 0n, metadata: encodePosition(position, this.source) }],
      });
    }
    this.staged = (async () => {
      for (const commit of commits) await this.requests.addOffsets(identity, commit.group);
      await Promise.all(commits.map((c) => this.requests.commitOffsets(identity, c)));
    })();
    this.staged.catch(() => {}); // awaited by commit(); a failure before then is seen there or made moot by the abort
    this.stagedPosition = position;
  }

  /** Commits the transaction begun by begin(): its messages and offsets become visible together, or none of them. */
  async commit(): Promise<void> {
    const identity = this.current();
    const staged = this.staged;
    this.staged = undefined;
    await this.guard(async () => {
      await staged;
      await this.requests.endTxn(identity, true);
    });
    if (this.stagedPosition !== undefined) this.committedPosition = this.stagedPosition;
  }

  /**
   * The transaction failed somewhere: the next prepare() aborts it (new epoch) and reads the
   * position again. Returns why the producer can never write again, if it cannot: fenced or refused
   * earlier (prepare(), a coordinator request) or by `err` (a produce request's PRODUCER_FENCED).
   */
  failed(err: unknown): TransactionRefused | undefined {
    this.dirty = true;
    this.refused ??= refusal(err, this.transactionalId);
    return this.refused;
  }

  private current(): ProducerIdentity {
    if (this.identity === undefined || this.dirty) throw new Error('the transactional producer is not prepared');
    return this.identity;
  }

  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.dirty = true;
      this.refused = refusal(err, this.transactionalId);
      throw this.refused ?? err;
    }
  }
}
