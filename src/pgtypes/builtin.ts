/**
 * The conversion table of the built-in types, keyed by OID (the shape of porsager/postgres
 * `types.js`): the few types that need more than their text, listed by OID. Every other built-in
 * type is text, and every built-in array type (from the generated oids.ts) is a JSON array of its
 * element type's conversion.
 */
import { makeDate, makeTimestamp, makeTimestamptz } from './datetime.ts';
import type { ConverterFactory } from './converter.ts';
import { makeBool, makeFloat, makeInteger } from './numbers.ts';
import { BUILTIN_TYPES, OID, type BuiltinTypeRow } from './oids.ts';
import { inetText, makeBytea, makeJson } from './text-forms.ts';

interface Conversion {
  readonly oids: readonly number[];
  readonly make: ConverterFactory;
}

/**
 * Types converted to something other than their text. oid is a number although the original
 * printed it as a string (its defect list counts that as mangling); xid8 and int8 are numbers when
 * exact and bigints beyond 2^53.
 */
const CONVERSIONS: readonly Conversion[] = [
  { oids: [OID.bool], make: makeBool },
  { oids: [OID.int2, OID.int4, OID.int8, OID.oid, OID.xid, OID.cid, OID.xid8], make: makeInteger },
  { oids: [OID.float4, OID.float8], make: makeFloat },
  { oids: [OID.json, OID.jsonb], make: makeJson },
  { oids: [OID.bytea], make: makeBytea },
  { oids: [OID.date], make: makeDate },
  { oids: [OID.timestamp], make: makeTimestamp },
  { oids: [OID.timestamptz], make: makeTimestamptz },
  { oids: [OID.inet], make: () => inetText },
];

/** Converter factory of each built-in type with a conversion of its own (others are text). */
export const BUILTIN_CONVERSIONS: ReadonlyMap<number, ConverterFactory> = new Map(
  CONVERSIONS.flatMap(({ oids, make }) => oids.map((oid) => [oid, make] as const)),
);

/** Every built-in type's catalog row, by OID. */
export const BUILTIN_TYPE_BY_OID: ReadonlyMap<number, BuiltinTypeRow> = new Map(BUILTIN_TYPES.map((row) => [row[0], row]));
