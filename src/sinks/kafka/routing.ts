/**
 * Which topic an event goes to (the sink's `tableTopicMapping` and `topicFallback`), pure.
 * A mapping key is either `schema.table` (tried first) or the bare table name (the original's form);
 * both match exactly and case-sensitively. Tables in neither fall back to `topicFallback`; without
 * one their events have no topic (counted and dropped, as the original). The answer is cached per
 * table, so routing costs one map lookup per event.
 */
import { TableRouter } from '../table-routing.ts';

/** The Kafka sink's names for the shared table router (src/sinks/table-routing.ts). */
export class TopicRouter extends TableRouter {
  /** Topic of a table's events, or undefined when it has none. `schema` may be '' (events relayed from the original). */
  topicFor(schema: string, table: string): string | undefined {
    return this.targetFor(schema, table);
  }

  /** Every topic the configuration names (mapped and fallback), without duplicates. */
  configuredTopics(): string[] {
    return this.configuredTargets();
  }
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Why Kafka would refuse a topic name, or undefined when it is legal: 1–249 characters of
 * `a-z A-Z 0-9 . _ -`, and neither "." nor "..".
 */
export function invalidTopicReason(topic: string): string | undefined {
  if (topic === '.' || topic === '..') return `"${topic}" is not a legal topic name`;
  if (topic.length > 249) return `topic names are at most 249 characters, found ${topic.length}`;
  if (!LEGAL_TOPIC.test(topic)) return `${JSON.stringify(topic)} is not a legal topic name: use only letters, digits, ".", "_" and "-"`;
  return undefined;
}
