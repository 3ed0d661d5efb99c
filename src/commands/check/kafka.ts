/**
 * `check --live` for a Kafka sink or source: the I/O. A short-lived admin client with the
 * component's own brokers, TLS and SASL settings asks for metadata (brokers reachable, cluster id),
 * the topic list, the partitions of the needed topics and, when one is missing, the brokers'
 * `auto.create.topics.enable`. No retries and short deadlines: an unreachable broker is a FAIL
 * within seconds. Verdicts come from kafka-eval.ts.
 */
import { Admin, ConfigResourceTypes } from '../../kafka/library/admin.ts';
import { describeError } from '../../core/errors.ts';
import { withDeadline } from '../../core/deadline.ts';
import type { KafkaClientOptions } from '../../kafka/client-spec.ts';
import { describeKafkaError, kafkaConnectionOptions } from '../../kafka/client-options.ts';
import { turnIds } from '../../sinks/kafka/txn-turns.ts';
import { isUnknownTopic, readPositionRecords } from '../../sinks/kafka/position-log.ts';
import type { StreamPosition } from '../../sinks/kafka/stream-position.ts';
import {
  autoCreateFrom, checkBrokers, checkPositionCompaction, checkStoredPosition, checkTopics, checkTransactions, type AutoCreate, type NeededTopic,
} from './kafka-eval.ts';
import { fail, warn, type CheckGroup, type CheckResult } from './result.ts';

/** Caps of the check's own timeouts (the component's `timeout` when shorter). */
const MAX_CONNECT_MS = 3000;
const MAX_REQUEST_MS = 3000;

/** An exactly-once sink's stored positions to report: its position topic and each source's transactional id. */
export interface StoredPositions {
  topic: string;
  ids: ReadonlyArray<{ source: string; id: string }>;
}

export async function checkKafka(
  group: CheckGroup, o: KafkaClientOptions & { timeout?: number; exactlyOnce?: boolean }, needed: readonly NeededTopic[], positions?: StoredPositions,
): Promise<CheckGroup> {
  group.target = o.hosts.join(',');
  const connectMs = Math.min(o.timeout ?? MAX_CONNECT_MS, MAX_CONNECT_MS);
  const requestMs = Math.min(2 * (o.timeout ?? MAX_REQUEST_MS), MAX_REQUEST_MS);
  let admin: Admin;
  try {
    admin = new Admin({ ...kafkaConnectionOptions(o, { connectTimeoutMs: connectMs, requestTimeoutMs: requestMs }), retries: 0 });
  } catch (err) {
    group.results.push(fail('brokers', describeError(err), 'fix the TLS/SASL keys of this section'));
    return group;
  }
  const deadlineMs = connectMs + requestMs + 1000;
  const call = <T>(what: string, promise: Promise<T>) =>
    withDeadline(promise, deadlineMs, () => new Error(`${what}: no answer within ${deadlineMs} ms`));
  try {
    group.results.push(...(await inspect(admin, o, needed, call)));
    if (positions !== undefined && !group.results.some((r) => r.check === 'brokers' && r.verdict === 'FAIL')) {
      group.results.push(await readCompaction(admin, positions.topic, call));
      if (positions.ids.length > 0) group.results.push(...(await readPositions(admin, positions, call)));
    }
  } finally {
    await call('close', admin.close()).catch(() => {});
  }
  return group;
}

type Call = <T>(what: string, promise: Promise<T>) => Promise<T>;

async function inspect(admin: Admin, o: KafkaClientOptions & { exactlyOnce?: boolean }, needed: readonly NeededTopic[], call: Call): Promise<CheckResult[]> {
  let clusterId: string;
  let brokerIds: number[];
  let names: Set<string>;
  try {
    const metadata = await call('metadata', admin.metadata({ topics: [] }));
    clusterId = metadata.id;
    brokerIds = [...metadata.brokers.keys()];
    names = new Set(await call('list topics', admin.listTopics({ includeInternals: true })));
  } catch (err) {
    return [fail('brokers', `no metadata from ${o.hosts.join(', ')}: ${describeKafkaError(err)}`,
      'check hosts, that the brokers listen there (advertised.listeners), and the tls/sasl keys')];
  }
  const results = [checkBrokers(clusterId, brokerIds.length, o.hosts)];
  if (o.exactlyOnce) {
    try {
      results.push(checkTransactions(await call('api versions', admin.listApis())));
    } catch (err) {
      results.push(fail('transactions', `ApiVersions failed: ${describeKafkaError(err)}`, 'check the brokers'));
    }
  }
  const partitions = new Map<string, number>();
  const present = [...new Set(needed.map((n) => n.topic).filter((topic) => names.has(topic)))];
  if (present.length > 0) {
    try {
      const metadata = await call('topic metadata', admin.metadata({ topics: present }));
      for (const [topic, facts] of metadata.topics) partitions.set(topic, facts.partitionsCount);
    } catch (err) {
      return [...results, fail('topics', `topic metadata failed: ${describeKafkaError(err)}`, 'check the principal\'s Describe ACL on the topics')];
    }
  }
  const missing = needed.some((n) => !partitions.has(n.topic));
  const autoCreate = missing ? await readAutoCreate(admin, brokerIds, call) : { known: false as const, why: 'not asked' };
  return [...results, ...checkTopics(needed, partitions, autoCreate)];
}

async function readPositions(admin: Admin, positions: StoredPositions, call: Call): Promise<CheckResult[]> {
  try {
    // Each source's producers take turns, each with its own record key and, in versions before
    // position records, its own group (docs/kafka.md, "Exactly once").
    const ids = positions.ids.flatMap(({ id }) => turnIds(id));
    const [groups, records] = await Promise.all([
      call('offset fetch', admin.listConsumerGroupOffsets({
        groups: ids.map((groupId) => ({ groupId, topics: [{ name: positions.topic, partitionIndexes: [0] }] })),
        requireStable: true,
      })),
      call('position records', readPositionRecords(admin as unknown as Parameters<typeof readPositionRecords>[0], positions.topic, ids))
        .catch((err: unknown) => (isUnknownTopic(err) ? new Map() : Promise.reject(err))),
    ]);
    return positions.ids.map(({ source, id }) => checkStoredPosition(source, id, turnIds(id).map((group) => {
      const partition = groups.find((g) => g.groupId === group)?.topics.find((t) => t.name === positions.topic)?.partitions.find((p) => p.partitionIndex === 0);
      return { group, metadata: partition !== undefined && partition.committedOffset >= 0n ? partition.metadata : null };
    }), turnIds(id).map((key) => records.get(key)?.position).filter((p): p is StreamPosition => p !== undefined)));
  } catch (err) {
    return [warn('position', `reading the stored positions failed: ${describeKafkaError(err)}`,
      'check the principal\'s Read ACL on positionTopic and Describe/Read on the groups named by transactionalId')];
  }
}

/** Whether the position topic is compacted (DescribeConfigs of the topic). */
async function readCompaction(admin: Admin, topic: string, call: Call): Promise<CheckResult> {
  try {
    const described = await call('describe configs', admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['cleanup.policy'] }],
    }));
    const value = described.flatMap((d) => d.configs).find((c) => c.name === 'cleanup.policy')?.value;
    return checkPositionCompaction(topic, value === undefined || value === null ? { known: false, why: 'the brokers did not report it' } : { known: true, value });
  } catch (err) {
    if (isUnknownTopic(err)) return checkPositionCompaction(topic, { known: true, value: undefined });
    return checkPositionCompaction(topic, { known: false, why: `DescribeConfigs refused: ${describeKafkaError(err)}` });
  }
}

async function readAutoCreate(admin: Admin, brokerIds: readonly number[], call: Call): Promise<AutoCreate> {
  const broker = brokerIds[0];
  if (broker === undefined) return { known: false, why: 'no broker in the metadata' };
  try {
    const described = await call('describe configs', admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: String(broker), configurationKeys: ['auto.create.topics.enable'] }],
    }));
    return autoCreateFrom(described.flatMap((d) => d.configs));
  } catch (err) {
    return { known: false, why: `DescribeConfigs refused: ${describeKafkaError(err)}` };
  }
}
