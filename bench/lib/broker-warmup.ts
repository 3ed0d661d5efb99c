/**
 * Warms a freshly started Kafka broker before bench/pg-kafka.ts measures latency (its
 * --broker-warmup): writes of 50 events through a KafkaSink, at-least-once and then in exactly-once
 * transactions, to a scratch topic of 3 partitions, as the streamer writes them. A broker started
 * for the benchmark runs its produce and transaction paths (coordinator, markers, transaction log)
 * interpreted at first, and its JIT compilers share the 2 cores with everything measured: with
 * bench/kafka-sink.ts its CPU per transaction of 50 events fell from ≈ 14 ms (the first 600) to
 * ≈ 7.5 ms (the next 600) and ≈ 3–4 ms after that (docs/benchmarks.md). A broker in service is warm.
 */
import type { Admin } from '@platformatic/kafka';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics } from '../../src/metrics/catalogue.ts';
import { KafkaSink } from '../../src/sinks/kafka/sink.ts';
import { kafkaSinkOptions, type KafkaSinkOptions } from '../../src/sinks/kafka/spec.ts';
import { batchesOf, benchEvents, specDefaults } from './sink-events.ts';

const EVENTS_PER_WRITE = 50;

/** `writes` writes of each mode; resolves with the time it took. The scratch topics are deleted. */
export async function warmBroker(admin: Admin, brokers: string[], writes: number): Promise<number> {
  const started = performance.now();
  const topic = `bench-warmup-${Date.now().toString(36)}`;
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  // Each event a transaction of its own (commit LSN i, index 0), so each transaction commits a position too.
  const batches = batchesOf(benchEvents(writes * EVENTS_PER_WRITE).map((e) => ({ ...e, txIndex: 0 })), EVENTS_PER_WRITE);
  try {
    for (const exactlyOnce of [false, true]) {
      const options: KafkaSinkOptions = {
        ...(specDefaults(kafkaSinkOptions) as KafkaSinkOptions), hosts: brokers, handlers: ['passthrough'], topicFallback: topic,
        exactlyOnce, transactionalId: `${topic}-{source}`, positionTopic: `${topic}-positions`,
      };
      const sink = new KafkaSink('warmup', options, Logger.for('Sink-Kafka', 'warmup'), createMetrics());
      try {
        for (const batch of batches) await sink.write(batch);
      } finally {
        await sink.close();
      }
    }
  } finally {
    await admin.deleteTopics({ topics: [topic, `${topic}-positions`] }).catch(() => {});
  }
  return performance.now() - started;
}
