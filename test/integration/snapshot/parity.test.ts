/**
 * Parity of snapshot rows with the stream: for tables with a column of every type (the type golden
 * cases) and a REPLICA IDENTITY FULL table with a composite key, the relation resolveSnapshotTables
 * builds equals the Relation message pgoutput sends, and the event JSON built from readChunk's
 * DataRows (through EventFactory.snapshotRow, as table-copy.ts builds it) equals the
 * stream's insert event for the same row byte for byte, but for what only a live change has
 * (WALPosition, Timestamp, UUID, XID, CommitLSN, CommitTime, TxIndex) and the snapshot's own last key
 * ("Snapshot":true), and so does the Kafka row key.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type postgres from 'postgres';
import type { ChangeEvent } from '../../../src/event/event.ts';
import { rowKeyBytes } from '../../../src/event/key.ts';
import { passthroughBytes } from '../../../src/event/passthrough.ts';
import { loadDsn } from '../../../src/pg/conninfo/dsn.ts';
import type { SqlClient } from '../../../src/pg/sql-client.ts';
import { RelationCache } from '../../../src/pgoutput/relations.ts';
import { parseTypeLookupRow, typeLookupSql } from '../../../src/pgtypes/lookup.ts';
import { TypeRegistry } from '../../../src/pgtypes/registry.ts';
import { EventFactory } from '../../../src/sources/postgres/events.ts';
import { EventIdentity } from '../../../src/event/identity.ts';
import { readChunk } from '../../../src/sources/postgres/snapshot/chunk-reader.ts';
import { resolveSnapshotTables, type SnapshotTable } from '../../../src/sources/postgres/snapshot/tables.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { dsnFor, useSourceTests, type Harness } from '../../helpers/postgres-source.ts';
import { snapshotClient, snapshotConnection, streamed, type Streamed } from '../../helpers/snapshot-reader.ts';
import type { PgConnection } from '../../../src/pg/connection.ts';
import { COLUMNS, SETUP } from '../../helpers/type-cases.ts';

const db = useSourceTests();
const text = new TextDecoder();
let sql: postgres.Sql;
let client: SqlClient;
let conn: PgConnection;
let harness: Harness;
let sent: Streamed;
let tables: SnapshotTable[];
let rowCount: number;
const publication = uniqueName('parity_pub');

/** The golden rows, then the same values shifted by one row (so every value also meets others). */
function goldenInserts(table: string): string[] {
  const inserts: string[] = [];
  for (let k = 0; k < rowCount; k++) {
    const values = COLUMNS.map(([, type, cases]) => `(${cases[k]?.[0] ?? 'NULL'})::${type}`);
    inserts.push(`INSERT INTO ${table} VALUES (${k}, ${values.join(', ')})`);
  }
  inserts.push(`INSERT INTO ${table} (id) VALUES (${rowCount})`);
  return inserts;
}

const FULL_ROWS = [
  "('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2020-01-02 03:04:05.123456+00', 'happy', 'x')",
  "('00000000-0000-0000-0000-000000000000', '2020-01-02 03:04:05.123456+00', 'very sad', NULL)",
  "('ffffffff-ffff-ffff-ffff-ffffffffffff', '-infinity', 'happy', E'multi\\nline \"q\"')",
  "('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', '2020-01-02 03:04:05.123457+00', NULL, '')",
];

beforeAll(async () => {
  const database = await db.pg.createDatabase('parity');
  sql = db.pg.sql({ database, max: 1 });
  await sql.unsafe(SETUP);
  rowCount = Math.max(...COLUMNS.map(([, , values]) => values.length));
  await sql.unsafe(`
    CREATE TABLE golden (id int PRIMARY KEY, ${COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')});
    CREATE TABLE "Full Table" (id uuid, at timestamptz, mood mood, "V" text, PRIMARY KEY (at, id));
    ALTER TABLE "Full Table" REPLICA IDENTITY FULL;
    CREATE PUBLICATION ${publication} FOR TABLE golden, "Full Table"`);
  const slot = uniqueName('parity_slot');
  await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  harness = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { database }) });
  await harness.streaming();
  const workload = [...goldenInserts('golden'), ...FULL_ROWS.map((row) => `INSERT INTO "Full Table" VALUES ${row}`)];
  // A second slot sees the same changes: the Relation messages pgoutput sends for them.
  sent = await streamed(sql, [publication], workload.join(';\n'));
  await harness.sink.untilCount(rowCount + 1 + FULL_ROWS.length, 60_000);
  client = await snapshotClient(db.pg.server, database);
  conn = await snapshotConnection(db.pg.server, database);
  tables = (await resolveSnapshotTables(client, [publication], 'all')).tables;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await conn?.close();
  // The slot is dropped after the harness stops (useSourceTests); the database only after that.
  await harness?.shutdown();
  await sql`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`.catch(() => {});
});

/** Event JSON without what only a live change has (and the snapshot marker the engine adds). */
function comparable(event: ChangeEvent): string {
  return text.decode(passthroughBytes(event))
    .replace(/"WALPosition":\d+/, '"WALPosition":0')
    .replace(/"Timestamp":"[^"]*"/, '"Timestamp":""')
    .replace(/"UUID":"[^"]*"/, '"UUID":""')
    .replace(/,"XID":\d+,"CommitLSN":\d+,"CommitTime":"[^"]*","TxIndex":\d+/, '')
    .replace(/,"Snapshot":true/, '');
}

/** The snapshot's events for one table: every chunk of `rows` rows, through the stream's byte path. */
async function snapshotEvents(table: SnapshotTable, rows: number): Promise<{ events: ChangeEvent[]; problems: string[] }> {
  const problems: string[] = [];
  const types = new TypeRegistry({ onProblem: (oid, value, why) => problems.push(`${oid} ${value}: ${why}`) });
  const dsn = loadDsn(dsnFor(db.pg.server, { database: sql.options.database }));
  const factory = new EventFactory(harness.name, dsn.eventHost, dsn.eventDatabase, types);
  factory.setIdentity(EventIdentity.of('7301234567890123456', 'parity'), '7301234567890123456/parity');
  const snapshot = factory.snapshotIdentity('initial', '2026-12-07T02:17:00.000Z');
  // As the dispatch does on a Relation: learn user-defined types; for FULL the key is the primary key.
  const unknown = [...new Set(table.relation.columns.map((c) => c.typeOid).filter((oid) => types.needsLookup(oid)))];
  if (unknown.length > 0) for (const row of await client.query(typeLookupSql(unknown))) types.define(parseTypeLookupRow(row));
  if (table.relation.replicaIdentity === 'f') factory.setKeyColumns(table.relationId, table.keyColumns);
  const relation = new RelationCache().setRelation(table.relation);
  const events: ChangeEvent[] = [];
  let after: string[] | undefined;
  for (let chunks = 0; ; chunks++) {
    expect(chunks).toBeLessThan(100);
    const chunk = await readChunk(conn, table, after, undefined, { rows, bytes: 16 * 2 ** 20 });
    const { data, starts, ends } = chunk.messages;
    for (let i = 0; i < chunk.rows; i++) {
      const event = factory.snapshotRow(data[i]!, starts[i]!, ends[i]!, relation, Number(chunk.walInsertLsn), performance.now(), snapshot);
      // Every row of these tables takes the byte path (the general path makes plain objects).
      if (Object.getPrototypeOf(event) === Object.prototype) throw new Error(`the byte path refused a row of ${table.qualified}`);
      // Each row's UUID comes from the snapshot and its key (docs/kafka.md, "Event identity (UUID)").
      expect(event.uuid).toBe(snapshot.uuid(rowKeyBytes(event)));
      events.push(event);
    }
    if (chunk.complete) break;
    after = chunk.lastKey;
  }
  return { events, problems };
}

describe('snapshot rows are the stream\'s rows', () => {
  test('the database name is the event\'s (the factory is built as the dispatch builds it)', () => {
    expect(harness.sink.events[0]!.database).toBe(sql.options.database);
  });

  for (const [name, qualified, chunkRows] of [['every type', 'public.golden', 2], ['REPLICA IDENTITY FULL, composite key', 'public.Full Table', 1]] as const) {
    test(`${name}: the relation equals pgoutput's Relation message`, () => {
      const table = tables.find((t) => t.qualified === qualified)!;
      expect(table.relation).toEqual(sent.relations.get(`${table.schema}.${table.name}`)!);
    });

    test(`${name}: event JSON and Kafka key byte for byte`, async () => {
      const table = tables.find((t) => t.qualified === qualified)!;
      const { events, problems } = await snapshotEvents(table, chunkRows);
      const live = harness.sink.of(table.name);
      expect(events.length).toBe(live.length);
      expect(live.length).toBeGreaterThan(3);
      const line = (e: ChangeEvent) => `${comparable(e)} key=${text.decode(rowKeyBytes(e))}`;
      expect(events.map(line).sort()).toEqual(live.map(line).sort());
      expect(events.every((e) => e.action === 'insert' && e.xid === undefined && e.commitLsn === undefined && e.txIndex === undefined)).toBe(true);
      expect(new Set(events.map((e) => e.uuid)).size).toBe(events.length);
      // The marker is the last key of a snapshot event, and only there.
      expect(events.every((e) => text.decode(passthroughBytes(e)).trimEnd().endsWith(',"Snapshot":true}'))).toBe(true);
      expect(live.some((e) => text.decode(passthroughBytes(e)).includes('"Snapshot"'))).toBe(false);
      expect(problems).toEqual([]);
    });
  }
});
