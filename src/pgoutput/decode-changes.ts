/**
 * Decoders of the schema and row-change messages: Relation, Type, Insert, Update, Delete, Truncate.
 * Each starts with an Int32 xid only inside a streamed transaction (protocol 2+). The type byte has
 * been read; the cursor is at the first field.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import { readStreamXid, type Cursor } from './cursor.ts';
import type { Delete, Insert, OldTupleKind, Relation, RelationColumn, ReplicaIdentity, Truncate, TypeMessage, Update } from './messages.ts';
import { readTupleData, TUPLE_KEY, TUPLE_NEW, TUPLE_OLD } from './tuple.ts';

const REPLICA_IDENTITIES: ReadonlySet<string> = new Set(['d', 'n', 'f', 'i']);
/** Smallest encoded column of a Relation: flags, empty name, type OID, typmod. */
const MIN_RELATION_COLUMN = 10;

/**
 * | Byte1('R') | Int32 xid (streamed) | Int32 relation OID | String namespace ('' = pg_catalog) |
 * | String relation name | Int8 replica identity (relreplident) | Int16 number of columns |
 * then per column: | Int8 flags (1 = part of the key) | String name | Int32 type OID | Int32 atttypmod |
 */
export function decodeRelation(c: Cursor, streamed: boolean): Relation {
  const xid = readStreamXid(c, streamed);
  const relationId = c.u32('relation OID');
  const namespace = c.cstring('namespace');
  const name = c.cstring('relation name');
  const identityAt = c.pos;
  const identity = String.fromCharCode(c.u8('replica identity'));
  if (!REPLICA_IDENTITIES.has(identity)) c.fail(`unknown replica identity ${JSON.stringify(identity)}`, identityAt);
  const count = c.u16('column count');
  c.checkCount(count, MIN_RELATION_COLUMN, 'relation column');
  const columns: RelationColumn[] = [];
  for (let i = 0; i < count; i++) {
    const flags = c.u8('column flags');
    const columnName = c.cstring('column name');
    const typeOid = c.u32('column type OID');
    const typeModifier = c.i32('column type modifier');
    columns.push({ flags, isKey: (flags & 1) !== 0, name: columnName, typeOid, typeModifier });
  }
  return { tag: 'relation', xid, relationId, namespace, name, replicaIdentity: identity as ReplicaIdentity, columns };
}

/**
 * | Byte1('Y') | Int32 xid (streamed) | Int32 type OID | String namespace ('' = pg_catalog) | String type name |
 */
export function decodeType(c: Cursor, streamed: boolean): TypeMessage {
  const xid = readStreamXid(c, streamed);
  const typeOid = c.u32('type OID');
  const namespace = c.cstring('namespace');
  const name = c.cstring('type name');
  return { tag: 'type', xid, typeOid, namespace, name };
}

function expectNewTuple(c: Cursor, kind: number): void {
  if (kind !== TUPLE_NEW) c.fail(`expected 'N' (new tuple), got 0x${kind.toString(16).padStart(2, '0')}`, c.pos - 1);
}

/**
 * | Byte1('I') | Int32 xid (streamed) | Int32 relation OID | Byte1('N') | TupleData new row |
 */
export function decodeInsert(c: Cursor, streamed: boolean): Insert {
  const xid = readStreamXid(c, streamed);
  const relationId = c.u32('relation OID');
  expectNewTuple(c, c.u8('tuple marker'));
  return { tag: 'insert', xid, relationId, newTuple: readTupleData(c) };
}

/**
 * | Byte1('U') | Int32 xid (streamed) | Int32 relation OID |
 * | optional: Byte1('K') TupleData old key, or Byte1('O') TupleData old row | Byte1('N') TupleData new row |
 * The old part is sent only when the key changed ('K') or with REPLICA IDENTITY FULL ('O').
 */
export function decodeUpdate(c: Cursor, streamed: boolean): Update {
  const xid = readStreamXid(c, streamed);
  const relationId = c.u32('relation OID');
  let marker = c.u8('tuple marker');
  let oldKind: OldTupleKind | undefined;
  let oldTuple: Update['oldTuple'];
  if (marker === TUPLE_KEY || marker === TUPLE_OLD) {
    oldKind = marker === TUPLE_KEY ? 'key' : 'old';
    oldTuple = readTupleData(c);
    marker = c.u8('tuple marker');
  }
  expectNewTuple(c, marker);
  return { tag: 'update', xid, relationId, oldKind, oldTuple, newTuple: readTupleData(c) };
}

/**
 * | Byte1('D') | Int32 xid (streamed) | Int32 relation OID | Byte1('K') old key or Byte1('O') old row | TupleData |
 */
export function decodeDelete(c: Cursor, streamed: boolean): Delete {
  const xid = readStreamXid(c, streamed);
  const relationId = c.u32('relation OID');
  const marker = c.u8('tuple marker');
  if (marker !== TUPLE_KEY && marker !== TUPLE_OLD) {
    c.fail(`expected 'K' (old key) or 'O' (old row), got 0x${marker.toString(16).padStart(2, '0')}`, c.pos - 1);
  }
  const oldKind: OldTupleKind = marker === TUPLE_KEY ? 'key' : 'old';
  return { tag: 'delete', xid, relationId, oldKind, oldTuple: readTupleData(c) };
}

/**
 * | Byte1('T') | Int32 xid (streamed) | Int32 number of relations | Int8 options (1 CASCADE, 2 RESTART IDENTITY) |
 * | Int32 relation OID, once per relation |
 */
export function decodeTruncate(c: Cursor, streamed: boolean): Truncate {
  const xid = readStreamXid(c, streamed);
  const count = c.i32('relation count');
  const options = c.u8('options');
  c.checkCount(count, 4, 'relation');
  const relationIds: number[] = [];
  for (let i = 0; i < count; i++) relationIds.push(c.u32('relation OID'));
  return { tag: 'truncate', xid, options, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0, relationIds };
}
