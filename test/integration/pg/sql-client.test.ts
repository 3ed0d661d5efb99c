/**
 * SqlClient (postgres.js over our transport) against the throwaway PostgreSQL: every sslmode with
 * the hostssl-only user, verify-ca/verify-full with the cluster's certificate, the scram, md5 and
 * cleartext users, the password file and PG* variables through dsn.ts, the unix socket, session
 * parameters, text values, bound parameters, and errors in the shapes callers rely on.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dsnSystemEnvironment } from '../../../src/pg/conninfo/environment.ts';
import { loadDsn, resolveDsn } from '../../../src/pg/conninfo/dsn.ts';
import { PgConnectError, PgError } from '../../../src/pg/errors.ts';
import type { ConnectOptions } from '../../../src/pg/options.ts';
import { SqlClient } from '../../../src/pg/sql-client.ts';
import { SESSION_PARAMS } from '../../../src/sources/postgres/source.ts';
import { pgClient, uniqueName, usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();
const dir = mkdtempSync(join(tmpdir(), 'pg-sql-client-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function login(kind: 'scram' | 'md5' | 'clear' | 'tls', overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  const { user, password } = pg.server.users[kind];
  return { host: pg.server.host, port: pg.server.port, user, password, database: pg.server.database, sslmode: 'disable', connectTimeoutMs: 10_000, ...overrides };
}

function certificate(): string {
  const file = pg.server.sslCertFile;
  if (file === undefined) throw new Error('the test server runs without TLS (no openssl?); these tests need it');
  return file;
}

async function withClient<T>(options: ConnectOptions, use: (client: SqlClient) => Promise<T>): Promise<T> {
  const client = await SqlClient.connect(options);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** Who the server thinks we are, and whether it sees TLS. */
const whoAmI = (options: ConnectOptions) =>
  withClient(options, async (client) => {
    const [row] = await client.query('SELECT current_user, coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)::text');
    return { user: row![0], ssl: row![1] };
  });

const failure = (options: ConnectOptions) => SqlClient.connect(options).then((c) => c.close().then(() => new Error('connected')), (e: Error) => e);

describe('sslmode (the hostssl-only user)', () => {
  test.each(['require', 'prefer', 'allow'] as const)('%s: logs in over TLS', async (sslmode) => {
    certificate();
    expect(await whoAmI(login('tls', { sslmode }))).toEqual({ user: pg.server.users.tls.user, ssl: 'true' });
  });

  test('disable: refused by pg_hba.conf, as a PgError naming the target', async () => {
    const err = (await failure(login('tls', { sslmode: 'disable' }))) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('28000');
    expect(err.message).toStartWith(`connection to ${pg.server.host}:${pg.server.port} failed: `);
  });

  test('verify-full with the cluster certificate and the host name it names', async () => {
    expect((await whoAmI(login('tls', { sslmode: 'verify-full', host: 'localhost', hostaddr: '127.0.0.1', sslrootcert: certificate() }))).ssl).toBe('true');
  });

  test('verify-full with a wrong host name fails as a TLS error, not retryable', async () => {
    const err = (await failure(login('tls', { sslmode: 'verify-full', host: 'wrong.example', hostaddr: '127.0.0.1', sslrootcert: certificate() }))) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect([err.kind, err.retryable]).toEqual(['tls', false]);
    expect(err.message).toContain('wrong.example');
  });

  test('verify-ca checks the chain only, so any host name will do', async () => {
    expect((await whoAmI(login('tls', { sslmode: 'verify-ca', host: 'wrong.example', hostaddr: '127.0.0.1', sslrootcert: certificate() }))).ssl).toBe('true');
  });

  test('verify-ca against roots that did not sign the certificate fails', async () => {
    const err = (await failure(login('tls', { sslmode: 'verify-ca', sslrootcert: 'system' }))) as PgConnectError;
    expect([err.name, err.kind]).toEqual(['PgConnectError', 'tls']);
  });

  test('a missing root certificate file is named', async () => {
    const err = (await failure(login('tls', { sslmode: 'verify-full', sslrootcert: join(dir, 'nope.crt') }))) as PgConnectError;
    expect(err.kind).toBe('config');
    expect(err.message).toContain('nope.crt');
  });
});

describe.each(['scram', 'md5', 'clear'] as const)('%s user', (kind) => {
  test('the right password logs in', async () => {
    expect((await whoAmI(login(kind))).user).toBe(pg.server.users[kind].user);
  });

  test('a wrong password: 28P01, the server\'s message, never the password', async () => {
    const err = (await failure(login(kind, { password: 'wrong-password' }))) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('28P01');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`connection to ${pg.server.host}:${pg.server.port} failed: password authentication failed for user "${pg.server.users[kind].user}"`);
  });

  test('no password: says where one could come from', async () => {
    const err = (await failure(login(kind, { password: undefined }))) as PgConnectError;
    expect([err.name, err.kind, err.retryable]).toEqual(['PgConnectError', 'auth', false]);
    expect(err.message).toContain('the server asks for a password but none is set');
  });
});

test('SCRAM with a password SASLprep changes (a ligature, a no-break space): prepared as PostgreSQL does', async () => {
  const admin = pgClient(pg.server);
  const role = uniqueName('nfkc');
  const password = 'ﬁ\u00A0secret';
  try {
    await admin.unsafe(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    expect((await whoAmI({ ...login('scram'), user: role, password })).user).toBe(role);
  } finally {
    await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  }
});

describe('connection strings through dsn.ts', () => {
  test('the password from a 0600 password file', async () => {
    const { host, port, database, users } = pg.server;
    const file = join(dir, 'pgpass');
    writeFileSync(file, `${host}:${port}:${database}:${users.scram.user}:${users.scram.password}\n`);
    chmodSync(file, 0o600);
    const resolved = loadDsn(`host=${host} port=${port} dbname=${database} user=${users.scram.user} sslmode=require passfile=${file}`);
    expect(await whoAmI({ ...resolved.options, connectTimeoutMs: 10_000 })).toEqual({ user: users.scram.user, ssl: 'true' });
  });

  test('PG* variables fill what the string leaves out; PGTARGETSESSIONATTRS does not override the string', async () => {
    const { host, port, database, users } = pg.server;
    const env = { PGHOST: host, PGPORT: String(port), PGDATABASE: database, PGUSER: users.md5.user, PGPASSWORD: users.md5.password, PGSSLMODE: 'disable' };
    const resolved = resolveDsn('target_session_attrs=any', { ...dsnSystemEnvironment(() => {}), env });
    const saved = process.env.PGTARGETSESSIONATTRS;
    process.env.PGTARGETSESSIONATTRS = 'standby';
    try {
      expect(await whoAmI({ ...resolved.options, connectTimeoutMs: 10_000 })).toEqual({ user: users.md5.user, ssl: 'false' });
    } finally {
      if (saved === undefined) delete process.env.PGTARGETSESSIONATTRS;
      else process.env.PGTARGETSESSIONATTRS = saved;
    }
  });

  test('a unix socket directory (never TLS, whatever sslmode says)', async () => {
    const { socketDir, port, database, user } = pg.server;
    const resolved = loadDsn(`host=${socketDir} port=${port} dbname=${database} user=${user} sslmode=require`);
    expect(await whoAmI({ ...resolved.options, connectTimeoutMs: 10_000 })).toEqual({ user, ssl: 'false' });
  });

  test('target_session_attrs=standby refuses the primary, naming why', async () => {
    const { host, port, database, user } = pg.server;
    const resolved = loadDsn(`host=${host} port=${port} dbname=${database} user=${user} target_session_attrs=standby`);
    const err = (await failure({ ...resolved.options, connectTimeoutMs: 10_000 })) as PgConnectError;
    expect(err.message).toBe(`connection to ${host}:${port} failed: the server is not standby (target_session_attrs)`);
  });
});

describe('queries', () => {
  const superuser = (): ConnectOptions => ({
    host: pg.server.host, port: pg.server.port, user: pg.server.user, database: pg.server.database, sslmode: 'prefer', connectTimeoutMs: 10_000,
    applicationName: 'sql-client test', params: { ...SESSION_PARAMS, statement_timeout: '4321' },
  });

  test('session parameters and application_name reach the server; values come back as the server\'s text', async () => {
    await withClient(superuser(), async (client) => {
      const rows = await client.query(
        "SELECT current_setting('application_name'), current_setting('DateStyle'), current_setting('TimeZone'), current_setting('statement_timeout'), " +
        "true, 1.50::numeric, '\\x0102'::bytea, '2024-01-02 03:04:05+01'::timestamptz, ARRAY[1,2], NULL::int, 'ü'",
      );
      expect(rows).toEqual([['sql-client test', 'ISO, MDY', 'UTC', '4321ms', 't', '1.50', '\\x0102', '2024-01-02 02:04:05+00', '{1,2}', null, 'ü']]);
      expect(client.parameters.get('server_version')).toMatch(/^\d+/);
    });
  });

  test('bound parameters are text, cast by the server; NULL stays NULL', async () => {
    await withClient(superuser(), async (client) => {
      expect(await client.query('SELECT $1::int + 1, $2::text IS NULL, $3::text', ['41', null, "it's"])).toEqual([['42', 't', "it's"]]);
    });
  });

  test('one session: a transaction with an exported snapshot spans calls (what a snapshot reader needs)', async () => {
    await withClient(superuser(), async (exporter) => {
      await exporter.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const [[snapshot]] = (await exporter.query('SELECT pg_export_snapshot()')) as [[string]];
      await withClient(superuser(), async (reader) => {
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await reader.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
        const [[pid]] = (await reader.query('SELECT pg_backend_pid()')) as [[string]];
        expect(await reader.query('SELECT pg_backend_pid(), current_setting($1)', ['transaction_isolation'])).toEqual([[pid, 'repeatable read']]);
        await reader.query('COMMIT');
      });
      await exporter.query('COMMIT');
    });
  });

  test('a failing statement is a PgError with SQLSTATE and position; the session goes on', async () => {
    await withClient(superuser(), async (client) => {
      const err = (await client.query('SELECT * FROM no_such_table').catch((e) => e)) as PgError;
      expect(err).toBeInstanceOf(PgError);
      expect([err.code, err.position, err.message]).toEqual(['42P01', 15, 'relation "no_such_table" does not exist']);
      expect(await client.query('SELECT 1')).toEqual([['1']]);
    });
  });

  test('an unknown database: 3D000 naming the target', async () => {
    const err = (await failure({ ...superuser(), database: 'no_such_database' })) as PgError;
    expect([err.name, err.code]).toEqual(['PgError', '3D000']);
    expect(err.message).toStartWith(`connection to ${pg.server.host}:${pg.server.port} failed: `);
  });

  test('a refused port, and a server that never answers (connect timeout with the stage)', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const timeout = (await failure({ ...superuser(), port, sslmode: 'disable', connectTimeoutMs: 500 })) as PgConnectError;
      expect([timeout.kind, timeout.message]).toEqual(['timeout', `connection to 127.0.0.1:${port} timed out after 500 ms (authentication)`]);
    } finally {
      silent.close();
    }
    const refused = (await failure({ ...superuser(), port, connectTimeoutMs: 2000 })) as PgConnectError;
    expect([refused.kind, refused.retryable]).toEqual(['refused', true]);
  });

  test('a session the server ends fails its next query as closed, and does not reconnect on its own', async () => {
    await withClient(superuser(), async (client) => {
      const [[pid]] = (await client.query('SELECT pg_backend_pid()')) as [[string]];
      await withClient(superuser(), (other) => other.query('SELECT pg_terminate_backend($1::int)', [pid]));
      const err = (await client.query('SELECT 1').catch((e) => e)) as PgConnectError | PgError;
      // The server says why (57P01) when its message arrives first; else the closed socket is what we see.
      expect(err instanceof PgError ? err.code : err.kind).toBeOneOf(['57P01', 'closed']);
      const again = (await client.query('SELECT 1').catch((e) => e)) as PgConnectError;
      expect([again.name, again.kind]).toEqual(['PgConnectError', 'closed']);
      expect(client.closed).toBe(true);
    });
  });

  test('close() ends a query in progress, which fails', async () => {
    const client = await SqlClient.connect(superuser());
    const running = client.query('SELECT pg_sleep(30)').catch((e) => e);
    await Bun.sleep(100);
    const started = performance.now();
    await client.close();
    expect(await running).toBeInstanceOf(PgConnectError);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(client.closed).toBe(true);
  });
});
