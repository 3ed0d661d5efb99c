/**
 * One source's transactional producer in an exactly-once Kafka sink (docs/kafka.md, "Exactly
 * once"): its producer id and epoch, the sequence number of each partition, and the stream position
 * Kafka holds for it.
 *
 * A batch's transaction: prepare() (the first time, and after any failure: InitProducerId, which
 * fences older instances and completes the transaction a crashed one left open, then the committed
 * position is read back: its latest position record, read_committed, position-log.ts, and the
 * offset metadata of its group that versions before position records committed, require_stable;
 * and the transaction protocol chosen, txn-v2.ts) → open() while the other producer's transaction
 * runs (protocol 1 only; txn-turns.ts) → begin() (what open() did not add) → record batches
 * stamped by stamp(), the first produce request carrying the position record (positionBatch()) →
 * commit() (TxnOffsetCommit of relayed offsets, if any; EndTxn; with protocol 2 the next
 * transaction's epoch). After a failure, failed() makes the next prepare() ask for a new epoch
 * with the current one (KIP-360): the open transaction is aborted and the sequences start again at 0. If another instance took the
 * transactional id meanwhile, the brokers refuse and the producer is fenced for good (txn-errors.ts).
 */
import { encodeRecordBatch, type ProducerStamp } from '../../kafka/protocol/record-batch.ts';
import { partitionKey } from './message.ts';
import { positionRecord, type FoundPosition } from './position-records.ts';
import { decodePosition, type StreamPosition } from './stream-position.ts';
import type { PartitionBatch } from './transport.ts';
import type { GroupCommit, ProducerIdentity, TxnRequests } from './txn-requests.ts';
import { refusal, type TransactionRefused } from './txn-errors.ts';

/** A position read shared by producers initialising together (txn-turns.ts JointPositionRead). */
export interface JointRead {
  /** This producer has its new epoch: the records, read once every sharer has its own (or failed). */
  ready(): Promise<Map<string, FoundPosition>>;
  /** This producer's initialisation failed: the read does not wait for it. */
  failed(): void;
}

const MAX_SEQUENCE = 2 ** 31 - 1;

/** Longest an early-opened transaction waits for its batch before it is ended empty (well within transactionTimeout). */
const MAX_OPEN_IDLE_MS = 5_000;

/** The partitions (`partitionKey`s) and consumer groups an open transaction has on the coordinator, and whether open() opened it. */
interface Added {
  readonly partitions: Set<string>;
  readonly groups: Set<string>;
  early: boolean;
}

/** No transaction open: nothing added. */
const nothingAdded = (): Added => ({ partitions: new Set(), groups: new Set(), early: false });

/**
 * A position Kafka holds for this producer: from its latest committed position record, or from
 * its group's offset metadata (committed by versions before position records; docs/kafka.md,
 * "Exactly once").
 */
export interface HeldPosition {
  readonly position: StreamPosition;
  readonly from: 'record' | 'group';
  /** The record's offset in the position topic (from = 'record', when read back). */
  readonly offset?: bigint;
  /** The producer's transactional id (= the group's name). */
  readonly id: string;
}

export class TransactionalProducer {
  private identity: ProducerIdentity | undefined;
  /** A transaction failed: the next prepare() bumps the epoch (aborting it) and reads the position again. */
  private dirty = true;
  private readonly sequences = new Map<string, number>();
  private heldPositions: HeldPosition[] = [];
  private refused: TransactionRefused | undefined;
  /** The offset commits of the open transaction (begin()), awaited by commit(). */
  private staged: Promise<void> | undefined;
  private stagedPosition: StreamPosition | undefined;
  /** The position record of the open transaction until the first produce request takes it (positionBatch()). */
  private unsentPosition: StreamPosition | undefined;
  /** The last transaction wrote a position record: open() adds the position topic's partition early. */
  private writesPositions = false;
  /** Protocol 2: the relayed offsets, committed after the produce requests (begin()). */
  private stagedCommits: GroupCommit[] = [];
  private version: 1 | 2 = 1;
  /** What the open transaction has on the coordinator. */
  private added: Added = nothingAdded();
  /** open() or the end of an idle early transaction, in flight or done; never rejects. */
  private opening: Promise<void> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** prepare() in flight. */
  private preparing: Promise<void> | undefined;

  /**
   * @param positionTopic the topic whose partition 0 holds the position records (and, of earlier versions, the group offsets)
   * @param source the source this producer writes for (in the position, for people reading it)
   */
  constructor(private readonly requests: TxnRequests, private readonly positionTopic: string, private readonly source: string) {}

  get transactionalId(): string {
    return this.requests.transactionalId;
  }

  /** The consumer group whose offset metadata held the position in versions before position records (the transactional id). */
  get positionGroup(): string {
    return this.requests.transactionalId;
  }

  /**
   * The positions Kafka holds for this producer, as read by the last prepare() (its record and its
   * group's, either may be missing) and replaced by each commit's.
   */
  get held(): readonly HeldPosition[] {
    return this.heldPositions;
  }

  /** Initialised and not failed since: prepare() has nothing to do. */
  get ready(): boolean {
    return !this.dirty && this.refused === undefined;
  }

  /** The transaction protocol of this producer's transactions (txn-v2.ts), known once prepared. */
  get protocol(): 1 | 2 {
    return this.version;
  }

  /**
   * Ready for a transaction: a producer id and epoch (new, or bumped after a failure) and the
   * position Kafka holds. One at a time: a second caller (ExactlyOnceDelivery.prepareFor beside a
   * batch) waits for the first's InitProducerId instead of bumping the epoch again.
   */
  prepare(joint?: JointRead): Promise<void> {
    if (this.refused !== undefined) return Promise.reject(this.refused);
    if (!this.dirty) return Promise.resolve();
    this.preparing ??= this.initialise(joint).finally(() => {
      this.preparing = undefined;
    });
    return this.preparing;
  }

  /** Needs a prepare() that nobody has started yet (one that may share a position read, txn-turns.ts). */
  get unprepared(): boolean {
    return this.refused === undefined && this.dirty && this.preparing === undefined;
  }

  /** The latest committed position records of `ids` in the position topic (one read for several producers). */
  positionRecordsOf(ids: readonly string[]): Promise<Map<string, FoundPosition>> {
    return this.requests.positionRecords(this.positionTopic, ids);
  }

  /** A new epoch (aborting whatever transaction the id had open), then the positions Kafka holds: from `joint` when given (read once every producer sharing it has its epoch), else read alone. */
  private async initialise(joint: JointRead | undefined): Promise<void> {
    try {
      await this.settleOpening();
      this.added = nothingAdded();
      // After a failure, ask again: the cluster's transaction.version may have changed meanwhile.
      this.requests.forgetProtocol();
      this.identity = await this.requests.initProducerId(this.identity);
    } catch (err) {
      joint?.failed();
      this.refused = refusal(err, this.transactionalId, true);
      if (this.refused !== undefined) throw this.refused;
      throw err;
    }
    this.sequences.clear();
    const [records, offsets] = await Promise.all([
      joint === undefined ? this.requests.positionRecords(this.positionTopic) : joint.ready(),
      this.requests.fetchOffsets(this.positionGroup, this.positionTopic, [0]),
    ]);
    const held: HeldPosition[] = [];
    const record = records.get(this.transactionalId);
    if (record?.position !== undefined) held.push({ position: record.position, from: 'record', offset: record.offset, id: this.transactionalId });
    const metadata = offsets[0]?.metadata;
    if (metadata) held.push({ position: decodePosition(metadata), from: 'group', id: this.transactionalId });
    this.heldPositions = held;
    this.version = await this.requests.protocol();
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
   * The record batch of the open transaction's position record (position-records.ts) for the
   * first produce request of the transaction, stamped like the messages' batches; undefined
   * when the transaction has no position or a request took it already.
   */
  positionBatch(timestampMs: number): PartitionBatch | undefined {
    const position = this.unsentPosition;
    if (position === undefined) return undefined;
    this.unsentPosition = undefined;
    const key = partitionKey(this.positionTopic, 0);
    const batch = encodeRecordBatch([positionRecord(this.transactionalId, position, this.source)], timestampMs, this.stamp(key, 1));
    return { topic: this.positionTopic, partition: 0, partitionKey: key, batch, neverCreate: true };
  }

  /**
   * Protocol 1: opens this producer's next transaction early, while the other producer's runs
   * (txn-turns.ts), so that its batch finds the coordinator's part done: adds `partitions` (the
   * other batch's: the next one usually writes the same) and, when its last transaction wrote a
   * position record, the position topic's partition (one AddPartitionsToTxn). Nothing of it is
   * visible, and nothing changes if the transaction ends empty: if no batch comes within
   * MAX_OPEN_IDLE_MS it is committed as it is, long before the brokers' transactionTimeout would
   * abort it. A failure only makes the next prepare() start afresh.
   *
   * Protocol 2 opens nothing early: the produce requests add their partitions themselves.
   */
  open(partitions: ReadonlyMap<string, ReadonlySet<number>>): void {
    if (this.version === 2 || this.dirty || this.refused !== undefined || this.opening !== undefined || this.added.early) return;
    const adding = this.withPosition(partitions, this.writesPositions);
    if (adding.size === 0) return;
    const identity = this.current();
    this.opening = (async () => {
      try {
        await this.requests.addPartitions(identity, adding);
        for (const [topic, list] of adding) for (const partition of list) this.added.partitions.add(partitionKey(topic, partition));
        this.added.early = true;
        this.idleTimer = setTimeout(() => this.endIdle(), Math.min(MAX_OPEN_IDLE_MS, this.requests.transactionTimeoutMs / 4));
        (this.idleTimer as { unref?: () => void }).unref?.();
      } catch (err) {
        this.failed(err);
      }
    })();
  }

  /**
   * Opens the transaction with the partitions it writes (those open() did not add: the messages'
   * and, with a position, the position topic's partition 0), holds the position record for the
   * first produce request (positionBatch()) and stages the relayed offsets (to their groups).
   *
   * Protocol 1: AddPartitionsToTxn now; returns once the partitions may be written; relayed
   * offsets go on while the batches are sent (AddOffsetsToTxn, TxnOffsetCommit; independent until
   * EndTxn) and commit() waits for them. (AddPartitionsToTxn and AddOffsetsToTxn at once would
   * save nothing: the coordinator answers the second CONCURRENT_TRANSACTIONS until the first is
   * logged.)
   *
   * Protocol 2: nothing to send first: the produce requests add their partitions; relayed offsets
   * go after them (commit()), not beside: a produce request that meets the coordinator busy adding
   * another partition is retried by the brokers only after add.partitions.to.txn.retry.backoff.ms
   * (20 ms).
   *
   * Round trips of a PostgreSQL source's transaction, either protocol (after an early open() with
   * 1): the produce requests, then EndTxn. A relay's adds TxnOffsetCommit (protocol 1 beside the
   * produce requests, 2 after them).
   */
  async begin(partitions: ReadonlyMap<string, ReadonlySet<number>>, position: StreamPosition | undefined, relayed: readonly GroupCommit[]): Promise<void> {
    await this.settleOpening();
    const identity = this.current();
    const added = this.added;
    const commits = [...relayed];
    this.stagedPosition = position;
    this.unsentPosition = position;
    this.writesPositions = position !== undefined;
    this.staged = undefined;
    this.stagedCommits = [];
    if (this.version === 2) {
      this.stagedCommits = commits;
      return;
    }
    const missing = new Map<string, Set<number>>();
    for (const [topic, list] of this.withPosition(partitions, position !== undefined)) {
      for (const partition of list) {
        if (added.partitions.has(partitionKey(topic, partition))) continue;
        let set = missing.get(topic);
        if (set === undefined) missing.set(topic, (set = new Set()));
        set.add(partition);
      }
    }
    await this.guard(async () => {
      if (missing.size > 0) await this.requests.addPartitions(identity, missing);
    });
    this.stage((async () => {
      for (const commit of commits) if (!added.groups.has(commit.group)) await this.requests.addOffsets(identity, commit.group);
      await Promise.all(commits.map((c) => this.requests.commitOffsets(identity, c)));
    })());
  }

  /**
   * Commits the transaction begun by begin(): its messages, position record and offsets become
   * visible together, or none of them. Protocol 2: EndTxn v5 answers with the epoch of the next
   * transaction, whose sequence numbers start again at 0. `timed` is told when the offset commits
   * and EndTxn ended.
   */
  async commit(timed?: (stage: 'offsets' | 'end', started: number) => void): Promise<void> {
    const identity = this.current();
    const staged = this.staged;
    const commits = this.stagedCommits;
    this.staged = undefined;
    this.stagedCommits = [];
    await this.guard(async () => {
      // Without its position record the transaction must not commit: a restart would write its events again.
      if (this.unsentPosition !== undefined) throw new Error(`no produce request of the transaction of "${this.transactionalId}" carried its position record`);
      let started = performance.now();
      await staged;
      if (commits.length > 0) await Promise.all(commits.map((c) => this.requests.commitOffsets(identity, c)));
      timed?.('offsets', started);
      started = performance.now();
      await this.end(identity);
      timed?.('end', started);
    });
    if (this.stagedPosition !== undefined) this.heldPositions = [{ position: this.stagedPosition, from: 'record', id: this.transactionalId }];
  }

  /**
   * The transaction failed somewhere: the next prepare() aborts it (new epoch) and reads the
   * position again. Returns why the producer can never write again, if it cannot: fenced or refused
   * earlier (prepare(), a coordinator request) or by `err` (a produce request's PRODUCER_FENCED).
   */
  failed(err: unknown): TransactionRefused | undefined {
    this.dirty = true;
    clearTimeout(this.idleTimer);
    this.refused ??= refusal(err, this.transactionalId);
    return this.refused;
  }

  /** Ends a transaction opened early (open()) that no batch used, so nothing is left open for the brokers to time out or a reader to wait for. */
  async close(): Promise<void> {
    await this.settleOpening();
    await this.endUnused();
  }

  /** EndTxn (commit) of the open transaction; protocol 2 moves to the epoch it answers with. */
  private async end(identity: ProducerIdentity): Promise<void> {
    const next = await this.requests.endTxn(identity, true);
    this.added = nothingAdded();
    if (next.producerId !== identity.producerId || next.producerEpoch !== identity.producerEpoch) {
      this.identity = next;
      this.sequences.clear();
    }
  }

  /** An early-opened transaction no batch came for: committed empty before the brokers' timeout would abort it. */
  private endIdle(): void {
    const before = this.opening;
    this.opening = (async () => {
      await before;
      await this.endUnused();
    })();
  }

  /** Commits the early-opened transaction, if one is open, empty; a failure only makes the next prepare() start afresh. */
  private async endUnused(): Promise<void> {
    if (this.dirty || !this.added.early) return;
    try {
      await this.end(this.current());
    } catch (err) {
      this.failed(err);
    }
  }

  /** Waits for open() or endIdle() to finish; the transaction is then the caller's. */
  private async settleOpening(): Promise<void> {
    clearTimeout(this.idleTimer);
    const opening = this.opening;
    if (opening === undefined) return;
    await opening;
    if (this.opening === opening) this.opening = undefined;
  }

  private stage(commits: Promise<unknown>): void {
    this.staged = commits.then(() => {});
    this.staged.catch(() => {}); // awaited by commit(); a failure before then is seen there or made moot by the abort
  }

  /** `partitions`, plus the position topic's partition 0 when `position`. */
  private withPosition(partitions: ReadonlyMap<string, ReadonlySet<number>>, position: boolean): ReadonlyMap<string, ReadonlySet<number>> {
    if (!position) return partitions;
    const all = new Map(partitions);
    all.set(this.positionTopic, new Set([...(partitions.get(this.positionTopic) ?? []), 0]));
    return all;
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
