/**
 * The change event: the unit that flows from a source through the pipeline to every sink.
 * Richer than the original's event (docs/compatibility.md, "Event format"); `passthrough.ts` encodes it in the original's
 * JSON layout with the new fields appended.
 */

/**
 * What happened. `truncate` carries no columns; `message` is a logical decoding message
 * (pg_logical_emit_message) with `prefix`, `content` and `transactional` as columns.
 */
export type Action = 'insert' | 'update' | 'delete' | 'truncate' | 'message';

/**
 * JSON text that is already encoded and is written into the output verbatim.
 * Used where a JS number would lose precision (int8 beyond 2^53, numeric) or where the source
 * already holds JSON (json/jsonb columns, events relayed from Kafka).
 */
export class RawJson {
  constructor(readonly json: string) {}
}

/** A column value after type conversion. `bigint` is written as a JSON integer with every digit. */
export type ColumnValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | RawJson
  | readonly ColumnValue[]
  | { readonly [key: string]: ColumnValue };

export type Columns = Record<string, ColumnValue>;

/**
 * A column's type, for encoders that write values by type (the Debezium format, docs/debezium.md):
 * the base type's name (domains resolved; for an array, its element's) and atttypmod.
 */
export interface ColumnType {
  readonly name: string;
  readonly typeModifier: number;
  readonly array: boolean;
}

export interface ChangeEvent {
  /** Config name of the source that produced the event. */
  source: string;
  /** `host` of the source connection (the original's `Host`; "unknown" when not given). */
  host: string;
  /** Database name (the original's `Database`). */
  database: string;
  /** Schema (namespace) of the table; empty when unknown (e.g. events relayed from the original). */
  schema: string;
  /** Bare relation name, without schema (the original's `Table`). */
  table: string;
  action: Action;
  /** LSN of the change itself (the original's `WALPosition`, written as a decimal integer). */
  lsn: bigint;
  /**
   * Commit LSN of the transaction; the position that is persisted once the event is delivered. A
   * logical decoding message outside a transaction has its own LSN here (and txIndex 0).
   */
  commitLsn?: bigint;
  /** Transaction id. */
  xid?: number;
  /** Commit time as RFC 3339 text (microsecond precision from PostgreSQL). */
  commitTime?: string;
  /** Processing time as RFC 3339 with nanoseconds and local offset (the original's `Timestamp`). */
  timestamp: string;
  /**
   * The event's identity, lowercase with hyphens: a version-8 UUID derived from what the event is
   * (stream events: source, commit LSN and txIndex; snapshot rows: snapshot and row key), the same on
   * every delivery (event/identity.ts; docs/kafka.md, "Event identity (UUID)"). Events read from
   * Kafka keep the UUID they were read with.
   */
  uuid: string;
  /** New row (insert/update) or the old row/key PostgreSQL sent (delete). */
  columns: Columns;
  /**
   * When set, the event's passthrough JSON as UTF-8 bytes (no newline), built by the source straight
   * from its input; must equal the UTF-8 of encodePassthrough(event). Sinks use it as is.
   */
  encoded?: Uint8Array;
  /**
   * When set, the event's Kafka row key as UTF-8 bytes, built by the source straight from its input
   * (`["public.orders",42]`); must equal the UTF-8 of rowKey(event) (key.ts).
   */
  rowKeyJson?: Uint8Array;
  /**
   * Set with rowKeyJson when its bytes are a range of a larger buffer: rowKeyJson is
   * rowKeyChunk[rowKeyStart, rowKeyEnd), which a sink may read there without making the view.
   */
  rowKeyChunk?: Uint8Array;
  rowKeyStart?: number;
  rowKeyEnd?: number;
  /** Old row or old key for update/delete, when PostgreSQL sends it. */
  old?: Columns;
  /** Each column's type, in table order (PostgreSQL source only). */
  columnTypes?: Readonly<Record<string, ColumnType>>;
  /** Names of the replica-identity (key) columns. */
  key?: readonly string[];
  /** Columns whose value is an unchanged TOAST datum: present here, absent from `columns`. */
  unchanged?: readonly string[];
  /** A row copied by a snapshot (docs/snapshots.md), not a change: `"Snapshot":true`, the last key. */
  snapshot?: boolean;
  /**
   * 0-based ordinal of the change in its transaction: every pgoutput change message (Insert, Update,
   * Delete, Truncate, Message) of the transaction counts, emitted or not, so it is the same on every
   * delivery of the same WAL. With `commitLsn` it identifies a stream event; absent on snapshot rows.
   * A Truncate counts once per table it names (it becomes one event per table). Written as `TxIndex`.
   */
  txIndex?: number;
  /**
   * The identity of the stream the event comes from (PostgreSQL: `<system identifier>/<slot>`), the
   * same string object for all events of a source: an exactly-once sink compares positions only
   * within one stream (docs/kafka.md, "Exactly once").
   */
  stream?: string;
  /** Events read from Kafka (Kafka source): where they were read, for exactly-once relays. */
  origin?: KafkaOrigin;
}

/** Where a relayed event was read (docs/kafka.md, "Exactly once"). */
export interface KafkaOrigin {
  /** Shared by all events of one consumer, not one object per event. */
  readonly group: KafkaGroupRef;
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** The group generation whose assignment the event was read under (-1 when not known). */
  readonly generation: number;
}

/** The consumer group a Kafka source reads in. */
export interface KafkaGroupRef {
  readonly id: string;
  /**
   * Generation and member id of the consumer's current assignment (for TxnOffsetCommit: the
   * coordinator refuses them once the group has moved on); -1 / '' when not a member.
   */
  generation(): number;
  member(): string;
  /** Whether the consumer has owned the partition without a break since `generation` (docs/kafka.md, "Relays"). */
  owns(topic: string, partition: number, generation: number): boolean;
  /**
   * An exactly-once sink commits this group's offsets in its transactions from now on: the source
   * stops committing them itself (a commit of its own, acknowledging an earlier batch, could land
   * after a later transaction's and move the offset back).
   */
  commitsInTransactions(): void;
}
