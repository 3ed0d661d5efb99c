/**
 * A server with wal_level = replica: a throwaway cluster of its own (scripts/pg start --private,
 * then ALTER SYSTEM SET wal_level = replica and a restart), so the shared test server keeps
 * wal_level = logical. The source must say to set wal_level = logical, and keep retrying.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { Logger } from '../../../src/core/logger.ts';
import { runScript } from '../../helpers/env.ts';
import { pgClient, pgServerFromEnv, uniqueName, type PgServer } from '../../helpers/pg.ts';
import { dsnFor, startHarness, waitFor, type Harness } from '../../helpers/postgres-source.ts';

let server: PgServer | undefined;
let harness: Harness | undefined;

/** Runs a server binary as the cluster's owner (postgres when we are root, as scripts/pg does). */
async function asOwner(command: string[]): Promise<void> {
  const argv = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...command] : command;
  const child = Bun.spawn(argv, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}: ${stderr}`);
}

beforeAll(async () => {
  server = pgServerFromEnv(await runScript('pg', ['start', '--private']));
  const sql = pgClient(server, { max: 1 });
  try {
    await sql`ALTER SYSTEM SET wal_level = replica`;
  } finally {
    await sql.end();
  }
  const data = join(server.dir, 'data');
  await asOwner([join(server.binDir, 'pg_ctl'), '-D', data, '-l', join(server.dir, 'postgres.log'), '-w', '-t', '60', 'restart']);
}, 120_000);

afterAll(async () => {
  await harness?.shutdown();
  if (server) await runScript('pg', ['stop', '--dir', server.dir]);
}, 60_000);

test('wal_level = replica: the status says to set wal_level = logical, and the source keeps retrying', async () => {
  const sql = pgClient(server!, { max: 1 });
  try {
    const [row] = await sql<{ wal_level: string }[]>`SHOW wal_level`;
    expect(row!.wal_level).toBe('replica');
  } finally {
    await sql.end();
  }
  const name = uniqueName('src');
  harness = await startHarness(server!, {
    name,
    slot: uniqueName('slot'),
    publication: 'unused',
    dsn: dsnFor(server!),
    source: { startRetryInterval: 50 },
    log: Logger.for('Source-PSQL', name),
  });
  const h = harness;
  await waitFor('a wal_level status after two attempts', () => /wal_level/.test(h.source.status() ?? '') && /replicaErrors: [2-9]/.test(h.source.stats()), 20_000,
    () => `status: ${h.source.status()}; ${h.source.stats()}`);
  const status = h.source.status()!;
  expect(status).toContain('"replica"');
  expect(status).toContain('wal_level = logical');
}, 60_000);
