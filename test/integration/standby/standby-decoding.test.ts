/**
 * Logical decoding from a physical standby (PostgreSQL 16+; docs/operations.md, "Failover and
 * standbys"): the source connects to a hot standby of a PostgreSQL 16 primary, creates its slot
 * there, and rows written on the primary arrive through the standby. Runs on PostgreSQL 16
 * whatever the suite's default server is.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import type postgres from 'postgres';
import { captureLogs } from '../../helpers/capture-logs.ts';
import { dropSlot, pgClient, uniqueName } from '../../helpers/pg.ts';
import { startHarness, startPrivateCluster, waitFor, type Harness, type PrivateCluster } from '../../helpers/postgres-source.ts';
import { startStandby, type Standby } from '../../helpers/standby.ts';

const VERSION = 16;
const logs = captureLogs();
let primary: PrivateCluster | undefined;
let standby: Standby | undefined;
let harness: Harness | undefined;
const clients: postgres.Sql[] = [];

beforeAll(async () => {
  primary = await startPrivateCluster(VERSION);
  standby = await startStandby(primary);
}, 180_000);

afterAll(async () => {
  await harness?.shutdown().catch(() => {});
  await Promise.all(clients.map((c) => c.end({ timeout: 5 }).catch(() => {})));
  await standby?.stop();
  await primary?.stop();
}, 60_000);

test(`PostgreSQL ${VERSION}: the source streams from a standby; writes on the primary arrive through it`, async () => {
  const onPrimary = pgClient(primary!.server, { max: 1 });
  const onStandby = pgClient(standby!.server, { max: 1 });
  clients.push(onPrimary, onStandby);
  const t = uniqueName('t');
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  await onPrimary.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, note text); CREATE PUBLICATION ${publication} FOR TABLE ${t}`);

  harness = await startHarness(standby!.server, { slot, publication });
  const h = harness;
  // Creating a slot on a standby waits for a running-transactions record from the primary:
  // pg_log_standby_snapshot() writes one now instead of at the next checkpoint.
  await waitFor('the source to stream from the standby', async () => {
    await onPrimary`SELECT pg_log_standby_snapshot()`;
    return h.source.status() === null;
  }, 90_000, () => `status: ${h.source.status()}`);

  const [onStandbySlot] = await onStandby<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = ${slot}`;
  const [onPrimarySlot] = await onPrimary<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = ${slot}`;
  expect([onStandbySlot!.n, onPrimarySlot!.n]).toEqual([1, 0]);
  expect(logs.some((line) => line.includes(`Replication slot "${slot}" is not a failover slot (the server has none before PostgreSQL 17)`))).toBe(true);

  for (let i = 0; i < 5; i++) await onPrimary.unsafe(`INSERT INTO ${t} SELECT g, 'row ' || g FROM generate_series(${i * 20 + 1}, ${i * 20 + 20}) g`);
  await onPrimary.unsafe(`UPDATE ${t} SET note = 'changed' WHERE id = 7`);
  await onPrimary.unsafe(`DELETE FROM ${t} WHERE id = 8`);
  await h.sink.until('100 inserts, an update and a delete', () => h.sink.of(t).length >= 102, 60_000);
  const events = h.sink.of(t);
  expect(events.filter((e) => e.action === 'insert').map((e) => e.columns.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(events.slice(100).map((e) => [e.action, e.columns.id, e.columns.note])).toEqual([['update', 7, 'changed'], ['delete', 8, null]]);

  // The standby's slot confirms what was delivered.
  await waitFor('the standby slot to confirm', async () => {
    const [row] = await onStandby<{ confirmed: string | null }[]>`SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = ${slot}`;
    return row?.confirmed !== null && row?.confirmed !== undefined && row.confirmed !== '0/0' && h.persisted() > 0n;
  }, 30_000);
  await h.shutdown();
  await dropSlot(onStandby, slot);
}, 300_000);
