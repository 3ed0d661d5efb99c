/**
 * Helpers of the Kafka source's integration tests: messages in the original psql-streamer's format,
 * producing them, the group's committed offsets, a source built from config-like options, and an
 * output that records what the source pushes.
 */
import { Producer, type Admin } from '@platformatic/kafka';
import type { ChangeEvent } from '../../src/event/event.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import { encodePassthrough } from '../../src/event/passthrough.ts';
import type { KafkaPosition } from '../../src/sources/kafka/offsets.ts';
import type { KafkaSourceSettings } from '../../src/sources/kafka/consumer.ts';
import { KafkaSource } from '../../src/sources/kafka/source.ts';
import type { PipelineItem, SourceOutput } from '../../src/sources/source.ts';
import { uniqueTopic } from './kafka.ts';

/**
 * Event `i` exactly as the original psql-streamer (Go) wrote it: the eight original keys only,
 * sorted columns, Go escaping, an int8 beyond 2^53, a numeric as text.
 */
export function originalEventJson(i: number, table = 'orders'): string {
  const event: ChangeEvent = {
    source: 'db1',
    host: 'db1.example',
    database: 'shop',
    schema: '',
    table,
    action: (['insert', 'update', 'delete'] as const)[i % 3] as ChangeEvent['action'],
    lsn: 23861144n + BigInt(i) * 100n,
    timestamp: `2020-03-07T20:40:31.${String(100000 + i).padStart(9, '0')}+01:00`,
    uuid: `0b9f1f5e-8c1a-4c36-9d2e-${i.toString(16).padStart(12, '0')}`,
    columns: { id: i, amount: `${i}.50`, big: 9223372036854775000n + BigInt(i), note: i % 2 ? null : `<b>row ${i}</b> & "more"`, paid: i % 2 === 0 },
  };
  return encodePassthrough(event);
}

/** The UUID of event `i` (see originalEventJson). */
export function uuidOf(json: string): string {
  return (JSON.parse(json) as { UUID: string }).UUID;
}

export interface OutMessage {
  partition?: number;
  key?: string;
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

/** Produces messages to `topic` (acks=all), in order per partition. */
export async function produce(brokers: string[], topic: string, messages: readonly OutMessage[]): Promise<void> {
  const producer = new Producer({ clientId: 'test-producer', bootstrapBrokers: brokers, acks: -1, idempotent: true, autocreateTopics: true });
  try {
    await producer.send({
      messages: messages.map((m) => ({
        topic,
        ...(m.partition === undefined ? {} : { partition: m.partition }),
        ...(m.key === undefined ? {} : { key: Buffer.from(m.key) }),
        ...(m.value === null ? {} : { value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value }),
        ...(m.headers === undefined ? {} : { headers: new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) }),
      })),
    });
  } finally {
    await producer.close().catch(() => {});
  }
}

/** Committed offsets of `group`: `topic:partition` → next offset to read (absent: never committed). */
export async function committedOffsets(admin: Admin, group: string): Promise<Record<string, number>> {
  const [result] = await admin.listConsumerGroupOffsets({ groups: [group] });
  const out: Record<string, number> = {};
  for (const topic of result?.topics ?? []) {
    for (const p of topic.partitions) if (p.committedOffset >= 0n) out[`${topic.name}:${p.partitionIndex}`] = Number(p.committedOffset);
  }
  return out;
}

/** Members of `group` as the coordinator sees them. */
export async function groupMembers(admin: Admin, group: string): Promise<number> {
  const groups = await admin.describeGroups({ groups: [group] });
  return groups.get(group)?.members.size ?? 0;
}

export function sourceSettings(brokers: string[], topics: string[], overrides: Partial<KafkaSourceSettings> = {}): KafkaSourceSettings {
  return {
    connection: { clientId: 'test-source', bootstrapBrokers: brokers },
    topics,
    groupId: uniqueTopic('group'),
    deadLetterTopic: undefined,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    ...overrides,
  };
}

export function makeSource(name: string, settings: KafkaSourceSettings, metrics: Metrics = createMetrics()): KafkaSource {
  return new KafkaSource(name, settings, Logger.for('Source-Kafka', name), metrics);
}

/** Records pushes; `room` decides what push() answers; `release()` resolves drained(). */
export class RecordingOutput implements SourceOutput<KafkaPosition> {
  readonly items: PipelineItem<KafkaPosition>[] = [];
  room: (count: number) => boolean = () => true;
  private waiters: (() => void)[] = [];

  push(item: PipelineItem<KafkaPosition>): boolean {
    this.items.push(item);
    return this.room(this.items.length);
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.room = () => true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  get positions(): KafkaPosition[] {
    return this.items.map((item) => item.position as KafkaPosition);
  }

  /** `partition@offset` of each item, `!` marking bare positions (malformed messages). */
  trail(): string[] {
    return this.items.map((i) => `${i.position?.partition}@${i.position?.offset}${i.event ? '' : '!'}`);
  }
}
