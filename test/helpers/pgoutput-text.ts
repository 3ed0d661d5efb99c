/**
 * Just enough of a pgoutput (protocol version 1) reader for the type golden test: the Relation
 * messages (column names and type OIDs) and the text of each column of each Insert, exactly as a
 * walsender would send them. Only for tests; the product's decoder lives in src/pgoutput.
 */

/** A column of a Relation message. */
export interface RelationColumn {
  name: string;
  typeOid: number;
}

/** One inserted row: the relation's columns and each column's text (null for SQL NULL). */
export interface InsertedRow {
  relation: string;
  columns: RelationColumn[];
  values: (string | null)[];
}

class Reader {
  i = 0;
  constructor(readonly bytes: Uint8Array, readonly view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)) {}
  u8(): number {
    return this.bytes[this.i++] as number;
  }
  i16(): number {
    const v = this.view.getInt16(this.i);
    this.i += 2;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.i);
    this.i += 4;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.i);
    this.i += 4;
    return v;
  }
  cstring(): string {
    const end = this.bytes.indexOf(0, this.i);
    const s = new TextDecoder().decode(this.bytes.subarray(this.i, end));
    this.i = end + 1;
    return s;
  }
  text(length: number): string {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(this.bytes.subarray(this.i, this.i + length));
    this.i += length;
    return s;
  }
}

/** Reads the inserted rows out of a sequence of pgoutput messages. */
export function insertedRows(messages: readonly Uint8Array[]): InsertedRow[] {
  const relations = new Map<number, { name: string; columns: RelationColumn[] }>();
  const rows: InsertedRow[] = [];
  for (const message of messages) {
    const r = new Reader(message);
    const type = String.fromCharCode(r.u8());
    if (type === 'R') {
      const id = r.u32();
      const namespace = r.cstring();
      const name = r.cstring();
      r.u8(); // replica identity
      const columns: RelationColumn[] = [];
      for (let n = r.i16(); n > 0; n--) {
        r.u8(); // flags
        const columnName = r.cstring();
        const typeOid = r.u32();
        r.i32(); // typmod
        columns.push({ name: columnName, typeOid });
      }
      relations.set(id, { name: `${namespace}.${name}`, columns });
    } else if (type === 'I') {
      const relation = relations.get(r.u32());
      if (relation === undefined) throw new Error('Insert before its Relation');
      if (String.fromCharCode(r.u8()) !== 'N') throw new Error('Insert without a new tuple');
      const values: (string | null)[] = [];
      for (let n = r.i16(); n > 0; n--) {
        const kind = String.fromCharCode(r.u8());
        if (kind === 't') values.push(r.text(r.i32()));
        else if (kind === 'n') values.push(null);
        else throw new Error(`unexpected tuple column kind ${kind}`);
      }
      rows.push({ relation: relation.name, columns: relation.columns, values });
    }
  }
  return rows;
}
