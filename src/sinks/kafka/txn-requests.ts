/**
 * The coordinator requests of a transactional producer (docs/kafka.md, "Exactly once"), sent with
 * @platformatic/kafka's request functions over its connections: FindCoordinator, InitProducerId,
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn and OffsetFetch; and the read of its
 * position record (position-log.ts). The record batches themselves go through our own produce path
 * (transport.ts). Each request uses the highest version
 * both sides speak, except AddPartitionsToTxn (versions 4 and later are for brokers, clients send 3)
 * and, when the brokers allow transaction protocol 2 (protocol()), TxnOffsetCommit v5 and EndTxn v5
 * (txn-v2.ts, which has their encodings).
 *
 * A coordinator that moved or is loading (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
 * COORDINATOR_LOAD_IN_PROGRESS) and a transaction still being completed (CONCURRENT_TRANSACTIONS,
 * UNSTABLE_OFFSET_COMMIT) are asked again here, a few times, after a short wait; anything else is
 * the caller's to handle.
 */
import {
  addOffsetsToTxnV0, addOffsetsToTxnV1, addOffsetsToTxnV2, addOffsetsToTxnV3, addOffsetsToTxnV4,
  addPartitionsToTxnV0, addPartitionsToTxnV1, addPartitionsToTxnV2, addPartitionsToTxnV3,
  endTxnV0, endTxnV1, endTxnV2, endTxnV3, endTxnV4,
  findCoordinatorV0, findCoordinatorV1, findCoordinatorV2, findCoordinatorV3, findCoordinatorV4, findCoordinatorV5, findCoordinatorV6,
  initProducerIdV0, initProducerIdV1, initProducerIdV2, initProducerIdV3, initProducerIdV4, initProducerIdV5,
  offsetFetchV7, offsetFetchV8, offsetFetchV9,
  txnOffsetCommitV0, txnOffsetCommitV1, txnOffsetCommitV2, txnOffsetCommitV3, txnOffsetCommitV4,
  apiVersionsV3,
} from '../../kafka/library/protocol.ts';
import type { Connection, Producer } from '@platformatic/kafka';
import { commonVersionOf } from './api-version.ts';
import { endTxnV5, transactionProtocol, txnOffsetCommitV5 } from './txn-v2.ts';
import { errorNames } from './outcome.ts';
import { brokerConnection, readPositionRecords } from './position-log.ts';
import type { FoundPosition } from './position-records.ts';

type Client = Pick<Producer<Buffer, Buffer, Buffer, Buffer>, 'listApis' | 'connections' | 'metadata'>;

/** A request function of the library: `api.async(connection, ...args)`. */
interface Api<A extends unknown[], R> {
  async(connection: Connection, ...args: A): Promise<R>;
}

/** The library's request functions of one API, by version. */
type Versions<A extends unknown[], R> = Readonly<Record<number, Api<A, R>>>;

/** Request functions by version, from the library's modules of versions 0, 1, 2, ... */
function versions<A extends unknown[], R>(...modules: Array<{ api: Api<A, R> }>): Versions<A, R> {
  return Object.fromEntries(modules.map((m, v) => [v, m.api]));
}

const API = {
  findCoordinator: { key: 10, versions: versions(findCoordinatorV0, findCoordinatorV1, findCoordinatorV2, findCoordinatorV3, findCoordinatorV4, findCoordinatorV5, findCoordinatorV6) },
  initProducerId: { key: 22, versions: versions(initProducerIdV0, initProducerIdV1, initProducerIdV2, initProducerIdV3, initProducerIdV4, initProducerIdV5) },
  addPartitionsToTxn: { key: 24, versions: versions(addPartitionsToTxnV0, addPartitionsToTxnV1, addPartitionsToTxnV2, addPartitionsToTxnV3) },
  addOffsetsToTxn: { key: 25, versions: versions(addOffsetsToTxnV0, addOffsetsToTxnV1, addOffsetsToTxnV2, addOffsetsToTxnV3, addOffsetsToTxnV4) },
  endTxn: { key: 26, versions: versions(endTxnV0, endTxnV1, endTxnV2, endTxnV3, endTxnV4) },
  txnOffsetCommit: { key: 28, versions: versions(txnOffsetCommitV0, txnOffsetCommitV1, txnOffsetCommitV2, txnOffsetCommitV3, txnOffsetCommitV4) },
  // require_stable (wait for pending transactional offsets) needs version 7.
  offsetFetch: { key: 9, versions: { 7: offsetFetchV7.api, 8: offsetFetchV8.api, 9: offsetFetchV9.api } as Versions<OffsetFetchArgs, OffsetFetchResponse> },
} as const;

type OffsetFetchArgs = Parameters<typeof offsetFetchV9.api.async> extends [Connection, ...infer A] ? A : never;
type OffsetFetchResponse = Awaited<ReturnType<typeof offsetFetchV9.api.async>>;

const COORDINATOR_KEY_GROUP = 0;
const COORDINATOR_KEY_TRANSACTION = 1;

/** Errors that mean "ask the coordinator again, maybe another one". */
const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);
/** Errors that mean "ask again in a moment". */
const TRY_AGAIN = new Set(['COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS', 'UNSTABLE_OFFSET_COMMIT']);
const TRIES = 23;
/** A commit's markers take a few ms to be written; until then the next transaction's first request gets CONCURRENT_TRANSACTIONS. */
const TRY_AGAIN_MS = [1, 2, 4, 8, 16, 32, 64, 100, 200, 500];

/** A producer id and epoch from InitProducerId. */
export interface ProducerIdentity {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** One committed offset as OffsetFetch returns it. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly metadata: string | null;
}

/** The offsets a transaction commits for a consumer group, and the group member committing them. */
export interface GroupCommit {
  readonly group: string;
  readonly generation: number;
  readonly member: string;
  readonly offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint; metadata: string | null }>;
}

/** The coordinator requests of one transactional id. */
export class TxnRequests {
  private readonly coordinators = new Map<string, Promise<Connection>>();
  private readonly chosen = new Map<number, Promise<number>>();
  private chosenProtocol: Promise<1 | 2> | undefined;

  constructor(
    private readonly client: Client,
    readonly transactionalId: string,
    readonly transactionTimeoutMs: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => Bun.sleep(ms),
  ) {}

  /**
   * A producer id and epoch for the transactional id: fences every earlier producer of it, and
   * completes (commits or aborts) the transaction it left open. Given the current identity, asks for
   * the epoch to be bumped instead (after a failed transaction): PRODUCER_FENCED then says another
   * instance took over.
   */
  initProducerId(current?: ProducerIdentity): Promise<ProducerIdentity> {
    return this.toTransactionCoordinator(API.initProducerId, async (api, connection) => {
      const response = await api.async(connection, this.transactionalId, this.transactionTimeoutMs, current?.producerId ?? -1n, current?.producerEpoch ?? -1);
      return { producerId: response.producerId, producerEpoch: response.producerEpoch };
    });
  }

  addPartitions(producer: ProducerIdentity, topics: ReadonlyMap<string, ReadonlySet<number>>): Promise<void> {
    const list = [...topics].map(([name, partitions]) => ({ name, partitions: [...partitions] }));
    return this.toTransactionCoordinator(API.addPartitionsToTxn, async (api, connection) => {
      await api.async(connection, [{ transactionalId: this.transactionalId, ...producer, verifyOnly: false, topics: list }]);
    });
  }

  addOffsets(producer: ProducerIdentity, group: string): Promise<void> {
    return this.toTransactionCoordinator(API.addOffsetsToTxn, async (api, connection) => {
      await api.async(connection, this.transactionalId, producer.producerId, producer.producerEpoch, group);
    });
  }

  /** Commits offsets of a group as part of the open transaction (after addOffsets for that group). */
  commitOffsets(producer: ProducerIdentity, commit: GroupCommit): Promise<void> {
    const topics = new Map<string, Array<{ partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }>>();
    for (const o of commit.offsets) {
      const list = topics.get(o.topic) ?? [];
      list.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: o.metadata });
      topics.set(o.topic, list);
    }
    const body = [...topics].map(([name, partitions]) => ({ name, partitions }));
    const request = this.protocol().then((v) => (v === 2 ? txnOffsetCommitV5 : this.request(API.txnOffsetCommit)));
    return this.toCoordinator(COORDINATOR_KEY_GROUP, commit.group, request, async (api, connection) => {
      await api.async(connection, this.transactionalId, commit.group, producer.producerId, producer.producerEpoch, commit.generation, commit.member, null, body);
    });
  }

  /**
   * Commits (or aborts) the open transaction. With transaction protocol 2, resolves with the
   * producer id and epoch of the next transaction (EndTxn v5); with 1, with `producer` itself.
   */
  async endTxn(producer: ProducerIdentity, commit: boolean): Promise<ProducerIdentity> {
    if ((await this.protocol()) === 2) {
      return this.toCoordinator(COORDINATOR_KEY_TRANSACTION, this.transactionalId, Promise.resolve(endTxnV5), async (api, connection) => {
        const response = await api.async(connection, this.transactionalId, producer.producerId, producer.producerEpoch, commit);
        return { producerId: response.producerId, producerEpoch: response.producerEpoch };
      });
    }
    await this.toTransactionCoordinator(API.endTxn, async (api, connection) => {
      await api.async(connection, this.transactionalId, producer.producerId, producer.producerEpoch, commit);
    });
    return producer;
  }

  /**
   * The transaction protocol the brokers allow (txn-v2.ts's transactionProtocol()), asked once and
   * again after forget(): 2 adds the partitions with the produce requests and offset commits, 1
   * with AddPartitionsToTxn and AddOffsetsToTxn.
   */
  protocol(): Promise<1 | 2> {
    if (this.chosenProtocol === undefined) {
      const chosen = this.askProtocol();
      chosen.catch(() => {
        if (this.chosenProtocol === chosen) this.chosenProtocol = undefined;
      });
      this.chosenProtocol = chosen;
    }
    return this.chosenProtocol;
  }

  /** Asks again which transaction protocol the brokers allow (an upgrade or downgrade of the cluster's transaction.version) before the next transaction. */
  forgetProtocol(): void {
    this.chosenProtocol = undefined;
  }

  private async askProtocol(): Promise<1 | 2> {
    const apis = await this.client.listApis();
    const connection = await this.coordinator(COORDINATOR_KEY_TRANSACTION, this.transactionalId);
    const answer = await apiVersionsV3.api.async(connection, 'psql-streamer', '1');
    return transactionProtocol(apis, answer.finalizedFeatures ?? []);
  }

  /** The latest committed position records of `ids` (this producer's alone by default) in partition 0 of `topic` (position-log.ts), by transactional id. */
  positionRecords(topic: string, ids: readonly string[] = [this.transactionalId]): Promise<Map<string, FoundPosition>> {
    return readPositionRecords(this.client, topic, ids, this.sleep);
  }

  /** The offsets `group` has committed for `topic`, waiting for transactions still completing (require_stable). */
  fetchOffsets(group: string, topic: string, partitions: readonly number[]): Promise<CommittedOffset[]> {
    return this.toCoordinator(COORDINATOR_KEY_GROUP, group, this.request(API.offsetFetch), async (api, connection) => {
      const response = await api.async(connection, [{ groupId: group, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [...partitions] }] }], true);
      return response.groups.flatMap((g) => g.topics.flatMap((t) => t.partitions
        .filter((p) => p.committedOffset >= 0n)
        .map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata ?? null }))));
    });
  }

  private toTransactionCoordinator<A extends unknown[], R, T>(api: { key: number; versions: Versions<A, R> }, call: (api: Api<A, R>, connection: Connection) => Promise<T>): Promise<T> {
    return this.toCoordinator(COORDINATOR_KEY_TRANSACTION, this.transactionalId, this.request(api), call);
  }

  /** The request function of the highest version of `api` both sides speak. */
  private async request<A extends unknown[], R>(api: { key: number; versions: Versions<A, R> }): Promise<Api<A, R>> {
    return api.versions[await this.version(api)] as Api<A, R>;
  }

  /** The connection to the coordinator of `key`, found once (and again after forgetting it). */
  private coordinator(keyType: number, key: string): Promise<Connection> {
    const cacheKey = `${keyType}:${key}`;
    let connection = this.coordinators.get(cacheKey);
    if (connection === undefined) {
      connection = this.findCoordinator(keyType, key);
      this.coordinators.set(cacheKey, connection);
    }
    return connection;
  }

  /** Sends a request to the coordinator of `key`, finding it (again) and retrying as the opening comment says. */
  private async toCoordinator<A extends unknown[], R, T>(
    keyType: number, key: string, requestFunction: Promise<Api<A, R>>, call: (api: Api<A, R>, connection: Connection) => Promise<T>,
  ): Promise<T> {
    const request = await requestFunction;
    for (let attempt = 1; ; attempt++) {
      const cacheKey = `${keyType}:${key}`;
      try {
        return await call(request, await this.coordinator(keyType, key));
      } catch (err) {
        const names = errorNames(err);
        const moved = names.some((n) => COORDINATOR_MOVED.has(n)) || names.includes('PLT_KFK_NETWORK');
        if (moved) this.coordinators.delete(cacheKey);
        if (attempt >= TRIES || !(moved || names.some((n) => TRY_AGAIN.has(n)))) throw err;
        await this.sleep(TRY_AGAIN_MS[Math.min(attempt - 1, TRY_AGAIN_MS.length - 1)] as number);
      }
    }
  }

  private async findCoordinator(keyType: number, key: string): Promise<Connection> {
    const api = API.findCoordinator.versions[await this.version(API.findCoordinator)] as (typeof API.findCoordinator.versions)[number];
    const response = await api.async(await brokerConnection(this.client), keyType, [key]);
    const coordinator = response.coordinators[0];
    if (coordinator === undefined) throw new Error(`no coordinator for ${JSON.stringify(key)}`);
    return this.client.connections.get({ host: coordinator.host, port: coordinator.port });
  }

  /** The highest version of `api` both sides speak, asked once. */
  private version(api: { key: number; versions: Readonly<Record<number, unknown>> }): Promise<number> {
    let chosen = this.chosen.get(api.key);
    if (chosen === undefined) {
      chosen = this.client.listApis().then((apis) => commonVersionOf(apis, api, `Kafka API ${api.key}`));
      chosen.catch(() => this.chosen.delete(api.key));
      this.chosen.set(api.key, chosen);
    }
    return chosen;
  }
}
