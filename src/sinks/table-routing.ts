/**
 * Where a table's events go (a sink's table→destination mapping with a fallback), pure; shared by
 * the sinks that route per table (docs/nats.md, "Subjects"; the Kafka sink's topics work the same).
 * A mapping key is either `schema.table` (tried first) or the bare table name; both match exactly
 * and case-sensitively. Tables in neither get the fallback; without one their events have no
 * destination (counted and dropped). The fallback may be a template that `expand` fills in per table
 * (e.g. NATS subjects "cdc.{schema}.{table}"). The answer is cached per table, so routing costs one
 * map lookup per event, none for a run of events of one table.
 */

export class TableRouter {
  private readonly mapping: ReadonlyMap<string, string>;
  private readonly fallback: string | undefined;
  private readonly cache = new Map<string, string | null>();
  private lastSchema: string | undefined;
  private lastTable: string | undefined;
  private lastTarget: string | undefined;

  /**
   * @param fallback destination of unmapped tables; '' or undefined means none.
   * @param expand turns the fallback into a table's destination (default: the fallback itself).
   */
  constructor(
    mapping: Readonly<Record<string, string>>,
    fallback?: string,
    private readonly expand: (fallback: string, schema: string, table: string) => string = (f) => f,
  ) {
    this.mapping = new Map(Object.entries(mapping));
    this.fallback = fallback ? fallback : undefined;
  }

  /** Destination of a table's events, or undefined when it has none. `schema` may be '' (events relayed from the original). */
  targetFor(schema: string, table: string): string | undefined {
    // Consecutive events nearly always share their table (the same string objects).
    if (table === this.lastTable && schema === this.lastSchema) return this.lastTarget;
    const target = this.lookUp(schema, table);
    this.lastSchema = schema;
    this.lastTable = table;
    this.lastTarget = target;
    return target;
  }

  private lookUp(schema: string, table: string): string | undefined {
    const cacheKey = schema + '\u0000' + table;
    let target = this.cache.get(cacheKey);
    if (target === undefined) {
      const mapped = (schema ? this.mapping.get(schema + '.' + table) : undefined) ?? this.mapping.get(table);
      target = mapped ?? (this.fallback === undefined ? null : this.expand(this.fallback, schema, table));
      this.cache.set(cacheKey, target);
    }
    return target ?? undefined;
  }

  /** Every destination the configuration names (mapped, and the fallback as written), without duplicates. */
  configuredTargets(): string[] {
    const targets = new Set(this.mapping.values());
    if (this.fallback) targets.add(this.fallback);
    return [...targets];
  }
}
