/** The Kafka side of the benchmarks that write to a topic (bench/pg-kafka.ts, bench/snapshot.ts, bench/kafka-sink.ts, bench/tx-loop.ts). */
import { join } from 'node:path';
import { Admin, Consumer } from '@platformatic/kafka';
import type { SectionSpec } from '../../src/config/fields.ts';
import { kafkaSinkOptions, type KafkaSinkOptions } from '../../src/sinks/kafka/spec.ts';

/** Runs scripts/NAME (e.g. kafka/start) and returns the variables it printed as `export K='V'` lines. */
export async function runScript(name: string, scriptArgs: string[]): Promise<Record<string, string>> {
  const child = Bun.spawn([join(import.meta.dir, '..', '..', 'scripts', name), ...scriptArgs], { stdout: 'pipe', stderr: 'inherit' });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`scripts/${name} failed`);
  return Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

/** A Kafka sink's options with every key at its default (the caller sets hosts and topics). */
export function kafkaSinkDefaults(): KafkaSinkOptions {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(kafkaSinkOptions as SectionSpec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return defaults as KafkaSinkOptions;
}

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
