/**
 * A private PostgreSQL cluster for one test file (startPrivateCluster), set up with ALTER SYSTEM
 * before its tests and stopped after them: for tests that need a server configured differently
 * from the shared one, or one they may restart (docs/testing.md).
 */
import { afterAll, beforeAll } from 'bun:test';
import { pgClient } from './pg.ts';
import { startPrivateCluster, type PrivateCluster } from './postgres-source.ts';

export interface PrivateClusterOptions {
  /** `ALTER SYSTEM SET` arguments, e.g. `wal_level = replica`. */
  settings?: readonly string[];
  /** How the settings take effect: a reload (default) or a restart. */
  apply?: 'reload' | 'restart';
  /** Runs after the file's tests, before the cluster stops (e.g. shutting down a source using it). */
  beforeStop?: () => unknown;
}

/** Registers beforeAll/afterAll hooks; `cluster` exists inside hooks and tests. */
export function usePrivateCluster(options: PrivateClusterOptions = {}): { readonly cluster: PrivateCluster } {
  let cluster: PrivateCluster | undefined;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
    const settings = options.settings ?? [];
    if (settings.length === 0) return;
    const sql = pgClient(cluster.server, { max: 1 });
    try {
      for (const setting of settings) await sql.unsafe(`ALTER SYSTEM SET ${setting}`);
      if (options.apply !== 'restart') await sql`SELECT pg_reload_conf()`;
    } finally {
      await sql.end();
    }
    if (options.apply === 'restart') await cluster.restart();
  }, 120_000);
  afterAll(async () => {
    await options.beforeStop?.();
    await cluster?.stop();
  }, 60_000);
  return {
    get cluster(): PrivateCluster {
      if (cluster === undefined) throw new Error('usePrivateCluster(): the cluster exists only inside hooks and tests');
      return cluster;
    },
  };
}
