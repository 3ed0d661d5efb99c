/**
 * The Kafka source's per-partition gauges (src/metrics/catalogue.ts): assigned partitions,
 * consumer lag and committed offsets, set as the group assigns, the lag monitor measures and
 * commits succeed, and removed for partitions the source no longer owns.
 */
import type { Metrics } from '../../metrics/catalogue.ts';
import type { OffsetCommit } from './offsets.ts';

/** The number of partitions `source` owns now. */
export function setAssignedPartitions(metrics: Metrics, source: string, count: number): void {
  metrics.kafkaSourceAssignedPartitions.set({ sourceName: source }, count);
}

/** Removes the lag and committed offset series of `revoked` partitions (`topic:partition` keys). */
export function removePartitionSeries(metrics: Metrics, source: string, revoked: readonly string[]): void {
  for (const key of revoked) {
    const cut = key.lastIndexOf(':');
    const labels = { sourceName: source, topic: key.slice(0, cut), partition: key.slice(cut + 1) };
    metrics.kafkaSourceLag.remove(labels);
    metrics.kafkaSourceCommittedOffset.remove(labels);
  }
}

/** The consumer lag per topic and partition, as the lag monitor reports it (negative: unknown, removed). */
export function recordLag(metrics: Metrics, source: string, lag: Map<string, bigint[]>): void {
  for (const [topic, partitions] of lag) {
    partitions.forEach((value, partition) => {
      const labels = { sourceName: source, topic, partition: String(partition) };
      if (value >= 0n) metrics.kafkaSourceLag.set(labels, Number(value));
      else metrics.kafkaSourceLag.remove(labels);
    });
  }
}

/** The offsets just committed. */
export function recordCommitted(metrics: Metrics, source: string, commits: readonly OffsetCommit[]): void {
  for (const c of commits) {
    metrics.kafkaSourceCommittedOffset.set({ sourceName: source, topic: c.topic, partition: String(c.partition) }, Number(c.offset));
  }
}
