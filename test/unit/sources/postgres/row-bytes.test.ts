import { describe, expect, test } from 'bun:test';
import type { ChangeEvent, ColumnValue, Columns } from '../../../../src/event/event.ts';
import { rowKey, rowKeyBytes } from '../../../../src/event/key.ts';
import { compareCodePoints, goJsonObject, goJsonString } from '../../../../src/event/go-json.ts';
import { decodePgoutput } from '../../../../src/pgoutput/decode.ts';
import { dataRowBytes, encodePgoutput } from '../../../helpers/pgoutput-frames.ts';
import { encodePassthrough, passthroughBytes } from '../../../../src/event/passthrough.ts';
import { UNCHANGED_TOAST, type Relation, type RelationColumn, type RowMessage, type TupleValue } from '../../../../src/pgoutput/messages.ts';
import { RelationCache } from '../../../../src/pgoutput/relations.ts';
import { rowChange } from '../../../../src/pgoutput/rows.ts';
import { EventFactory } from '../../../../src/sources/postgres/events.ts';
import { EventIdentity } from '../../../../src/event/identity.ts';
import { OID } from '../../../../src/pgtypes/oids.ts';
import { TypeRegistry } from '../../../../src/pgtypes/registry.ts';

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let random = prng(1);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

// Characters that need escaping, or are otherwise tricky, in Go's JSON and in UTF-16.
const TRICKY = ['"', '\\', '<', '>', '&', '\u2028', '\u2029', '\n', '\r', '\t', '\u0000', '\u0001', '\u001f', '\u007f',
  '\ud800', '\udfff', '\ud83d\ude00', '\ue000', '\uffff', 'é', '中', '/', ' ', 'a', 'Z', '0', '{', '}', ',', '[', ']'];

function randomString(max = 12): string {
  let s = '';
  const n = int(max + 1);
  for (let i = 0; i < n; i++) s += random() < 0.5 ? pick(TRICKY) : String.fromCharCode(32 + int(95));
  return s;
}

function randomDigits(n: number): string {
  let s = String(1 + int(9));
  for (let i = 1; i < n; i++) s += String(int(10));
  return s;
}

const INTEGER_TEXTS = ['0', '-0', '007', '+5', '', '-', '1.5', 'abc', '9007199254740991', '9007199254740992', '-9007199254740993',
  '9223372036854775807', '-9223372036854775808', '18446744073709551615', '1e3', ' 1'];
const FLOAT_TEXTS = ['0', '-0', 'NaN', 'Infinity', '-Infinity', '1e21', '1e+21', '1e-7', '1.5e-06', '0.1', '3.4028235e+38',
  '1.7976931348623157e+308', '5e-324', '1-2', 'nan', '123456789012345678', '-1.25', '.5'];
const JSON_TEXTS = ['{}', '[]', 'null', 'true', '1', '-0', '1e400', '"a\\u2028b<>&"', '{"a": [1, {"b": null}], "c": "x\\ny"}',
  '{"a":\n 1,\r\n "b": "line\\nbreak"}', '{"k": "\u2028"}', '[1, 2', '{"a": "unterminated', 'not json', '', ' {"a": 1} ',
  '{"z": 1, "a": 2}', '"\ud800"', '[[[[]]]]', '{"<>": "&"}'];

function randomInteger(): string {
  const r = random();
  if (r < 0.2) return pick(INTEGER_TEXTS);
  const text = randomDigits(1 + int(r < 0.6 ? 8 : 20));
  return random() < 0.3 ? '-' + text : text;
}

function randomFloat(): string {
  if (random() < 0.4) return pick(FLOAT_TEXTS);
  const n = (random() - 0.5) * 10 ** (int(60) - 30);
  return random() < 0.5 ? String(n) : n.toExponential(int(10));
}

function randomJson(depth = 0): string {
  const r = random();
  if (depth > 3 || r < 0.3) return pick(['1', '-2.5e3', 'null', 'true', goJsonString(randomString())]);
  if (r < 0.6) return '[' + Array.from({ length: int(4) }, () => randomJson(depth + 1)).join(pick([',', ', ', ',\n'])) + ']';
  return '{' + Array.from({ length: int(4) }, () => JSON.stringify(randomString(4)) + ':' + pick([' ', '', '\n ']) + randomJson(depth + 1)).join(', ') + '}';
}

function arrayElement(element: () => string): string {
  const r = random();
  if (r < 0.1) return 'NULL';
  if (r < 0.2) return '"' + randomString(5).replace(/[\\"]/g, (c) => '\\' + c) + '"';
  return element();
}

function randomArray(element: () => string): string {
  if (random() < 0.1) return pick(['{}', '{{1,2},{3,4}}', '{', '{1,2', '[1:2]={1,2}', '{"a\\"b",NULL,"NULL"}']);
  const inner = () => '{' + Array.from({ length: int(4) }, () => arrayElement(element)).join(',') + '}';
  return random() < 0.2 ? '{' + inner() + ',' + inner() + '}' : inner();
}

const MOOD = 900001; // enum
const POSINT = 900002; // domain over int4
const LABEL = 900003; // domain over text
const FLAG = 900004; // domain over bool
const POSINTS = 900005; // array of the int domain
const BIGPOS = 900006; // domain over a domain over int8

const GENERATORS: [number, () => string][] = [
  [OID.bool, () => (random() < 0.9 ? pick(['t', 'f']) : pick(['true', 'x', '', 'T']))],
  [OID.int2, randomInteger], [OID.int4, randomInteger], [OID.int8, randomInteger], [OID.oid, randomInteger],
  [OID.xid, randomInteger], [OID.cid, randomInteger], [OID.xid8, randomInteger],
  [OID.float4, randomFloat], [OID.float8, randomFloat],
  [OID.numeric, () => pick(['0', '-0.00', 'NaN', 'Infinity', '123456789012345678901234567890.000001', randomDigits(3) + '.' + randomDigits(2)])],
  [OID.text, randomString], [OID.varchar, randomString], [OID.bpchar, randomString], [OID.name, randomString],
  [OID.uuid, () => crypto.randomUUID()],
  [OID.json, randomJson], [OID.jsonb, () => (random() < 0.3 ? pick(JSON_TEXTS) : randomJson())],
  [OID.bytea, () => pick(['\\x', '\\x00ff', '\\xdeadbeef', 'abc'])],
  [OID.date, () => pick(['2024-02-29', 'infinity', '-infinity', '0001-01-01 BC', '10000-01-01', 'garbage'])],
  [OID.timestamp, () => pick(['2024-02-29 12:34:56.789', '2024-02-29 12:34:56', 'infinity', '0044-03-15 00:00:00 BC', 'x'])],
  [OID.timestamptz, () => pick(['2024-02-29 12:34:56.789+00', '2024-02-29 12:34:56-05:30', '2024-02-29 12:34:56.123456+05:45:10', '-infinity', 'x'])],
  [OID.inet, () => pick(['192.168.0.1', '10.0.0.0/8', '::1', '::ffff:1.2.3.4/128'])],
  [OID.interval, () => pick(['1 day 02:03:04', '-00:00:01', '1 year'])],
  [1007, () => randomArray(randomInteger)], // int4[]
  [1016, () => randomArray(randomInteger)], // int8[]
  [1009, () => randomArray(() => randomString(5).replace(/[\\"{},\s]/g, '') || 'x')], // text[]
  [1000, () => randomArray(() => pick(['t', 'f', 'x']))], // bool[]
  [1022, () => randomArray(randomFloat)], // float8[]
  [199, () => randomArray(() => '"' + randomJson().replace(/[\\"]/g, (c) => '\\' + c) + '"')], // json[]
  [MOOD, () => pick(['happy', 'sad <&>', '\u2028'])],
  [POSINT, randomInteger], [LABEL, randomString], [FLAG, () => pick(['t', 'f', '?'])],
  [POSINTS, () => randomArray(randomInteger)], [BIGPOS, randomInteger],
  [999999, randomString], // a type nobody taught: text
];

function registry(problems: unknown[]): TypeRegistry {
  const types = new TypeRegistry({ onProblem: (oid, text, why) => problems.push([oid, text, why]) });
  types.define({ oid: MOOD, name: 'mood', kind: 'enum' });
  types.define({ oid: POSINT, name: 'posint', kind: 'domain', baseOid: OID.int4 });
  types.define({ oid: LABEL, name: 'label', kind: 'domain', baseOid: OID.text });
  types.define({ oid: FLAG, name: 'flag', kind: 'domain', baseOid: OID.bool });
  types.define({ oid: POSINTS, name: 'posint[]', kind: 'base', elemOid: POSINT });
  types.define({ oid: BIGPOS + 1, name: 'big', kind: 'domain', baseOid: OID.int8 });
  types.define({ oid: BIGPOS, name: 'bigpos', kind: 'domain', baseOid: BIGPOS + 1 });
  return types;
}

// Names that need escaping, look like array indexes (sorted first by Object.keys) or differ in
// UTF-16 and code point order (a surrogate against U+E000..U+FFFF).
const NAMES = ['id', 'a', 'B', '10', '9', '0', '__proto__', 'constructor', 'x<y', 'quote"d', 'tab\t', 'line\u2028', '\ud83d\ude00',
  '\ue000', '\uffff', 'é', 'Z', 'z', ''];

function randomRelation(relationId: number): Relation {
  const names = new Set<string>();
  const count = 1 + int(12);
  while (names.size < count) names.add(random() < 0.6 ? pick(NAMES) : randomString(6));
  const columns: RelationColumn[] = [...names].map((name) => {
    const isKey = random() < 0.25;
    return { flags: isKey ? 1 : 0, isKey, name, typeOid: pick(GENERATORS)[0], typeModifier: -1 };
  });
  return { tag: 'relation', xid: undefined, relationId, namespace: pick(['public', '', 'a"b']), name: randomString(6), replicaIdentity: pick(['d', 'f', 'n', 'i']), columns };
}

const generatorOf = new Map(GENERATORS);

function randomTuple(relation: Relation, toast: boolean): TupleValue[] {
  return relation.columns.map((column) => {
    const r = random();
    if (r < 0.1) return null;
    if (toast && r < 0.15) return UNCHANGED_TOAST;
    if (r < 0.17) return Uint8Array.from({ length: int(4) }, () => int(256));
    return generatorOf.get(column.typeOid)!();
  });
}

function randomMessage(relation: Relation): RowMessage {
  const relationId = relation.relationId;
  switch (int(5)) {
    case 0:
      return { tag: 'insert', xid: undefined, relationId, newTuple: randomTuple(relation, false) };
    case 1:
      return { tag: 'update', xid: undefined, relationId, oldKind: undefined, oldTuple: undefined, newTuple: randomTuple(relation, true) };
    case 2:
      return { tag: 'update', xid: undefined, relationId, oldKind: pick(['key', 'old'] as const), oldTuple: randomTuple(relation, false), newTuple: randomTuple(relation, true) };
    default:
      return { tag: 'delete', xid: undefined, relationId, oldKind: pick(['key', 'old'] as const), oldTuple: randomTuple(relation, false) };
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hexText = (bytes: Uint8Array) => '\\x' + Array.from(bytes, (b) => HEX[b]).join('');
const plain = (columns: Columns | undefined) => (columns === undefined ? undefined : { ...columns });
const text = new TextDecoder();
const utf8 = new TextEncoder();
const IDENTITY = EventIdentity.of('7301234567890123456', 'slot1');
const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A transaction for events that do not care which. */
const TXN = { xid: 7, commitLsn: 0x1a8e94f0n, commitTime: '2026-11-26T00:00:00.5Z' };

/** An EventFactory with the test namespace, as a session sets it. */
function newFactory(types: TypeRegistry, lineChunkBytes?: number): EventFactory {
  const factory = new EventFactory('src', 'host<&>', 'db', types, lineChunkBytes);
  factory.setIdentity(IDENTITY, '7301234567890123456/slot1');
  return factory;
}

describe('EventFactory.rowFromBytes: the byte path', () => {
  test('writes the same JSON, key values and (lazily) the same columns as the general path, for random rows of every type', () => {
    random = prng(20261126);
    const problems: unknown[] = [];
    const referenceProblems: unknown[] = [];
    const types = registry(problems);
    const referenceTypes = registry(referenceProblems);
    // Chunks of 64 bytes: nearly every line and value crosses into a new chunk.
    const factory = newFactory(types, 64);
    const reference = newFactory(referenceTypes);
    const cache = new RelationCache();
    const convert = (_oid: number, raw: string | Uint8Array, column: RelationColumn): ColumnValue =>
      typeof raw === 'string' ? referenceTypes.converter(column.typeOid)(raw) : hexText(raw);
    let checked = 0;
    let refused = 0;
    let outside = 0;
    for (let r = 0; r < 300; r++) {
      const relationMessage = randomRelation(r + 1);
      const relation = cache.setRelation(relationMessage);
      if (random() < 0.2) {
        const key = relation.columns.filter(() => random() < 0.3).map((c) => c.name).concat(random() < 0.2 ? ['gone'] : []);
        factory.setKeyColumns(relation.relationId, key);
        reference.setKeyColumns(relation.relationId, key);
      }
      const txn = random() < 0.1 ? undefined : { xid: int(1e6), commitLsn: BigInt(int(1e12)), commitTime: '2026-11-26T00:00:00.5Z' };
      for (let i = 0; i < 40; i++) {
        const bytes = encodePgoutput(randomMessage(relationMessage));
        // What PostgreSQL's bytes say (lone surrogates of the generator became U+FFFD on the way).
        const message = decodePgoutput(bytes, { protoVersion: 1 }) as RowMessage;
        const lsnNumber = int(1e15);
        const lsn = BigInt(lsnNumber);
        const expected = reference.row(message, relation, lsn, txn, i);
        // Half of them inside a CopyData XLogData in a chunk with more messages after it, as the source hands them over.
        const framed = random() < 0.5;
        const chunk = Uint8Array.of(...new Uint8Array(25).fill(0x77), ...bytes, ...bytes.subarray(0, int(bytes.length)));
        const event = framed ? factory.rowFromBytes(chunk, 25, 25 + bytes.length, relation, lsnNumber, txn, i)
          : factory.rowFromBytes(bytes, 0, bytes.length, relation, lsnNumber, txn, i);
        if (txn === undefined) {
          // A change outside a transaction (pgoutput never sends one) is left to the general path.
          expect(event).toBeUndefined();
          expect([expected.commitLsn, expected.txIndex, expected.uuid]).toEqual([lsn, i, IDENTITY.stream(lsn, i)]);
          outside++;
          continue;
        }
        const binary = [message.tag === 'delete' ? [] : message.newTuple, message.tag === 'insert' ? [] : message.oldTuple ?? []].flat().some((v) => v instanceof Uint8Array);
        if (event === undefined) {
          // Refused only for binary values, or names whose UTF-16 and code point orders differ.
          const names = relation.nameOrder.map((k) => relation.columns[k]!.name);
          expect(binary || names.some((name, k) => k > 0 && compareCodePoints(names[k - 1]!, name) > 0)).toBe(true);
          refused++;
          continue;
        }
        expect(binary).toBe(false);
        expected.timestamp = event.timestamp;
        expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/);
        // Both paths derive the same UUID from (commit LSN, txIndex), whatever the row.
        expect(event.uuid).toMatch(V8);
        expect(event.uuid).toBe(expected.uuid);
        expect(event.uuid).toBe(IDENTITY.stream(txn.commitLsn, i));
        expect([event.txIndex, event.stream]).toEqual([i, '7301234567890123456/slot1']);
        expect(text.decode(event.encoded)).toBe(referencePassthrough(expected));
        expect(text.decode(rowKeyBytes(event))).toBe(rowKey(expected));
        expect(event.key).toEqual(expected.key);
        expect(event.unchanged).toEqual(expected.unchanged);
        expect([event.schema, event.table, event.action, event.lsn, event.xid, event.commitLsn, event.commitTime])
          .toEqual([expected.schema, expected.table, expected.action, expected.lsn, expected.xid, expected.commitLsn, expected.commitTime]);
        const general = rowChange(message, relation, convert);
        expect(plain(event.columns)).toEqual(plain(general.columns as Columns));
        expect(Object.getPrototypeOf(event.columns)).toBeNull();
        expect(plain(event.old)).toEqual(plain(general.old as Columns | undefined));
        expect(encodePassthrough(event)).toBe(text.decode(event.encoded));
        checked++;
      }
    }
    expect(checked + refused + outside).toBe(12_000);
    expect(outside).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(refused); // the generator makes binary values and awkward names often
    expect(problems.length).toBeGreaterThan(100); // malformed values took the converters' fallback too
  }, 60_000);

  test('a snapshot row: the same JSON with "Snapshot":true last, as encodePassthrough writes it; its UUID from snapshot and row key', () => {
    const { factory, relation, bytes, row } = snapshotFixture();
    const snapshot = factory.snapshotIdentity('initial', '2026-12-07T02:17:00.000Z');
    const event = factory.snapshotRow(row, 0, row.length, relation, 77, performance.now(), snapshot);
    const line = text.decode(event.encoded);
    expect(line.endsWith(',"Key":["id"],"Snapshot":true}')).toBe(true);
    expect(event.snapshot).toBe(true);
    expect([event.commitLsn, event.txIndex]).toEqual([undefined, undefined]);
    expect(encodePassthrough(event)).toBe(line);
    expect(event.uuid).toMatch(V8);
    expect(event.uuid).toBe(snapshot.uuid(utf8.encode('["public.snap",42]')));
    // The general path (values the byte path refuses) makes the same UUID.
    const general = factory.row(decodePgoutput(bytes, { protoVersion: 1 }) as RowMessage, relation, 77n, undefined, 0, snapshot);
    expect([general.uuid, general.snapshot, general.txIndex, general.commitLsn]).toEqual([event.uuid, true, undefined, undefined]);
    // Another snapshot (or the same id made again later): other UUIDs.
    expect(factory.snapshotIdentity('initial', '2026-12-08T00:00:00.000Z').uuid(utf8.encode('["public.snap",42]'))).not.toBe(event.uuid);
    const live = factory.rowFromBytes(bytes, 0, bytes.length, relation, 77, TXN, 3)!;
    expect(live.snapshot).toBeUndefined();
    expect(live.uuid).toBe(IDENTITY.stream(TXN.commitLsn, 3));
    const strip = (json: string) => json.replace(/"Timestamp":"[^"]*","UUID":"[^"]*"/, '').replace(/,"XID":.*,"TxIndex":3/, '');
    expect(strip(line)).toBe(strip(text.decode(live.encoded)).slice(0, -1) + ',"Snapshot":true}');
  });

  test('a snapshot row of a relation without its key column (a column list): random UUIDs, not one shared', () => {
    const { factory, relation, bytes, row } = snapshotFixture();
    factory.setKeyColumns(relation.relationId, ['code']);
    const snapshot = factory.snapshotIdentity('initial', '2026-12-07T02:17:00.000Z');
    const a = factory.snapshotRow(row, 0, row.length, relation, 77, performance.now(), snapshot);
    const b = factory.snapshotRow(row, 0, row.length, relation, 77, performance.now(), snapshot);
    expect(text.decode(a.rowKeyJson)).toBe('["public.snap",null]');
    expect(a.uuid).not.toBe(b.uuid);
    expect(a.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const general = factory.row(decodePgoutput(bytes, { protoVersion: 1 }) as RowMessage, relation, 77n, undefined, 0, snapshot);
    expect(general.uuid).not.toBe(a.uuid);
    expect(general.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });

  test('a snapshot row from its DataRow: the JSON, key, UUID and (lazily) columns of the general path, for random rows of every type', () => {
    random = prng(20261207);
    const factory = newFactory(registry([]), 64);
    const reference = newFactory(registry([]));
    const snapshot = factory.snapshotIdentity('initial', '2026-12-07T02:17:00.000Z');
    const cache = new RelationCache();
    let byBytes = 0;
    for (let r = 0; r < 200; r++) {
      const relationMessage = randomRelation(r + 1);
      const relation = cache.setRelation(relationMessage);
      for (let i = 0; i < 20; i++) {
        // A query's rows are text; key columns a column list leaves out may follow the relation's.
        const values = randomTuple(relationMessage, false).map((v) => (typeof v === 'string' ? v : null));
        const extra = random() < 0.2 ? [randomString(3)] : [];
        const row = dataRowBytes([...values, ...extra]);
        const chunk = Uint8Array.of(...new Uint8Array(9).fill(0x44), ...row, 0x44, 0, 0);
        const lsn = int(1e15);
        const event = factory.snapshotRow(chunk, 9, 9 + row.length, relation, lsn, performance.now(), snapshot);
        const insert = decodePgoutput(encodePgoutput({ tag: 'insert', xid: undefined, relationId: relation.relationId, newTuple: values }), { protoVersion: 1 }) as RowMessage;
        const expected = reference.row(insert, relation, BigInt(lsn), undefined, 0, snapshot);
        expected.timestamp = event.timestamp;
        if (relation.keyColumns.length > 0) expect(event.uuid).toBe(expected.uuid);
        expected.uuid = event.uuid;
        expect(text.decode(passthroughBytes(event))).toBe(encodePassthrough(expected));
        expect(text.decode(rowKeyBytes(event))).toBe(rowKey(expected));
        expect([event.snapshot, event.action, event.txIndex, event.commitLsn, event.lsn]).toEqual([true, 'insert', undefined, undefined, BigInt(lsn)]);
        expect(plain(event.columns)).toEqual(plain(expected.columns));
        if (Object.getPrototypeOf(event) !== Object.prototype) byBytes++;
      }
    }
    // Names whose UTF-16 and code point orders differ go the general way; the rest by the bytes.
    expect(byBytes).toBeGreaterThan(2000);
  }, 60_000);

  test('a snapshot row whose DataRow is cut short or lacks columns: a clear error, never a wrong event', () => {
    const { factory, relation, row } = snapshotFixture();
    const snapshot = factory.snapshotIdentity('initial', '2026-12-07T02:17:00.000Z');
    for (let cut = 0; cut < row.length; cut++) {
      expect(() => factory.snapshotRow(row, 0, cut, relation, 1, performance.now(), snapshot)).toThrow(/DataRow/);
    }
    const short = dataRowBytes(['1']);
    expect(() => factory.snapshotRow(short, 0, short.length, relation, 1, performance.now(), snapshot)).toThrow('DataRow of 1 columns for a relation of 2');
  });

  test('refuses malformed and truncated messages (the general path reports them), never throws', () => {
    const relation = new RelationCache().setRelation({
      tag: 'relation', xid: undefined, relationId: 7, namespace: 'public', name: 't', replicaIdentity: 'd',
      columns: [{ flags: 1, isKey: true, name: 'id', typeOid: OID.int4, typeModifier: -1 }, { flags: 0, isKey: false, name: 'v', typeOid: OID.text, typeModifier: -1 }],
    });
    const factory = newFactory(new TypeRegistry());
    const good = encodePgoutput({ tag: 'update', xid: undefined, relationId: 7, oldKind: 'key', oldTuple: ['1', null], newTuple: ['2', 'x'] });
    expect(factory.rowFromBytes(good, 0, good.length, relation, 1, TXN, 0)).toBeDefined();
    for (let cut = 0; cut < good.length; cut++) {
      expect(factory.rowFromBytes(good.subarray(0, cut), 0, cut, relation, 1, TXN, 0)).toBeUndefined();
      // Cut short by `end` inside a longer buffer: the bytes after it belong to the next message.
      expect(factory.rowFromBytes(Uint8Array.of(...good, ...good), 0, cut, relation, 1, TXN, 0)).toBeUndefined();
    }
    expect(factory.rowFromBytes(good, 0, good.length, relation, 2 ** 53, TXN, 0)).toBeUndefined();
    expect(factory.rowFromBytes(good, 0, good.length, relation, -1, TXN, 0)).toBeUndefined();
    const longer = Uint8Array.of(...good, 0);
    expect(factory.rowFromBytes(longer, 0, longer.length, relation, 1, TXN, 0)).toBeUndefined();
    const wrongCount = encodePgoutput({ tag: 'insert', xid: undefined, relationId: 7, newTuple: ['1', '2', '3'] });
    expect(factory.rowFromBytes(wrongCount, 0, wrongCount.length, relation, 1, TXN, 0)).toBeUndefined();
    expect(() => factory.row(decodePgoutput(wrongCount, { protoVersion: 1 }) as RowMessage, relation, 1n, TXN, 0)).toThrow('column');
    random = prng(3);
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from(good);
      for (let k = 0; k < 1 + int(3); k++) bytes[int(bytes.length)] = int(256);
      const event = factory.rowFromBytes(bytes, 0, bytes.length, relation, 1, TXN, 0);
      if (event !== undefined) expect(() => JSON.parse(text.decode(event.encoded))).not.toThrow();
    }
  });

  test('huge values: text with escapes, plain text, non-ASCII text and json of megabytes come out as the general path writes them', () => {
    const relation = new RelationCache().setRelation({
      tag: 'relation', xid: undefined, relationId: 11, namespace: 'public', name: 'big', replicaIdentity: 'd',
      columns: [
        { flags: 1, isKey: true, name: 'id', typeOid: OID.int4, typeModifier: -1 },
        { flags: 0, isKey: false, name: 'doc', typeOid: OID.jsonb, typeModifier: -1 },
        { flags: 0, isKey: false, name: 'v', typeOid: OID.text, typeModifier: -1 },
      ],
    });
    const factory = newFactory(new TypeRegistry());
    const reference = newFactory(new TypeRegistry());
    const values = ['\u0001<"&>\n'.repeat(300_000), 'x'.repeat(3_000_000), 'é中'.repeat(500_000)];
    for (const [i, v] of values.entries()) {
      const doc = JSON.stringify({ list: Array.from({ length: 50_000 }, (_, k) => k), v: v.slice(0, 1000) });
      const message = { tag: 'insert' as const, xid: undefined, relationId: 11, newTuple: [String(i), doc, v] };
      const bytes = encodePgoutput(message);
      const event = factory.rowFromBytes(bytes, 0, bytes.length, relation, i, TXN, i)!;
      const expected = reference.row(decodePgoutput(bytes, { protoVersion: 1 }) as RowMessage, relation, BigInt(i), TXN, i);
      expected.timestamp = event.timestamp;
      expect(text.decode(event.encoded) === referencePassthrough(expected)).toBe(true);
    }
  }, 60_000);

  test('lines are views into shared chunks that stay intact after later lines, whatever their size', () => {
    const relation = new RelationCache().setRelation({
      tag: 'relation', xid: undefined, relationId: 9, namespace: 'public', name: 't', replicaIdentity: 'd',
      columns: [{ flags: 1, isKey: true, name: 'id', typeOid: OID.int8, typeModifier: -1 }, { flags: 0, isKey: false, name: 'v', typeOid: OID.text, typeModifier: -1 }],
    });
    const factory = newFactory(new TypeRegistry());
    const events: { id: number; value: string; event: ChangeEvent }[] = [];
    for (let id = 0; id < 3000; id++) {
      const value = 'x'.repeat(id % 7 === 0 ? 100_000 + id : id % 300) + '"';
      const bytes = encodePgoutput({ tag: 'insert', xid: undefined, relationId: 9, newTuple: [String(id), value] });
      const event = factory.rowFromBytes(bytes, 0, bytes.length, relation, id, TXN, id)!;
      events.push({ id, value, event });
    }
    for (const { id, value, event } of events) {
      const parsed = JSON.parse(text.decode(event.encoded));
      expect(parsed.Columns).toEqual({ id, v: value });
      expect(text.decode(event.rowKeyJson)).toBe(`["public.t",${id}]`);
    }
  }, 60_000);
});

/** encodePassthrough as it was before it cached the head: the reference for the cached version. */
function referencePassthrough(event: ChangeEvent): string {
  let out =
    '{"Host":' + goJsonString(event.host) + ',"Database":' + goJsonString(event.database) + ',"Table":' + goJsonString(event.table) +
    ',"Action":' + goJsonString(event.action) + ',"WALPosition":' + event.lsn.toString() + ',"Timestamp":' + goJsonString(event.timestamp) +
    ',"UUID":' + goJsonString(event.uuid) + ',"Columns":' + goJsonObject(event.columns);
  if (event.schema) out += ',"Schema":' + goJsonString(event.schema);
  if (event.xid !== undefined) out += ',"XID":' + event.xid;
  if (event.commitLsn !== undefined) out += ',"CommitLSN":' + event.commitLsn.toString();
  if (event.commitTime !== undefined) out += ',"CommitTime":' + goJsonString(event.commitTime);
  if (event.txIndex !== undefined) out += ',"TxIndex":' + event.txIndex;
  if (event.old !== undefined) out += ',"Old":' + goJsonObject(event.old);
  if (event.key !== undefined) out += ',"Key":[' + event.key.map(goJsonString).join(',') + ']';
  if (event.unchanged !== undefined && event.unchanged.length > 0) out += ',"Unchanged":[' + event.unchanged.map(goJsonString).join(',') + ']';
  return out + '}';
}

describe('encodePassthrough: cached head', () => {
  test('matches the uncached encoding whatever changes from one event to the next', () => {
    random = prng(7);
    const few = ['', 'a', 'b<&>', '\u2028', '\ud800x'];
    const keys = [['a'], ['a', 'b<'], [], ['\u2028']];
    for (let i = 0; i < 5000; i++) {
      const event: ChangeEvent = {
        source: 's', host: pick(few), database: pick(few), schema: pick(few), table: pick(few),
        action: pick(['insert', 'update', 'delete', 'truncate', 'message'] as const), lsn: BigInt(int(1e9)),
        commitLsn: random() < 0.5 ? 5n : undefined, xid: random() < 0.5 ? int(1000) : undefined,
        commitTime: random() < 0.3 ? undefined : pick(few), txIndex: random() < 0.5 ? int(5000) : undefined, timestamp: pick(few), uuid: 'u', columns: { a: pick(few) },
        old: random() < 0.2 ? { b: 1 } : undefined, key: random() < 0.2 ? undefined : random() < 0.5 ? pick(keys) : [pick(few)],
        unchanged: random() < 0.2 ? [pick(few)] : undefined,
      };
      expect(encodePassthrough(event)).toBe(referencePassthrough(event));
    }
  });
});

/** One relation (id int key, name text) and an insert of it, for the snapshot row test. */
function snapshotFixture() {
  const relations = new RelationCache();
  const relation = relations.setRelation({
    tag: 'relation', relationId: 4242, namespace: 'public', name: 'snap', replicaIdentity: 'd',
    columns: [
      { name: 'id', typeOid: OID.int4, typeModifier: -1, isKey: true, flags: 1 },
      { name: 'name', typeOid: OID.text, typeModifier: -1, isKey: false, flags: 0 },
    ],
  } as Relation);
  const factory = new EventFactory('db1', 'host1', 'shop', new TypeRegistry());
  factory.setIdentity(IDENTITY, '7301234567890123456/slot1');
  const bytes = new Uint8Array([0x49, 0, 0, 0x10, 0x92, 0x4e, 0, 2, 0x74, 0, 0, 0, 2, 0x34, 0x32, 0x74, 0, 0, 0, 3, 0x41, 0x64, 0x61]);
  // The same row as the server sends it for a query: its DataRow.
  const row = new Uint8Array([0, 2, 0, 0, 0, 2, 0x34, 0x32, 0, 0, 0, 3, 0x41, 0x64, 0x61]);
  return { factory, relation, bytes, row };
}
