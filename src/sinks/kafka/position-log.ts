/**
 * The exactly-once sink's position topic on the brokers (docs/kafka.md, "Exactly once"): reading
 * back the latest committed position record of some producers, and creating the topic compacted.
 * Sent with @platformatic/kafka's request functions over a client's connections (ListOffsets,
 * Fetch, CreateTopics, DescribeConfigs), not its consumer or admin classes, which the sink does
 * not load. What a record means and which one counts: position-records.ts.
 *
 * Reading: ListOffsets gives the partition's log start, its high watermark and its last stable
 * offset (read_committed: below every open transaction), asked again until it reaches that high
 * watermark (another source's transaction open there ends); then windows of offsets are fetched (read_committed) backwards
 * from there, each one forward until its end, until every producer's record is found or the log
 * start is reached. The producers of a source take turns, so their last records are usually among
 * the last few offsets: one small Fetch.
 */
import type { Connection, Producer } from '@platformatic/kafka';
import {
  createTopicsV4, createTopicsV5, createTopicsV6, createTopicsV7,
  describeConfigsV1, describeConfigsV2, describeConfigsV3, describeConfigsV4,
  fetchV11, fetchV12,
  listOffsetsV5, listOffsetsV6, listOffsetsV7, listOffsetsV8, listOffsetsV9,
} from '../../kafka/library/protocol.ts';
import { commonVersionOf } from './api-version.ts';
import { errorNames } from './outcome.ts';
import { latestPositionRecords, type FoundPosition, type PositionBatch } from './position-records.ts';

type Client = Pick<Producer<Buffer, Buffer, Buffer, Buffer>, 'listApis' | 'connections' | 'metadata'>;

interface Api<A extends unknown[], R> {
  async(connection: Connection, ...args: A): Promise<R>;
}

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
/** Polls of the last stable offset, ≈ 200 ms apart once past the first few: over a minute, longer than the brokers' default transaction timeout. */
const STABLE_TRIES = 320;
const LATEST = -1n;
const EARLIEST = -2n;
const TOPIC_RESOURCE = 2;
/** The first window of offsets read back from the end; each next one is 4 times larger. */
const FIRST_WINDOW = 64n;
const FETCH_MAX_BYTES = 1024 * 1024;

const LIST_OFFSETS = { key: 2, versions: { 5: listOffsetsV5.api, 6: listOffsetsV6.api, 7: listOffsetsV7.api, 8: listOffsetsV8.api, 9: listOffsetsV9.api } };
// Fetch 13 and later name topics by id: 11 and 12 by name.
const FETCH = { key: 1, versions: { 11: fetchV11.api, 12: fetchV12.api } };
const CREATE_TOPICS = { key: 19, versions: { 4: createTopicsV4.api, 5: createTopicsV5.api, 6: createTopicsV6.api, 7: createTopicsV7.api } };
const DESCRIBE_CONFIGS = { key: 32, versions: { 1: describeConfigsV1.api, 2: describeConfigsV2.api, 3: describeConfigsV3.api, 4: describeConfigsV4.api } };

/** The request function of the highest version of `api` both sides speak. */
async function request<F>(client: Client, api: { key: number; versions: Readonly<Record<number, F>> }, what: string): Promise<F> {
  return api.versions[commonVersionOf(await client.listApis(), api, what)] as F;
}

/** A connection to the cluster's controller (when `controller` and the brokers name one), else to any broker. */
export async function brokerConnection(client: Client, controller = false): Promise<Connection> {
  const cluster = await client.metadata({ topics: [] });
  const broker = (controller ? cluster.brokers.get(cluster.controllerId) : undefined) ?? [...cluster.brokers.values()][0];
  if (broker === undefined) throw new Error('the Kafka cluster lists no brokers');
  return client.connections.get(broker);
}

/** The connection to the leader of partition 0 of `topic`. */
async function leaderOf(client: Client, topic: string): Promise<Connection> {
  const metadata = await client.metadata({ topics: [topic], autocreateTopics: false });
  const leader = metadata.topics.get(topic)?.partitions[0]?.leader ?? -1;
  const broker = metadata.brokers.get(leader);
  if (broker === undefined) throw Object.assign(new Error(`no leader known for partition 0 of topic "${topic}"`), { code: 'LEADER_NOT_AVAILABLE' });
  return client.connections.get(broker);
}

/**
 * The latest committed position record of each of `ids` in partition 0 of `topic` (read_committed);
 * ids with none are left out (all of them when the topic does not exist). Call after
 * InitProducerId, which ends the producer's open transaction: its record is then committed (and
 * found) or aborted (and skipped).
 */
export async function readPositionRecords(
  client: Client, topic: string, ids: readonly string[], sleep: (ms: number) => Promise<void> = (ms) => Bun.sleep(ms),
): Promise<Map<string, FoundPosition>> {
  const listOffsets = await request(client, LIST_OFFSETS, 'ListOffsets') as Api<[number, number, unknown[]], { topics: { partitions: { offset: bigint }[] }[] }>;
  const fetch = await request(client, FETCH, 'Fetch') as Api<unknown[], { responses: { partitions: FetchedPartition[] }[] }>;
  let connection: Connection;
  try {
    connection = await leaderOf(client, topic);
  } catch (err) {
    if (isUnknownTopic(err)) return new Map(); // not created yet (a relay's producers are prepared before its first batch): no records
    throw err;
  }
  const offset = async (timestamp: bigint, isolation: number) => {
    const answer = await listOffsets.async(connection, -1, isolation, [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }]);
    const value = answer.topics[0]?.partitions[0]?.offset;
    if (value === undefined) throw new Error(`ListOffsets: no answer for partition 0 of topic "${topic}"`);
    return value;
  };
  const [start, high] = await Promise.all([offset(EARLIEST, READ_COMMITTED), offset(LATEST, READ_UNCOMMITTED)]);
  // Other producers' transactions (other sources sharing the topic) may be open below the high
  // watermark, and the last stable offset stops before the first of them: records of `ids` after
  // it would not be seen. Every transaction open now ends soon (or the brokers abort it after its
  // timeout): wait until the last stable offset passes the high watermark of now.
  let stable = await offset(LATEST, READ_COMMITTED);
  for (let attempt = 0; stable < high; attempt++) {
    if (attempt >= STABLE_TRIES) throw new Error(`the position topic "${topic}" has a transaction open below offset ${high} for too long (last stable offset ${stable})`);
    await sleep(Math.min(5 * 2 ** attempt, 200));
    stable = await offset(LATEST, READ_COMMITTED);
  }
  const wanted = new Set(ids);
  const found = new Map<string, FoundPosition>();
  let end = stable;
  let window = FIRST_WINDOW;
  while (wanted.size > 0 && end > start) {
    const from = end - window > start ? end - window : start;
    const batches: PositionBatch[] = [];
    const aborted: { producerId: bigint; firstOffset: bigint }[] = [];
    for (let next = from; next < end;) {
      const answer = await fetch.async(connection, 0, 1, FETCH_MAX_BYTES, READ_COMMITTED, 0, -1, [
        { topicId: topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: FETCH_MAX_BYTES }] },
      ], [], '');
      const partition = answer.responses[0]?.partitions[0];
      const got = (partition?.records ?? []) as PositionBatch[];
      if (got.length === 0) break; // nothing more below the last stable offset
      batches.push(...got);
      aborted.push(...(partition?.abortedTransactions ?? []));
      const last = got[got.length - 1] as PositionBatch;
      next = last.firstOffset + BigInt(last.lastOffsetDelta) + 1n;
    }
    for (const [id, position] of latestPositionRecords(batches, aborted, wanted, end)) {
      found.set(id, position);
      wanted.delete(id);
    }
    end = from;
    window *= 4n;
  }
  return found;
}

interface FetchedPartition {
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  records?: unknown[] | null;
}

/** Whether `err` says the topic does not exist (the brokers' error, or the library's metadata error for it). */
export function isUnknownTopic(err: unknown): boolean {
  return errorNames(err).includes('UNKNOWN_TOPIC_OR_PARTITION') || (err instanceof Error && /^Unknown topic /.test(err.message));
}

/** What ensurePositionTopic() found or did. */
export interface PositionTopicState {
  /** Created now (1 partition, cleanup.policy=compact). */
  readonly created: boolean;
  /** Its cleanup.policy, or why it could not be read. */
  readonly cleanupPolicy: { known: true; value: string } | { known: false; why: string };
}

/**
 * Creates `topic` when the brokers do not have it: 1 partition, cleanup.policy=compact, the brokers'
 * default replication (an instance racing to create it too is fine). Then reads its cleanup.policy.
 */
export async function ensurePositionTopic(client: Client, topic: string, timeoutMs: number): Promise<PositionTopicState> {
  // Not created by the metadata request: the brokers' auto-creation would not make it compacted.
  const metadata = await client.metadata({ topics: [topic], autocreateTopics: false }).catch((err: unknown) => {
    if (isUnknownTopic(err)) return undefined;
    throw err;
  });
  let created = false;
  if (metadata?.topics.get(topic) === undefined) {
    const create = await request(client, CREATE_TOPICS, 'CreateTopics') as Api<unknown[], unknown>;
    const connection = await brokerConnection(client, true);
    try {
      await create.async(connection, [
        { name: topic, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
      ], timeoutMs, false);
      created = true;
    } catch (err) {
      if (!errorNames(err).includes('TOPIC_ALREADY_EXISTS')) throw err;
    }
  }
  return { created, cleanupPolicy: await cleanupPolicyOf(client, topic) };
}

/** The topic's cleanup.policy (DescribeConfigs, to any broker), or why it is not known. */
async function cleanupPolicyOf(client: Client, topic: string): Promise<PositionTopicState['cleanupPolicy']> {
  try {
    const describe = await request(client, DESCRIBE_CONFIGS, 'DescribeConfigs') as Api<unknown[], { results: { configs: { name: string; value: string | null }[] }[] }>;
    const answer = await describe.async(await brokerConnection(client), [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: ['cleanup.policy'] }]);
    const value = answer.results[0]?.configs.find((c) => c.name === 'cleanup.policy')?.value;
    if (value === undefined || value === null) return { known: false, why: 'the brokers did not report it' };
    return { known: true, value };
  } catch (err) {
    return { known: false, why: `DescribeConfigs failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
