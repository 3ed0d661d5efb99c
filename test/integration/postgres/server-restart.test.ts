/**
 * PostgreSQL restarts under a running source (a cluster of this file's own, so the shared server
 * is not disturbed): the source reports the outage, reconnects by itself once the server is back,
 * and every row committed before, during the restart's shutdown, and after arrives.
 */
import { expect, test } from 'bun:test';
import type postgres from 'postgres';
import { dropSlot, pgClient, uniqueName } from '../../helpers/pg.ts';
import { startHarness, waitFor, type Harness } from '../../helpers/postgres-source.ts';
import { usePrivateCluster } from '../../helpers/private-cluster.ts';

let harness: Harness | undefined;
const own = usePrivateCluster({ beforeStop: () => harness?.shutdown() });

test('a PostgreSQL restart: unhealthy while it is down, reconnects by itself, nothing lost', async () => {
  const server = own.cluster.server;
  const t = uniqueName('t');
  const slot = uniqueName('slot');
  const publication = uniqueName('pub');
  let sql: postgres.Sql = pgClient(server, { max: 1 });
  await sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY); CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
  await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  harness = await startHarness(server, { slot, publication, source: { startRetryInterval: 100 } });
  const h = harness;
  await h.streaming();

  await sql.unsafe(`INSERT INTO ${t} SELECT i FROM generate_series(1, 1000) i`);
  await sql.end();
  // Watch status() through the restart (the outage lasts at least as long as the restart).
  const seen = new Set<string>();
  const watcher = setInterval(() => {
    const status = h.source.status();
    if (status !== null) seen.add(status);
  }, 5);
  try {
    await own.cluster.restart();
    await waitFor('the source to notice the restart', () => /replicaErrors: [1-9]/.test(h.source.stats()), 20_000, () => h.source.stats());
  } finally {
    clearInterval(watcher);
  }
  expect([...seen].some((status) => /closed by the server|refused|terminat|shut/i.test(status))).toBe(true);

  sql = pgClient(server, { max: 1 });
  try {
    await sql.unsafe(`INSERT INTO ${t} SELECT i FROM generate_series(1001, 2000) i`);
    await h.streaming(30_000);
    await h.sink.until('all 2000 rows', () => new Set(h.sink.of(t).map((e) => e.columns.id)).size === 2000, 30_000);
    const ids = h.sink.of(t).map((e) => e.columns.id as number);
    // First occurrences in commit order; a transaction re-sent after the reconnect comes whole.
    const first = ids.filter((id, i) => ids.indexOf(id) === i);
    expect(first).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    await h.shutdown();
    await dropSlot(sql, slot);
  } finally {
    await sql.end();
  }
}, 90_000);
