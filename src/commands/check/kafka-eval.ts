/**
 * Kafka checks of `check --live` (pure): which topics a sink or source needs, and whether each
 * exists in the brokers' metadata, or will be created by the brokers on first use
 * (`auto.create.topics.enable`). docs/operations.md, "Readiness: check --live", explains them.
 */
import { transactionalIdOf, type KafkaSinkOptions } from '../../sinks/kafka/spec.ts';
import type { KafkaSourceOptions } from '../../sources/kafka/spec.ts';
import { decodePosition, describePosition, latestPosition, type StreamPosition } from '../../sinks/kafka/stream-position.ts';
import { cleanupPolicyProblem, compactCommand } from '../../sinks/kafka/position-records.ts';
import { fail, ok, warn, type CheckResult } from './result.ts';

/** A topic the component needs, and what it is for (e.g. `tables users, orders`, `topicFallback`). */
export interface NeededTopic {
  topic: string;
  role: string;
}

export function sinkTopics(o: KafkaSinkOptions): NeededTopic[] {
  const byTopic = new Map<string, string[]>();
  for (const [table, topic] of Object.entries(o.tableTopicMapping)) byTopic.set(topic, [...(byTopic.get(topic) ?? []), table]);
  const needed: NeededTopic[] = [...byTopic].map(([topic, tables]) => ({ topic, role: `tableTopicMapping ${tables.join(', ')}` }));
  if (o.topicFallback !== '') needed.push({ topic: o.topicFallback, role: 'topicFallback' });
  if (o.deadLetterTopic !== undefined) needed.push({ topic: o.deadLetterTopic, role: 'deadLetterTopic' });
  if (o.exactlyOnce) needed.push({ topic: o.positionTopic, role: 'positionTopic (exactlyOnce)' });
  return needed;
}

/** InitProducerId: version 3 lets a producer bump its own epoch after a failed transaction (KIP-360). */
const INIT_PRODUCER_ID = 22;

/** Whether the brokers can run an exactly-once sink's transactions, from their ApiVersions. */
export function checkTransactions(apis: ReadonlyArray<{ apiKey: number; maxVersion: number }>): CheckResult {
  const init = apis.find((a) => a.apiKey === INIT_PRODUCER_ID);
  if (init === undefined || init.maxVersion < 3) {
    return fail('transactions', `the brokers speak InitProducerId up to version ${init?.maxVersion ?? 'none'}; exactlyOnce needs 3 or later`,
      'upgrade the brokers to Kafka 2.5 or later, or set exactlyOnce = false');
  }
  return ok('transactions', `the brokers speak InitProducerId v${init.maxVersion}: exactlyOnce can run`);
}

/** The transactional id of each source an exactly-once sink writes for (its `{sink}`/`{source}` filled in, as the sink does). */
export function transactionalIds(sinkName: string, o: Pick<KafkaSinkOptions, 'transactionalId'>, sources: readonly string[]): { source: string; id: string }[] {
  return sources.map((source) => ({ source, id: transactionalIdOf(o.transactionalId, sinkName, source) }));
}

/**
 * What an exactly-once sink has delivered per source: the latest of the positions committed in
 * Kafka by the source's producers, which take turns: their position records (`records`, keyed by
 * each producer's transactional id, read_committed) and the offset metadata of the groups of the
 * same names that versions before position records committed (`stored`, require_stable). Nothing
 * yet is OK (a new sink); metadata that is not a position is a WARN (the group is used by
 * something else).
 */
export function checkStoredPosition(
  source: string, id: string, stored: ReadonlyArray<{ group: string; metadata: string | null | undefined }>, records: readonly StreamPosition[] = [],
): CheckResult {
  const positions: StreamPosition[] = [...records];
  for (const { group, metadata } of stored) {
    if (metadata === undefined || metadata === null || metadata === '') continue;
    try {
      positions.push(decodePosition(metadata));
    } catch (err) {
      return warn('position', `transactional id "${group}": ${err instanceof Error ? err.message : String(err)}`,
        `group "${group}" holds offsets of something else; give the sink another transactionalId, or delete that group if nothing uses it`, source);
    }
  }
  const position = latestPosition(positions, undefined);
  if (position === undefined) return ok('position', `transactional id "${id}": no position in Kafka yet (nothing delivered exactly once)`, source);
  return ok('position', `transactional id "${id}": delivered up to ${describePosition(position)}${position.stream === undefined ? '' : ` of stream ${position.stream}`}`, source);
}

/**
 * The position topic of an exactly-once sink must be compacted (cleanup.policy includes compact):
 * time retention would delete a producer's last position record, and a restart would then write
 * again what Kafka has. `policy` undefined: the topic does not exist yet (the sink creates it compacted).
 */
export function checkPositionCompaction(topic: string, policy: { known: true; value: string | undefined } | { known: false; why: string }): CheckResult {
  if (!policy.known) return warn('compaction', `cannot read its cleanup.policy (${policy.why}); it must be compact`, `${compactCommand(topic)} (or grant DescribeConfigs on it)`, topic);
  if (policy.value === undefined) return ok('compaction', 'positionTopic: missing; the sink creates it with cleanup.policy=compact', topic);
  const problem = cleanupPolicyProblem(topic, policy.value);
  if (problem !== undefined) return warn('compaction', problem, compactCommand(topic), topic);
  return ok('compaction', `positionTopic: cleanup.policy=${policy.value}`, topic);
}

export function sourceTopics(o: KafkaSourceOptions): NeededTopic[] {
  const needed = o.topics.map((topic) => ({ topic, role: 'topics' }));
  if (o.deadLetterTopic !== undefined) needed.push({ topic: o.deadLetterTopic, role: 'deadLetterTopic' });
  return needed;
}

/** What the brokers said about auto-creation: the setting's value, or why it is not known. */
export type AutoCreate = { known: true; enabled: boolean } | { known: false; why: string };

export function checkBrokers(clusterId: string, brokerCount: number, hosts: readonly string[]): CheckResult {
  return ok('brokers', `${brokerCount} broker(s) of cluster ${clusterId} answered metadata via ${hosts.join(', ')}`);
}

/** One result per needed topic. `partitions`: partition count of each topic the brokers know. */
export function checkTopics(needed: readonly NeededTopic[], partitions: ReadonlyMap<string, number>, autoCreate: AutoCreate): CheckResult[] {
  return needed.map(({ topic, role }) => {
    const count = partitions.get(topic);
    if (count !== undefined) return ok('topic', `exists, ${count} partition(s) (${role})`, topic);
    const missing = `not in the brokers' metadata (${role}): missing, or not visible to this principal`;
    if (autoCreate.known && autoCreate.enabled) {
      return ok('topic', `${missing}; auto.create.topics.enable = true, so the first write creates it with the brokers' defaults`, topic);
    }
    const setting = autoCreate.known ? 'auto.create.topics.enable = false' : `auto-creation unknown (${autoCreate.why})`;
    return warn('topic', `${missing}; ${setting}: writes to it fail`,
      `kafka-topics.sh --create --topic ${topic} --partitions N --replication-factor N (or grant Describe on it)`, topic);
  });
}

/** Reads `auto.create.topics.enable` from a DescribeConfigs answer for a broker. */
export function autoCreateFrom(configs: readonly { name: string; value?: string | null }[]): AutoCreate {
  const entry = configs.find((c) => c.name === 'auto.create.topics.enable');
  if (!entry || entry.value === null || entry.value === undefined) return { known: false, why: 'the broker did not report auto.create.topics.enable' };
  return { known: true, enabled: entry.value === 'true' };
}
