/**
 * A row change the byte path built (row-bytes.ts), as the ChangeEvent it is: its passthrough JSON
 * is complete, what it shares with its relation or transaction is read from there, and its
 * `columns`/`old` are decoded and converted from the kept message only when asked for. Also the
 * general way of naming and converting a row message (convertRow), which both use.
 */
import type { ChangeEvent, ColumnType, ColumnValue, Columns } from '../../event/event.ts';
import { decodePgoutput } from '../../pgoutput/decode.ts';
import type { RowMessage } from '../../pgoutput/messages.ts';
import type { RelationInfo } from '../../pgoutput/relations.ts';
import { rowChange } from '../../pgoutput/rows.ts';
import type { Converter } from '../../pgtypes/converter.ts';
import { byteaHex } from '../../pgtypes/text-forms.ts';
import { insertMessage } from './data-row.ts';
import type { TransactionContext } from './events.ts';
import { UUID_OFFSET } from './row-bytes.ts';
import type { RowPlan } from './row-plan.ts';

const latin1 = new TextDecoder('latin1');

/** Names and converts a row message the general way, with the given converter per tuple position. */
export function convertRow(message: RowMessage, relation: RelationInfo, converters: readonly Converter[]) {
  return rowChange<ColumnValue>(message, relation, (_oid, raw, _column, index) => (typeof raw === 'string' ? converters[index]!(raw) : byteaHex(raw)));
}

/** What the events of one relation (and key columns) share. */
export interface RowOrigin {
  readonly source: string;
  readonly host: string;
  readonly database: string;
  /** The source's stream identity (ChangeEvent.stream), when known. */
  readonly stream: string | undefined;
  readonly key: readonly string[];
  /** undefined: the byte path cannot take this relation's rows. */
  readonly plan: RowPlan | undefined;
  /** By tuple position, taken with the plan (a type registry reset afterwards does not mix them). */
  readonly converters: readonly Converter[];
  /** ChangeEvent.columnTypes of the relation's events. */
  readonly columnTypes: Readonly<Record<string, ColumnType>>;
}

/** EncodedRowEvent.lsn of the last event asked: the number and its bigint. */
let lastWalStart = -1;
let lastLsn = -1n;

/**
 * A row change built by the byte path. Its JSON (`encoded`) is complete; what is shared with its
 * relation or transaction is read from there, and `columns`/`old` are built from the kept message
 * on first use. Few own fields: one such object is made per change.
 */
export class EncodedRowEvent implements ChangeEvent {
  private row: { columns: Columns; old: Columns | undefined } | undefined = undefined;

  constructor(
    private readonly fromRelation: RowOrigin,
    private readonly relation: RelationInfo,
    readonly action: 'insert' | 'update' | 'delete',
    /** The LSN as a number (exact: below 2^53); a bigint is made only when `lsn` is read. */
    private readonly walStart: number,
    private readonly txn: TransactionContext | undefined,
    /** undefined for a snapshot row. */
    readonly txIndex: number | undefined,
    readonly unchanged: readonly string[] | undefined,
    readonly encoded: Uint8Array,
    readonly rowKeyChunk: Uint8Array,
    readonly rowKeyStart: number,
    readonly rowKeyEnd: number,
    private readonly timestampStart: number,
    private readonly timestampEnd: number,
    /**
     * The buffer holding its pgoutput message at [base, end), or a snapshot row's DataRow: a socket
     * chunk, which stays intact (FrameDecoder never rewrites one).
     */
    private readonly payload: Uint8Array,
    private readonly base: number,
    private readonly end: number,
    /** true for a row a snapshot copied (docs/snapshots.md; its payload is a DataRow); undefined for a change. */
    readonly snapshot: true | undefined,
  ) {}

  get source(): string {
    return this.fromRelation.source;
  }

  get host(): string {
    return this.fromRelation.host;
  }

  get database(): string {
    return this.fromRelation.database;
  }

  get stream(): string | undefined {
    return this.fromRelation.stream;
  }

  get schema(): string {
    return this.relation.namespace;
  }

  get table(): string {
    return this.relation.name;
  }

  get lsn(): bigint {
    // A snapshot chunk's rows share their LSN (and a consumer may read it more than once): the last bigint is kept.
    if (this.walStart !== lastWalStart) {
      lastWalStart = this.walStart;
      lastLsn = BigInt(this.walStart);
    }
    return lastLsn;
  }

  get key(): readonly string[] {
    return this.fromRelation.key;
  }

  get columnTypes(): Readonly<Record<string, ColumnType>> {
    return this.fromRelation.columnTypes;
  }

  get commitLsn(): bigint | undefined {
    return this.txn?.commitLsn;
  }

  get xid(): number | undefined {
    return this.txn?.xid;
  }

  get commitTime(): string | undefined {
    return this.txn?.commitTime;
  }

  get timestamp(): string {
    return latin1.decode(this.encoded.subarray(this.timestampStart, this.timestampEnd));
  }

  get uuid(): string {
    const start = this.timestampEnd + UUID_OFFSET;
    return latin1.decode(this.encoded.subarray(start, start + 36));
  }

  get rowKeyJson(): Uint8Array {
    return this.rowKeyChunk.subarray(this.rowKeyStart, this.rowKeyEnd);
  }

  get columns(): Columns {
    return this.materialize().columns;
  }

  get old(): Columns | undefined {
    return this.materialize().old;
  }

  private materialize(): { columns: Columns; old: Columns | undefined } {
    if (this.row === undefined) {
      const relation = this.relation;
      const bytes = this.snapshot === true
        ? insertMessage(relation.relationId, relation.columns.length, this.payload, this.base, this.end)
        : this.payload.subarray(this.base, this.end);
      const message = decodePgoutput(bytes, { protoVersion: 1 }) as RowMessage;
      const { columns, old } = convertRow(message, this.relation, this.fromRelation.converters);
      this.row = { columns: columns as Columns, old: old as Columns | undefined };
    }
    return this.row;
  }
}
