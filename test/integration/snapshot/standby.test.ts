/**
 * Snapshots of a source that decodes from a standby (PostgreSQL 16+): the tables resolve from the
 * standby's catalog and a chunk reads there, its position being the WAL replayed so far. (The
 * read itself works on a standby of any version; only 16+ can be a source's server.)
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type postgres from 'postgres';
import type { PgConnection } from '../../../src/pg/connection.ts';
import type { SqlClient } from '../../../src/pg/sql-client.ts';
import { parseLsn } from '../../../src/replication/lsn.ts';
import { readChunk } from '../../../src/sources/postgres/snapshot/chunk-reader.ts';
import { resolveSnapshotTables } from '../../../src/sources/postgres/snapshot/tables.ts';
import { pgClient, uniqueName } from '../../helpers/pg.ts';
import { startPrivateCluster, type PrivateCluster } from '../../helpers/postgres-source.ts';
import { snapshotClient, snapshotConnection } from '../../helpers/snapshot-reader.ts';
import { startStandby, waitForReplay, type Standby } from '../../helpers/standby.ts';

let primary: PrivateCluster | undefined;
let standby: Standby | undefined;
let primarySql: postgres.Sql;
let standbySql: postgres.Sql;
let client: SqlClient | undefined;
let conn: PgConnection | undefined;

beforeAll(async () => {
  primary = await startPrivateCluster();
  standby = await startStandby(primary);
  primarySql = pgClient(primary.server, { max: 1 });
  standbySql = pgClient(standby.server, { max: 1 });
}, 180_000);

afterAll(async () => {
  await client?.close();
  await conn?.close();
  await primarySql?.end({ timeout: 5 });
  await standbySql?.end({ timeout: 5 });
  await standby?.stop();
  await primary?.stop();
}, 120_000);

test('a chunk read on a standby: the replayed position, the replayed rows', async () => {
  const table = uniqueName('standby_t');
  const pub = uniqueName('pub');
  await primarySql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, v text); INSERT INTO ${table} SELECT g, 'v' || g FROM generate_series(1, 50) g;
    CREATE PUBLICATION ${pub} FOR TABLE ${table}`);
  await waitForReplay(primarySql, standbySql);
  client = await snapshotClient(standby!.server);
  const [shape] = (await resolveSnapshotTables(client, [pub], [table])).tables;
  const [before] = await standbySql<{ lsn: string }[]>`SELECT pg_last_wal_replay_lsn()::text AS lsn`;
  conn = await snapshotConnection(standby!.server);
  const chunk = await readChunk(conn, shape!, ['10'], undefined, { rows: 100, bytes: 1 << 20 });
  expect([chunk.rows, chunk.complete, chunk.lastKey]).toEqual([40, true, ['50']]);
  expect(chunk.walInsertLsn).toBeGreaterThanOrEqual(parseLsn(before!.lsn));
  expect(chunk.snapshot).toMatch(/^\d+:\d+:/);
}, 120_000);
