/**
 * Throwaway PostgreSQL for integration tests. `usePostgres()` in a test file gives it a server:
 * the one scripts/test started (named by PSQL_STREAMER_PG_URL and friends), or else one started
 * here with `scripts/pg start --private` and stopped after the last test file using it.
 * Nothing starts until a hook runs, so importing this module from unit tests costs nothing.
 */
import { afterAll, beforeAll, test } from 'bun:test';
import { join } from 'node:path';
import postgres from 'postgres';
import { repoRoot, required, runScript, SharedServer } from './env.ts'

/** A login of one of the cluster's password users. */
export interface PgCredentials {
  user: string;
  password: string;
}

/** Where the throwaway cluster is and who may log in (see scripts/pg). */
export interface PgServer {
  host: string;
  port: number
  /** Superuser with REPLICATION, trusted on loopback and the socket. */
  user: string;
  database: string
  /** postgres://user@host:port/database of the superuser. */
  url: string
  /** Directory of the cluster's unix socket. */
  socketDir: string
  /** The cluster's temp dir (data/, postgres.log, ...). */
  dir: string
  /** Directory of pg_ctl, psql, pg_recvlogical of the running server's version. */
  binDir: string
  /** PEM of the server's self-signed certificate, or undefined when TLS is off. */
  sslCertFile: string | undefined
  /** Password users: scram (scram-sha-256), md5 (md5 hash), clear (`password` method), tls (scram, TLS only). */
  users: { scram: PgCredentials; md5: PgCredentials; clear: PgCredentials; tls: PgCredentials }
}

/** Builds a PgServer from the variables scripts/pg prints (or scripts/test exports). */
export function pgServerFromEnv(vars: Record<string, string | undefined>): PgServer {
  const login = (kind: string): PgCredentials => ({
    user: required(vars, `PSQL_STREAMER_PG_${kind}_USER`),
    password: required(vars, `PSQL_STREAMER_PG_${kind}_PASSWORD`),
  });
  return {
    host: required(vars, 'PGHOST'),
    port: Number(required(vars, 'PGPORT')),
    user: required(vars, 'PGUSER'),
    database: required(vars, 'PGDATABASE'),
    url: required(vars, 'PSQL_STREAMER_PG_URL'),
    socketDir: required(vars, 'PSQL_STREAMER_PG_SOCKET'),
    dir: required(vars, 'PSQL_STREAMER_PG_DIR'),
    binDir: required(vars, 'PSQL_STREAMER_PG_BIN'),
    sslCertFile: vars.PSQL_STREAMER_PG_SSL_CERT || undefined,
    users: { scram: login('SCRAM'), md5: login('MD5'), clear: login('CLEAR'), tls: login('TLS') },
  }
}

const shared = new SharedServer<PgServer>(async () => {
  if (process.env.PSQL_STREAMER_PG_URL) return { server: pgServerFromEnv(process.env) }
  const vars = await runScript('pg', ['start', '--private']);
  const server = pgServerFromEnv(vars);
  return { server, stop: async () => void (await runScript('pg', ['stop', '--dir', server.dir])) }
});

let major: number | undefined

/**
 * Major version of the PostgreSQL that usePostgres() gives (`scripts/pg version`: the binaries of
 * PSQL_STREAMER_PG_BIN, which scripts/test sets per version, else the default). Known when a file
 * loads, so version-dependent tests can be registered as skipped (see testSince).
 */
export function serverMajor(): number {
  if (major !== undefined) return major
  const result = Bun.spawnSync([join(repoRoot, 'scripts', 'pg'), 'version'], { stdin: 'ignore', stderr: 'inherit' });
  const parsed = Number(result.stdout.toString().trim());
  if (result.exitCode !== 0 || !Number.isInteger(parsed)) throw new Error(`scripts/pg version failed (exit ${result.exitCode}): ${result.stdout}`)
  major = parsed;
  return major;
}

/**
 * `test` when the server is PostgreSQL `since` or newer; otherwise `test.skip` with the reason in
 * the test's name, so the skip shows in bun's output and counts as skipped in the JUnit report.
 */
export function testSince(since: number, feature: string): (name: string, fn: () => unknown, timeout?: number) => void {
  if (serverMajor() >= since) return (name, fn, timeout) => test(name, fn as () => Promise<void>, timeout)
  return (name, fn, timeout) => skipTest(name, `${feature}: needs PostgreSQL ${since}+`, fn, timeout);
}

/** A skipped test whose name says why (shows in bun's output and the JUnit report). */
export function skipTest(name: string, reason: string, fn: () => unknown = () => {}, timeout?: number): void {
  test.skip(`${name} [skipped: ${reason}; the server is PostgreSQL ${serverMajor()}]`, fn as () => Promise<void>, timeout);
}

/** Options for pgClient: the `postgres` package's options (user, password, database, ...). */
export type PgClientOptions = postgres.Options<Record<string, postgres.PostgresType>>

/** An SQL client (`postgres` package) for the server; as the superuser unless options say otherwise. */
export function pgClient(server: PgServer, options: PgClientOptions = {}): postgres.Sql {
  return postgres({
    host: server.host,
    port: server.port,
    user: server.user,
    database: server.database,
    max: 4,
    idle_timeout: 5,
    connect_timeout: 10,
    onnotice: () => {},
    ...options,
  });
}

let counter = 0

/**
 * A name for a database object that no other test (or concurrent test run) uses: a lowercase
 * identifier that needs no quoting, at most 63 bytes, e.g. uniqueName('slot') → 'slot_m3x9k2_1_q7c4'.
 */
export function uniqueName(prefix = 'test'): string {
  counter += 1;
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^([^a-z_])/, '_$1').slice(0, 32);
  const random = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `${clean}_${Date.now().toString(36)}_${counter}_${random}`;
}

/**
 * Drops a replication slot, first ending the walsender that may still hold it (a client that just
 * disconnected can keep it active for a moment). A missing slot is not an error.
 */
export async function dropSlot(sql: postgres.Sql, slot: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ active_pid: number | null }[]>`
      select active_pid from pg_replication_slots where slot_name = ${slot}`;
    if (row === undefined) return
    if (row.active_pid !== null) {
      await sql`select pg_terminate_backend(${row.active_pid})`;
    } else {
      try {
        await sql`select pg_drop_replication_slot(${slot})`;
        return
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === '42704') return // undefined_object: dropped meanwhile
        if (code !== '55006') throw error // object_in_use: a walsender took it again; retry
      }
    }
    if (Date.now() > deadline) throw new Error(`replication slot ${slot} is still active after ${timeoutMs} ms`)
    await Bun.sleep(50);
  }
}

/** Creates table, publication and slot (before any data, so everything committed later is in the slot). */
export async function createStream(sql: postgres.Sql, prefix: string, columns: string): Promise<{ table: string; publication: string; slot: string; slotStart: bigint }> {
  const table = uniqueName(`${prefix}_t`);
  const publication = uniqueName(`${prefix}_pub`);
  const slot = uniqueName(`${prefix}_slot`);
  await sql.unsafe(`create table ${table} (${columns})`);
  await sql.unsafe(`create publication ${publication} for table ${table}`);
  const [row] = await sql<{ lsn: string }[]>`
    select (lsn - '0/0')::text as lsn from pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  return { table, publication, slot, slotStart: BigInt(row?.lsn ?? 0) };
}

/** What usePostgres gives a test file. */
export interface PgFixture {
  /** The server; available inside hooks and tests (after usePostgres's beforeAll ran). */
  readonly server: PgServer
  /** A new SQL client, closed after the file's tests. */
  sql(options?: PgClientOptions): postgres.Sql
  /** Creates an empty database with a unique name, dropped after the file's tests; returns its name. */
  createDatabase(prefix?: string): Promise<string>
}

/**
 * Registers beforeAll/afterAll hooks that provide the throwaway PostgreSQL to this test file.
 * Call it at the top of the file (or of a describe) before hooks that use it.
 */
export function usePostgres(): PgFixture {
  let server: PgServer | undefined;
  const clients: postgres.Sql[] = [];
  const databases: string[] = [];

  beforeAll(async () => {
    server = await shared.acquire();
  }, 120_000);

  afterAll(async () => {
    if (server === undefined) return
    await Promise.all(clients.splice(0).map((client) => client.end({ timeout: 5 })));
    if (databases.length > 0) {
      const admin = pgClient(server, { max: 1 });
      try {
        for (const name of databases.splice(0)) await admin`drop database if exists ${admin(name)} with (force)`
      } finally {
        await admin.end({ timeout: 5 });
      }
    }
    server = undefined;
    await shared.release();
  }, 60_000);

  const fixture: PgFixture = {
    get server(): PgServer {
      if (server === undefined) throw new Error('usePostgres(): the server exists only inside hooks and tests')
      return server;
    },
    sql(options = {}) {
      const client = pgClient(fixture.server, options);
      clients.push(client);
      return client;
    },
    async createDatabase(prefix = 'db') {
      const name = uniqueName(prefix);
      const admin = pgClient(fixture.server, { max: 1 });
      try {
        await admin`create database ${admin(name)}`;
      } finally {
        await admin.end({ timeout: 5 });
      }
      databases.push(name);
      return name;
    },
  };
  return fixture;
}
