/**
 * A server with wal_level = replica: a throwaway cluster of its own (scripts/pg start --private,
 * then ALTER SYSTEM SET wal_level = replica and a restart), so the shared test server keeps
 * wal_level = logical. The source must say to set wal_level = logical, and keep retrying.
 */
import { expect, test } from 'bun:test';
import { pgClient, uniqueName } from '../../helpers/pg.ts';
import { startHarness, waitFor, type Harness } from '../../helpers/postgres-source.ts';
import { usePrivateCluster } from '../../helpers/private-cluster.ts';

let harness: Harness | undefined;
const own = usePrivateCluster({ settings: ['wal_level = replica'], apply: 'restart', beforeStop: () => harness?.shutdown() });

test('wal_level = replica: the status says to set wal_level = logical, and the source keeps retrying', async () => {
  const server = own.cluster.server;
  const sql = pgClient(server, { max: 1 });
  try {
    const [row] = await sql<{ wal_level: string }[]>`SHOW wal_level`;
    expect(row!.wal_level).toBe('replica');
  } finally {
    await sql.end();
  }
  harness = await startHarness(server, { slot: uniqueName('slot'), publication: 'unused', source: { startRetryInterval: 50 } });
  const h = harness;
  await waitFor('a wal_level status after two attempts', () => /wal_level/.test(h.source.status() ?? '') && /replicaErrors: [2-9]/.test(h.source.stats()), 20_000,
    () => `status: ${h.source.status()}; ${h.source.stats()}`);
  const status = h.source.status()!;
  expect(status).toContain('"replica"');
  expect(status).toContain('wal_level = logical');
}, 60_000);
