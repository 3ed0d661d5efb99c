/**
 * Helpers of the Kafka sink's integration tests: build a sink from config-like options, read a
 * topic back (every partition, from the start) with a throwaway consumer group.
 */
import { Consumer } from '@platformatic/kafka';
import type { SectionSpec } from '../../../src/config/fields.ts';
import { Logger } from '../../../src/core/logger.ts';
import { createKafkaSink } from '../../../src/kafka/sink.ts';
import { kafkaSinkOptions, type KafkaSinkOptions } from '../../../src/kafka/sink-spec.ts';
import type { Sink } from '../../../src/sinks/sink.ts';
import { uniqueTopic } from '../../helpers/kafka.ts';

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

export async function makeKafkaSink(name: string, overrides: Partial<KafkaSinkOptions> & Pick<KafkaSinkOptions, 'hosts'>, log = Logger.for('Sink-Kafka', name)): Promise<Sink> {
  return createKafkaSink(name, sinkOptions(overrides), { log });
}

/**
 * Reads `topic` from the beginning until `count` messages arrived (or `timeoutMs` passed, then
 * returns what it has), sorted by partition and offset.
 */
export async function readTopic(brokers: string[], topic: string, count: number, timeoutMs = 20_000): Promise<ReadMessage[]> {
  const consumer = new Consumer({
    groupId: uniqueTopic('reader'), clientId: 'test-reader', bootstrapBrokers: brokers, maxWaitTime: 100, autocommit: false,
  });
  const out: ReadMessage[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 100 });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
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
