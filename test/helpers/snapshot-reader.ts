/**
 * For the snapshot reader's integration tests (test/integration/snapshot/): an SqlClient with the
 * source's own session settings, and the Relation messages the stream really sends for a workload
 * (pgoutput through a slot, peeked), to compare the reader's relations with.
 */
import type postgres from 'postgres';
import { loadDsn } from '../../src/pg/conninfo/dsn.ts';
import { PgConnection } from '../../src/pg/connection.ts';
import { SqlClient } from '../../src/pg/sql-client.ts';
import { decodePgoutput } from '../../src/pgoutput/decode.ts';
import type { Insert, Relation } from '../../src/pgoutput/messages.ts';
import { sourceConnectOptions } from '../../src/sources/postgres/create.ts';
import { readChunk, type ChunkRead } from '../../src/sources/postgres/snapshot/chunk-reader.ts';
import type { ChunkRows as DataRowRanges } from '../../src/sources/postgres/snapshot/data-rows.ts';
import { insertMessage } from '../../src/sources/postgres/data-row.ts';
import type { SnapshotTable } from '../../src/sources/postgres/snapshot/tables.ts';
import { dropSlot, uniqueName, type PgServer } from './pg.ts';
import { dsnFor, testSourceOptions } from './postgres-source.ts';

/** An ordinary session connected as a PostgreSQL source connects (same options and session settings). */
export function snapshotClient(server: PgServer, database?: string): Promise<SqlClient> {
  const options = testSourceOptions(server, 'snapshot-test', { slot: 'unused', publication: 'unused', dsn: dsnFor(server, { database }) });
  return SqlClient.connect(sourceConnectOptions(options, loadDsn(options.dsn)));
}

/** Our own protocol connection as a PostgreSQL source's snapshot reads chunks on it (chunk-reader.ts). */
export function snapshotConnection(server: PgServer, database?: string): Promise<PgConnection> {
  const options = testSourceOptions(server, 'snapshot-test', { slot: 'unused', publication: 'unused', dsn: dsnFor(server, { database }) });
  return PgConnection.connect({ ...sourceConnectOptions(options, loadDsn(options.dsn)), replication: undefined });
}

/** A chunk as readChunk reads it, its rows as the Insert messages a walsender would send, decoded: each row's values as text (null for NULL). */
export interface ChunkRows extends Omit<ChunkRead, 'messages' | 'rows'> {
  rows: (string | null)[][];
}

/** readChunk, with its rows decoded by the stream's pgoutput decoder (for tests that look at them). */
export async function readRows(
  conn: PgConnection, table: SnapshotTable, after: readonly string[] | undefined, where: string | undefined, limits: { rows: number; bytes: number },
): Promise<ChunkRows> {
  const { messages, ...read } = await readChunk(conn, table, after, where, limits);
  return { ...read, rows: insertRows(messages, table) };
}

/** The values of each row's Insert message (data-row.ts), decoded as the stream decodes an Insert. */
export function insertRows(messages: DataRowRanges, table: SnapshotTable): (string | null)[][] {
  const { data, starts, ends } = messages;
  return Array.from({ length: starts.length }, (_, i) => {
    const bytes = insertMessage(table.relationId, table.relation.columns.length, data[i]!, starts[i]!, ends[i]!);
    const message = decodePgoutput(bytes, { protoVersion: 1 }) as Insert;
    return message.newTuple.map((value) => {
      if (value !== null && typeof value !== 'string') throw new Error(`row ${i}: not a text value`);
      return value;
    });
  });
}

/** What pgoutput sent for a workload: the last Relation per `schema.table`, and the inserts. */
export interface Streamed {
  relations: Map<string, Relation>;
  inserts: Insert[];
}

/**
 * Runs `workload` with a fresh pgoutput slot watching `publications`, and returns what pgoutput
 * sends for it (pg_logical_slot_peek_binary_changes: each row is the message a walsender sends).
 */
export async function streamed(sql: postgres.Sql, publications: readonly string[], workload: string): Promise<Streamed> {
  const slot = uniqueName('snapslot');
  await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  try {
    await sql.unsafe(workload);
    const rows = await sql<{ data: string }[]>`
      SELECT encode(data, 'base64') AS data FROM pg_logical_slot_peek_binary_changes(${slot}, NULL, NULL,
        'proto_version', '1', 'publication_names', ${publications.map((p) => `"${p}"`).join(',')})`;
    const result: Streamed = { relations: new Map(), inserts: [] };
    for (const row of rows) {
      const message = decodePgoutput(Buffer.from(row.data, 'base64'), { protoVersion: 1 });
      if (message.tag === 'relation') result.relations.set(`${message.namespace}.${message.name}`, message);
      if (message.tag === 'insert') result.inserts.push(message);
    }
    return result;
  } finally {
    await dropSlot(sql, slot);
  }
}
