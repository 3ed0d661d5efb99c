/**
 * Benchmark of the Kafka source: N events in the original's format in a 4-partition topic, read by
 * a KafkaSource through the real Pipeline into a sink that discards, with offsets committed after
 * each batch. Prints events/s and CPU µs per event of this process while consuming (decoding,
 * pipeline, commits, the client), and the time to the first event (group join included).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 bun bench/kafka-source.ts [events]
 *   bun bench/kafka-source.ts [events]      # starts a private broker with scripts/kafka/start
 */
import { Admin, Producer } from '@platformatic/kafka';
import { join } from 'node:path';
import type { ChangeEvent } from '../src/event/event.ts';
import { Logger } from '../src/core/logger.ts';
import { createMetrics } from '../src/metrics/catalogue.ts';
import { encodePassthrough } from '../src/event/passthrough.ts';
import { KafkaSource } from '../src/sources/kafka/source.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';

const total = Number(process.argv[2] ?? 200_000);
const repo = join(import.meta.dir, '..');

async function script(name: string, args: string[]): Promise<Record<string, string>> {
  const child = Bun.spawn([join(repo, 'scripts', name), ...args], { stdout: 'pipe', stderr: 'inherit' });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`scripts/${name} failed`);
  return Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

const own = process.env.KAFKA_BROKERS ? undefined : await script('kafka/start', ['--private']);
const brokers = (process.env.KAFKA_BROKERS ?? own?.KAFKA_BROKERS ?? '').split(',');
/** BENCH_TOPIC: consume an existing topic (of `events` messages), e.g. to profile consumption alone. */
const existing = process.env.BENCH_TOPIC;
const topic = existing ?? `bench-source-${Date.now().toString(36)}`;

function event(i: number): string {
  const e: ChangeEvent = {
    source: 'db1', host: 'db1.example', database: 'shop', schema: '', table: 'orders', action: 'update',
    lsn: 23_861_144n + BigInt(i) * 120n, timestamp: '2024-05-06T07:08:09.123456789+02:00',
    uuid: `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}-9c0b-4ef8-bb6d-${i.toString(16).padStart(12, '0')}`,
    columns: { id: i + 1, customer_id: 9_000_000_000_000 + i, name: `customer ${i}`, amount: `${i % 1000}.50`, paid: i % 2 === 0, created_at: '2024-05-06T07:08:09.123456Z', note: i % 4 === 0 ? null : `note ${i}` },
  };
  return encodePassthrough(e);
}

try {
  if (existing === undefined) {
    const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
    await admin.createTopics({ topics: [topic], partitions: 4, replicas: 1 });
    await admin.close();
    const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, idempotent: true });
    const produceStarted = performance.now();
    for (let i = 0; i < total; i += 2000) {
      const messages = [];
      for (let j = i; j < Math.min(total, i + 2000); j++) messages.push({ topic, partition: j % 4, value: Buffer.from(event(j)) });
      await producer.send({ messages });
    }
    await producer.close();
    Bun.gc(true);
    console.log(`produced ${total} events to ${topic} in ${((performance.now() - produceStarted) / 1000).toFixed(1)} s`);
  }

  let delivered = 0;
  let firstAt = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const metrics = createMetrics();
  const source = new KafkaSource('bench', {
    connection: { clientId: 'bench', bootstrapBrokers: brokers }, topics: [topic], groupId: `bench-${Date.now().toString(36)}`,
    deadLetterTopic: undefined, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000,
    // A new group each run: it reads the topic from the start.
  }, Logger.for('Source-Kafka', 'bench'), metrics);
  const pipeline = new Pipeline({
    name: 'bench', source, log: Logger.for('Pipeline', 'bench'), metrics,
    batchSize: 1000, batchFlushIntervalMs: 20, sendRetryIntervalMs: 100, maxRetryIntervalMs: 1000,
    maxBufferedEvents: 10_000, maxBufferedBytes: 64 * 2 ** 20,
    sinks: [{
      name: 'discard',
      write: async (batch: readonly ChangeEvent[]) => {
        if (delivered === 0) firstAt = performance.now();
        delivered += batch.length;
        if (delivered >= total) done();
      },
    }],
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  await source.start(pipeline);
  await finished;
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const streaming = (performance.now() - firstAt) / 1000;
  console.log(`consumed ${delivered} events: ${wall.toFixed(2)} s in all (first event after ${((firstAt - started) / 1000).toFixed(2)} s), ` +
    `${Math.round(delivered / streaming)} events/s while streaming, ${((used.user + used.system) / delivered).toFixed(2)} µs CPU per event, ` +
    `peak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  await source.stop();
  await pipeline.drain();
  pipeline.close();
  await source.close();
} finally {
  if (own) await script('kafka/stop', ['--dir', own.PSQL_STREAMER_KAFKA_DIR as string]);
}
