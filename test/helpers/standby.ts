/**
 * A physical standby of a private cluster (`scripts/pg standby`: a cold copy of the primary that
 * streams from it through a physical slot, hot_standby_feedback on; on PostgreSQL 17+ also
 * sync_replication_slots on the standby and synchronized_standby_slots on the primary), and the
 * operations failover tests need: promote, stop the primary abruptly, wait for replay.
 */
import type postgres from 'postgres';
import { join } from 'node:path';
import { runScript } from './env.ts';
import { pgServerFromEnv, type PgServer } from './pg.ts';
import { asOwner, waitFor, type PrivateCluster } from './postgres-source.ts';

export interface Standby {
  server: PgServer;
  /** pg_ctl promote, waiting until the server accepts writes. */
  promote(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a standby of `primary` (the primary restarts once, briefly, for the copy). */
export async function startStandby(primary: PrivateCluster): Promise<Standby> {
  const server = pgServerFromEnv(await runScript('pg', ['standby', '--dir', primary.server.dir]));
  return {
    server,
    promote: () => asOwner([join(server.binDir, 'pg_ctl'), '-D', join(server.dir, 'data'), '-w', '-t', '60', 'promote']),
    stop: async () => void (await runScript('pg', ['stop', '--dir', server.dir])),
  };
}

/** Stops a cluster the way a crash would (pg_ctl stop -m immediate): no shutdown checkpoint. */
export async function crash(cluster: { server: PgServer }): Promise<void> {
  await asOwner([join(cluster.server.binDir, 'pg_ctl'), '-D', join(cluster.server.dir, 'data'), '-m', 'immediate', '-w', '-t', '60', 'stop']);
}

/** Waits until the standby has replayed everything the primary has written so far. */
export async function waitForReplay(primary: postgres.Sql, standby: postgres.Sql, timeoutMs = 60_000): Promise<void> {
  const [{ lsn } = { lsn: '' }] = await primary<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
  let replayed = '';
  await waitFor('the standby to replay the primary\'s WAL', async () => {
    const [row] = await standby<{ caught_up: boolean; replayed: string }[]>`
      SELECT pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn AS caught_up, pg_last_wal_replay_lsn()::text AS replayed`;
    replayed = row?.replayed ?? '';
    return row?.caught_up === true;
  }, timeoutMs, () => `standby replayed ${replayed}, primary wrote ${lsn}`);
}
