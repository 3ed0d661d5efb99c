/**
 * Row columns and their Go-compatible JSON text built in one pass over a tuple, straight from the
 * pgoutput text where a type allows (integers are already JSON numbers, text only needs quoting),
 * so the encoder need not walk, sort and re-encode the columns object (DESIGN.md §9 CPU budget).
 */
import type { ColumnValue, Columns } from '../core/event.ts';
import { compareCodePoints, goJsonString, goJsonValue } from '../core/go-json.ts';
import { TupleMismatchError } from '../pgoutput/errors.ts';
import { UNCHANGED_TOAST, type TupleData } from '../pgoutput/messages.ts';
import type { RelationInfo } from '../pgoutput/relations.ts';
import { asText, type Converter } from '../types/converter.ts';
import { OID } from '../types/oids.ts';
import type { TypeRegistry } from '../types/index.ts';

const OTHER = 0;
const TEXT = 1;
const INTEGER = 2;
const BOOL = 3;

/** One column of a relation, in name order, with everything the per-row loop needs. */
export interface ColumnCodec {
  /** Position in the tuple. */
  readonly index: number;
  readonly name: string;
  /** `"name":` for the first written column, `,"name":` for the others. */
  readonly first: string;
  readonly next: string;
  readonly converter: Converter;
  readonly kind: number;
}

const INTEGER_OIDS = [OID.int2, OID.int4, OID.int8, OID.oid, OID.xid, OID.cid, OID.xid8];

/** A relation's column codecs in name order (RelationInfo.nameOrder, as rowChange builds rows). */
export interface RelationCodecs {
  readonly columns: readonly ColumnCodec[];
  /** Name order is also Go's key order (code points), so rows can be encoded as they are built; false only for names where UTF-16 and code point order differ. */
  readonly inKeyOrder: boolean;
}

/** The codecs of a relation's columns. */
export function relationCodecs(relation: RelationInfo, types: TypeRegistry): RelationCodecs {
  // Identity tells the converter's kind, domains included: the registry hands out one converter per
  // type and a domain gets its base type's. Taken together with the column's converter, so a
  // registry cache reset in between cannot mix generations.
  const integers = new Set(INTEGER_OIDS.map((oid) => types.converter(oid)));
  const bool = types.converter(OID.bool);
  const columns = relation.nameOrder.map((index): ColumnCodec => {
    const column = relation.columns[index]!;
    const converter = types.converter(column.typeOid);
    const key = goJsonString(column.name) + ':';
    const kind = converter === asText ? TEXT : integers.has(converter) ? INTEGER : converter === bool ? BOOL : OTHER;
    return { index, name: column.name, first: key, next: ',' + key, converter, kind };
  });
  let inKeyOrder = true;
  for (let k = 1; k < columns.length; k++) {
    if (compareCodePoints(columns[k - 1]!.name, columns[k]!.name) > 0) inKeyOrder = false;
  }
  return { columns, inKeyOrder };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Binary values are never requested; should one arrive, it is kept losslessly as bytea hex text. */
export function hexText(bytes: Uint8Array): string {
  let out = '\\x';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/** JSON of a converted value, taking the text itself where it already is that JSON. */
function valueJson(kind: number, text: string, value: ColumnValue): string {
  if (kind === TEXT) return goJsonString(text);
  if (kind === INTEGER && typeof value !== 'string') {
    // The converter accepted it, so the text is -?[0-9]+; it is the JSON unless it has a leading zero or is -0.
    const negative = text.charCodeAt(0) === 45;
    if (negative ? text.charCodeAt(1) !== 48 : text.charCodeAt(0) !== 48 || text.length === 1) return text;
    return goJsonValue(value);
  }
  if (kind === BOOL) return value === true ? 'true' : value === false ? 'false' : goJsonValue(value);
  return goJsonValue(value);
}

/** Builds rows and their JSON; `json` holds the JSON of the last row built. */
export class RowBuilder {
  /** goJsonObject of the columns last returned by `columns`; undefined when the codecs are not in key order. */
  json: string | undefined = undefined;
  private readonly parts: string[] = [];

  /**
   * Names and converts a tuple's values as rowChange does (unchanged TOAST values listed in
   * `unchanged` and left out); throws TupleMismatchError when the column count differs.
   */
  columns(tuple: TupleData, relation: RelationInfo, codecs: RelationCodecs, unchanged: string[] | undefined): Columns {
    if (tuple.length !== relation.columns.length) throw new TupleMismatchError(relation.relationId, relation.columns.length, tuple.length);
    const out: Columns = Object.create(null);
    // Joined once at the end: one flat string instead of a rope of two nodes per column, which the
    // event would hold until the sink and which costs more heap and more to flatten there.
    const parts = this.parts;
    parts.length = 0;
    parts.push('{');
    let written = false;
    const columns = codecs.columns;
    for (let k = 0; k < columns.length; k++) {
      const codec = columns[k] as ColumnCodec;
      const raw = tuple[codec.index];
      if (raw === undefined) continue;
      if (raw === UNCHANGED_TOAST) {
        unchanged?.push(codec.name);
        continue;
      }
      parts.push(written ? codec.next : codec.first);
      written = true;
      if (raw === null) {
        out[codec.name] = null;
        parts.push('null');
      } else if (typeof raw === 'string') {
        const value = codec.converter(raw);
        out[codec.name] = value;
        parts.push(valueJson(codec.kind, raw, value));
      } else {
        const value = hexText(raw);
        out[codec.name] = value;
        parts.push(goJsonString(value));
      }
    }
    parts.push('}');
    this.json = codecs.inKeyOrder ? parts.join('') : undefined;
    return out;
  }
}
