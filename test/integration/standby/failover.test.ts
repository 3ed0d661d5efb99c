/**
 * Failover with a PostgreSQL 17 failover slot (docs/operations.md, "Failover and standbys"): a
 * primary and a physical standby with sync_replication_slots (scripts/pg standby). The source
 * creates its slot with FAILOVER, the slot is synchronised to the standby, the primary dies, the
 * standby is promoted, and the source — same state file, same slot name — resumes there: every row
 * committed before and after arrives. Runs on PostgreSQL 17 whatever the suite's default server is.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type postgres from 'postgres';
import { openSqliteStateStore } from '../../../src/state/sqlite-store.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { dropSlot, pgClient, uniqueName } from '../../helpers/pg.ts';
import { startHarness, startPrivateCluster, waitFor, type Harness, type PrivateCluster } from '../../helpers/postgres-source.ts';
import { crash, startStandby, waitForReplay, type Standby } from '../../helpers/standby.ts';

const VERSION = 17;
const logs = captureLogs();
let primary: PrivateCluster | undefined;
let standby: Standby | undefined;
const harnesses: Harness[] = [];
const clients: postgres.Sql[] = [];
const stateDir = mkdtempSync(join(tmpdir(), 'psql-streamer-failover-'));

beforeAll(async () => {
  primary = await startPrivateCluster(VERSION);
  standby = await startStandby(primary);
}, 180_000);

afterAll(async () => {
  for (const h of harnesses) await h.shutdown().catch(() => {});
  await Promise.all(clients.map((c) => c.end({ timeout: 5 }).catch(() => {})));
  await standby?.stop();
  await primary?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

function client(server: Parameters<typeof pgClient>[0]): postgres.Sql {
  const sql = pgClient(server, { max: 1 });
  clients.push(sql);
  return sql;
}

interface SlotRow {
  failover: boolean;
  synced: boolean;
  /** A synced slot stays temporary (dropped at promotion) until the standby can use it safely. */
  temporary: boolean;
  confirmed: string | null;
}

async function slotRow(sql: postgres.Sql, slot: string): Promise<SlotRow | undefined> {
  const [row] = await sql<SlotRow[]>`
    SELECT failover, synced, temporary, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = ${slot}`;
  return row;
}

test('failoverSlot = false: the slot is created as before, without failover', async () => {
  const onPrimary = client(primary!.server);
  const t = uniqueName('t');
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  await onPrimary.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY); CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
  const h = await startHarness(primary!.server, { slot, publication, source: { failoverSlot: false } });
  harnesses.push(h);
  await h.streaming(60_000);
  expect(await slotRow(onPrimary, slot)).toMatchObject({ failover: false });
  expect(logs.some((line) => line.includes(`Created replication slot "${slot}" (pgoutput)`))).toBe(true);
  await h.shutdown();
  await dropSlot(onPrimary, slot);
}, 120_000);

test(`PostgreSQL ${VERSION}: failover slot synchronised to the standby; after promotion the source resumes there, nothing lost`, async () => {
  const onPrimary = client(primary!.server);
  const onStandby = client(standby!.server);
  const t = uniqueName('t');
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  const name = uniqueName('src');
  const stateFile = join(stateDir, 'state.db');
  await onPrimary.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY); CREATE PUBLICATION ${publication} FOR TABLE ${t}`);

  // The source creates the slot itself, with failover (the default).
  const store1 = openSqliteStateStore(stateFile);
  const h1 = await startHarness(primary!.server, { name, slot, publication, store: store1 });
  harnesses.push(h1);
  await h1.streaming(60_000);
  expect(await slotRow(onPrimary, slot)).toMatchObject({ failover: true, synced: false });
  expect(logs.some((line) => line.includes(`Created replication slot "${slot}" (pgoutput, failover)`))).toBe(true);
  expect(logs.some((line) => line.includes(`Replication slot "${slot}" is a failover slot`))).toBe(true);

  for (let i = 0; i < 10; i++) await onPrimary.unsafe(`INSERT INTO ${t} SELECT g FROM generate_series(${i * 10 + 1}, ${i * 10 + 10}) g`);
  await h1.sink.until('rows 1..100', () => h1.sink.of(t).length >= 100, 60_000);

  // The slot sync worker first copies the slot as a temporary one, made permanent ("sync-ready")
  // once the standby has WAL and catalog rows as old as the slot needs; a standby snapshot from
  // the primary makes that happen now instead of at the next checkpoint.
  let seen: SlotRow | undefined;
  await waitFor('the slot to be synchronised to the standby (synced, not temporary)', async () => {
    await onPrimary`SELECT pg_log_standby_snapshot()`;
    seen = await slotRow(onStandby, slot);
    return seen?.synced === true && !seen.temporary;
  }, 90_000, () => `standby's slot: ${JSON.stringify(seen)}`);
  expect(seen).toMatchObject({ failover: true, synced: true, temporary: false });

  // More rows, delivered by the source on the primary; then the source stops and the primary dies
  // once the standby has everything it wrote.
  await onPrimary.unsafe(`INSERT INTO ${t} SELECT g FROM generate_series(101, 150) g`);
  await h1.sink.until('rows up to 150', () => h1.sink.of(t).length >= 150, 60_000);
  await h1.shutdown();
  store1.close();
  await waitForReplay(onPrimary, onStandby);
  await onPrimary.end({ timeout: 5 });
  await crash(primary!);
  await standby!.promote();

  // Same state file, same source name and slot: streams from the promoted standby's synced slot.
  const store2 = openSqliteStateStore(stateFile);
  const h2 = await startHarness(standby!.server, { name, slot, publication, store: store2 });
  harnesses.push(h2);
  await h2.streaming(60_000);
  expect(logs.some((line) => line.includes(`Replication slot "${slot}" is a failover slot`) && line.includes('synced = true'))).toBe(true);
  await onStandby.unsafe(`INSERT INTO ${t} SELECT g FROM generate_series(151, 200) g`);
  await h2.sink.until('rows 151..200', () => h2.sink.of(t).some((e) => e.columns.id === 200), 60_000);

  const before = h1.sink.of(t).map((e) => e.columns.id as number);
  const after = h2.sink.of(t).map((e) => e.columns.id as number);
  const all = new Set([...before, ...after]);
  expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  // Nothing delivered twice except what may have been in flight at the switch (re-sent whole).
  expect(after.filter((id) => id <= 150).every((id) => id > 100)).toBe(true);
  expect(after.filter((id) => id > 150)).toEqual(Array.from({ length: 50 }, (_, i) => i + 151));
  // The slot on the promoted server is the synchronised one, and it moved on.
  await waitFor('the slot to confirm the new rows', async () => (await slotRow(onStandby, slot))?.confirmed !== seen?.confirmed, 30_000);
  expect(await slotRow(onStandby, slot)).toMatchObject({ failover: true, synced: true });
  await h2.shutdown();
  store2.close();
}, 300_000);
