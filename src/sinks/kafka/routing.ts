/**
 * Which topic an event goes to (the sink's `tableTopicMapping` and `topicFallback`), pure.
 * A mapping key is either `schema.table` (tried first) or the bare table name (the original's form);
 * both match exactly and case-sensitively. Tables in neither fall back to `topicFallback`; without
 * one their events have no topic (counted and dropped, as the original). The answer is cached per
 * table, so routing costs one map lookup per event.
 */

export class TopicRouter {
  private readonly mapping: ReadonlyMap<string, string>;
  private readonly fallback: string | undefined;
  private readonly cache = new Map<string, string | null>();
  private lastSchema: string | undefined;
  private lastTable: string | undefined;
  private lastTopic: string | undefined;

  /** @param fallback topic for unmapped tables; '' or undefined means none. */
  constructor(mapping: Readonly<Record<string, string>>, fallback?: string) {
    this.mapping = new Map(Object.entries(mapping));
    this.fallback = fallback ? fallback : undefined;
  }

  /** Topic of a table's events, or undefined when it has none. `schema` may be '' (events relayed from the original). */
  topicFor(schema: string, table: string): string | undefined {
    // Consecutive events nearly always share their table (the same string objects).
    if (table === this.lastTable && schema === this.lastSchema) return this.lastTopic;
    const topic = this.lookUp(schema, table);
    this.lastSchema = schema;
    this.lastTable = table;
    this.lastTopic = topic;
    return topic;
  }

  private lookUp(schema: string, table: string): string | undefined {
    const cacheKey = schema + '\u0000' + table;
    let topic = this.cache.get(cacheKey);
    if (topic === undefined) {
      topic = (schema ? this.mapping.get(schema + '.' + table) : undefined) ?? this.mapping.get(table) ?? this.fallback ?? null;
      this.cache.set(cacheKey, topic);
    }
    return topic ?? undefined;
  }

  /** Every topic the configuration names (mapped and fallback), without duplicates. */
  configuredTopics(): string[] {
    const topics = new Set(this.mapping.values());
    if (this.fallback) topics.add(this.fallback);
    return [...topics];
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
