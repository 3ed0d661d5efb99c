/**
 * Helpers of the Kafka sink's integration tests: build a sink from config-like options, read a
 * topic back (every partition, from the start) with a throwaway consumer group.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Connection, Consumer } from '@platformatic/kafka';
import type { SectionSpec } from '../../src/config/fields.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import { createKafkaSink } from '../../src/sinks/kafka/sink.ts';
import { kafkaSinkOptions, type KafkaSinkOptions } from '../../src/sinks/kafka/spec.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { filterAbortedFetches } from '../../src/sources/kafka/read-committed.ts';
import { repoRoot, runScript } from './env.ts';
import { uniqueTopic } from './kafka.ts';


/** A message as read back from Kafka. */
export interface ReadMessage {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** The sink's resolved options: the config defaults, then `overrides`. */
export function sinkOptions(overrides: Partial<KafkaSinkOptions> & Pick<KafkaSinkOptions, 'hosts'>): KafkaSinkOptions {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(kafkaSinkOptions as SectionSpec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return { ...(defaults as KafkaSinkOptions), handlers: ['passthrough'], ...overrides };
}

export async function makeKafkaSink(
  name: string,
  overrides: Partial<KafkaSinkOptions> & Pick<KafkaSinkOptions, 'hosts'>,
  log = Logger.for('Sink-Kafka', name),
  metrics: Metrics = createMetrics(),
): Promise<Sink> {
  return createKafkaSink(name, sinkOptions(overrides), { log, metrics });
}

/**
 * Reads `topic` from the beginning until `count` messages arrived (or `timeoutMs` passed, then
 * returns what it has), sorted by partition and offset.
 */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 20_000): Promise<ReadMessage[]> {
  const consumer = new Consumer({
    groupId: uniqueTopic('reader'), clientId: 'test-reader', bootstrapBrokers: brokers, maxWaitTime: 100, autocommit: false,
  });
  // read_committed, with the client's aborted-transaction filter fixed as the Kafka source fixes it.
  filterAbortedFetches(consumer);
  const out: ReadMessage[] = [];
  // A consumer can see a message twice (a fetch repeated around the group's first rebalance): keep one.
  const seen = new Set<string>();
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        const position = `${m.partition}/${m.offset}`;
        if (seen.has(position)) continue;
        seen.add(position);
        const headers: Record<string, string> = {};
        for (const [k, v] of m.headers) headers[k.toString()] = v.toString();
        out.push({
          topic: m.topic, partition: m.partition, offset: m.offset, timestamp: m.timestamp,
          key: m.key?.length || m.key ? m.key?.toString() : undefined,
          value: m.value === null || m.value === undefined ? undefined : m.value.toString(),
          headers,
        });
        if (out.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
}

/** Total messages in a topic (sum of end offsets; the topics here are never compacted or truncated). */
export async function topicSize(brokers: string[], topic: string): Promise<number> {
  const consumer = new Consumer({ groupId: uniqueTopic('size'), clientId: 'test-size', bootstrapBrokers: brokers });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    return (offsets.get(topic) ?? []).reduce((sum, o) => sum + Number(o), 0);
  } finally {
    await consumer.close(true).catch(() => {});
  }
}

/** Creates a topic with topic-level configs (e.g. max.message.bytes) and waits for its partition leaders. */
export async function createTopicWithConfigs(admin: Admin, topic: string, partitions: number, configs: Record<string, string>): Promise<void> {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    const described = metadata?.topics.get(topic);
    if (described !== undefined && described.partitionsCount === partitions && described.partitions.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 30 s`);
    await Bun.sleep(50);
  }
}

/** Sets topic-level configs of an existing topic. */
export async function setTopicConfigs(admin: Admin, topic: string, configs: Record<string, string>): Promise<void> {
  await admin.incrementalAlterConfigs({
    resources: [{
      resourceType: 2, // TOPIC
      resourceName: topic,
      configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })), // SET
    }],
  });
}

/**
 * Partitions the Java client (kafka-clients, BuiltInPartitioner.partitionForKey: the default
 * partitioner's murmur2) gives these keys, computed by a JVM from the broker's own jars.
 */
export async function javaPartitions(keys: readonly string[], partitions: number): Promise<number[]> {
  const fetch = Bun.spawn([`${repoRoot}/scripts/kafka/fetch`], { stdout: 'pipe', stderr: 'pipe' });
  const libs = (await new Response(fetch.stdout).text()).trim();
  if ((await fetch.exited) !== 0) throw new Error('scripts/kafka/fetch failed');
  const dir = mkdtempSync(join(tmpdir(), 'java-partitions-'));
  try {
    const source = join(dir, 'Partitions.java');
    writeFileSync(source, `
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import java.util.HexFormat;
public class Partitions {
  public static void main(String[] args) {
    int n = Integer.parseInt(args[0]);
    for (int i = 1; i < args.length; i++) System.out.println(BuiltInPartitioner.partitionForKey(HexFormat.of().parseHex(args[i]), n));
  }
}
`);
    const args = keys.map((k) => Buffer.from(k).toString('hex'));
    const java = Bun.spawn(['java', '-cp', `${libs}/*`, source, String(partitions), ...args], { stdout: 'pipe', stderr: 'pipe' });
    const out = await new Response(java.stdout).text();
    const err = await new Response(java.stderr).text();
    if ((await java.exited) !== 0) throw new Error(`java failed: ${err}`);
    return out.trim().split('\n').map(Number);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type SendFn = Connection['send'];

/**
 * Runs `body` and returns the `acks` field of every Produce request any client wrote to a broker
 * meanwhile, read from the request bytes (Connection.send is wrapped for the duration).
 */
export async function captureProduceAcks(body: () => Promise<void>): Promise<number[]> {
  const original = Connection.prototype.send;
  const acks: number[] = [];
  const record = (writer: { buffer: Buffer }, apiVersion: number) => acks.push(readProduceAcks(writer.buffer, apiVersion));
  type Payload = ReturnType<Parameters<SendFn>[2]>;
  const patched = function (this: Connection, ...args: Parameters<SendFn>) {
    const [apiKey, apiVersion, createPayload] = args;
    if (apiKey === 0) {
      args[2] = (): Payload => {
        const payload = createPayload();
        if (payload instanceof Promise) return payload.then((w) => (record(w, apiVersion), w));
        record(payload, apiVersion);
        return payload;
      };
    }
    return (original as (...a: Parameters<SendFn>) => void).apply(this, args);
  };
  Connection.prototype.send = patched as SendFn;
  try {
    await body();
  } finally {
    Connection.prototype.send = original;
  }
  return acks;
}

/** `acks` of a Produce request body: after transactional_id (compact string from v9, int16-length before). */
function readProduceAcks(body: Buffer, apiVersion: number): number {
  let offset = 0;
  if (apiVersion >= 9) {
    let length = 0;
    let shift = 0;
    for (;;) {
      const byte = body[offset++]!;
      length |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7;
    }
    offset += Math.max(0, length - 1);
  } else {
    const length = body.readInt16BE(offset);
    offset += 2 + Math.max(0, length);
  }
  return body.readInt16BE(offset);
}

/**
 * A private broker (scripts/kafka/start --private) that a test can stop and start again on the same
 * port and data, e.g. to cut Kafka away mid-stream. `stop()` is SIGTERM to the JVM (a clean broker
 * shutdown); `start()` runs the same `kafka.Kafka server.properties` command as scripts/kafka/start.
 * `destroy()` removes it with scripts/kafka/stop.
 */
export class RestartableBroker {
  private constructor(readonly dir: string, readonly brokers: string[], private readonly libs: string) {}

  static async create(): Promise<RestartableBroker> {
    const vars = await runScript('kafka/start', ['--private']);
    const fetch = Bun.spawn([`${repoRoot}/scripts/kafka/fetch`], { stdout: 'pipe', stderr: 'ignore' });
    const libs = (await new Response(fetch.stdout).text()).trim();
    await fetch.exited;
    return new RestartableBroker(vars.PSQL_STREAMER_KAFKA_DIR!, [vars.KAFKA_BROKERS!], libs);
  }

  private get pid(): number {
    return Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
  }

  /** A line of server.properties. */
  property(name: string): string | undefined {
    const line = readFileSync(join(this.dir, 'server.properties'), 'utf8').split('\n').find((l) => l.startsWith(`${name}=`));
    return line?.slice(name.length + 1);
  }

  /** Changes (or adds) a line of server.properties; takes effect at the next start. */
  setProperty(name: string, value: string): void {
    const file = join(this.dir, 'server.properties');
    const lines = readFileSync(file, 'utf8').split('\n').filter((line) => !line.startsWith(`${name}=`));
    writeFileSync(file, [...lines, `${name}=${value}`, ''].join('\n'));
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 30_000;
    while (processAlive(pid)) {
      if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
      await Bun.sleep(50);
    }
  }

  async start(): Promise<void> {
    const java = [
      'setsid', 'java', '-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${join(this.dir, 'logs')}`, `-Dlog4j2.configurationFile=${join(this.dir, 'log4j2.properties')}`,
      '-cp', `${this.libs}/*`, 'kafka.Kafka', join(this.dir, 'server.properties'),
    ];
    const out = Bun.file(join(this.dir, 'stdout.log'));
    const child = Bun.spawn(java, { stdin: 'ignore', stdout: out, stderr: out });
    child.unref();
    writeFileSync(join(this.dir, 'pid'), `${child.pid}\n`);
    const admin = new Admin({ clientId: 'restart-probe', bootstrapBrokers: this.brokers, retries: 0 });
    try {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const ok = await admin.metadata({ topics: [] }).then(() => true, () => false);
        if (ok) return;
        if (!processAlive(child.pid)) throw new Error(`the broker exited while starting; see ${this.dir}/stdout.log`);
        if (Date.now() > deadline) throw new Error('the broker did not answer within 90 s');
        await Bun.sleep(100);
      }
    } finally {
      await admin.close().catch(() => {});
    }
  }

  async destroy(): Promise<void> {
    await runScript('kafka/stop', ['--dir', this.dir]);
  }
}

/** Alive and not a zombie (scripts/lib/common.sh process_alive reads /proc the same way). */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}
