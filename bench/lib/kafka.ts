/** The Kafka side of the benchmarks that write to a topic (bench/pg-kafka.ts, bench/snapshot.ts). */
import { Admin, Consumer } from '@platformatic/kafka';

/** Creates a topic of `partitions` partitions (with topic-level configs) and waits until each has a leader. */
export async function createBenchTopic(admin: Admin, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) });
  for (let i = 0; i < 600; i++) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    const t = metadata?.topics.get(topic);
    if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return;
    await Bun.sleep(50);
  }
  throw new Error(`topic ${topic} has no leaders`);
}

/** Messages in a topic (sum of its partitions' end offsets). */
export async function benchTopicSize(brokers: string[], topic: string): Promise<number> {
  const consumer = new Consumer({ groupId: `bench-size-${Date.now()}`, clientId: 'bench-size', bootstrapBrokers: brokers });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    return (offsets.get(topic) ?? []).reduce((sum, o) => sum + Number(o), 0);
  } finally {
    await consumer.close(true);
  }
}
