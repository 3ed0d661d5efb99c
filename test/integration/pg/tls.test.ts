/**
 * TLS per libpq's sslmode against the throwaway PostgreSQL (self-signed certificate for
 * localhost/127.0.0.1; the `tls` user may only log in over TLS).
 */
import { describe, expect, test } from 'bun:test';
import { PgConnection, type ConnectOptions } from '../../../src/pg/connection.ts';
import { PgConnectError, PgError } from '../../../src/pg/errors.ts';
import { usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();

function tlsUser(overrides: Partial<ConnectOptions>): ConnectOptions {
  const { user, password } = pg.server.users.tls;
  return {
    host: pg.server.host, port: pg.server.port, user, password, database: pg.server.database,
    sslmode: 'require', connectTimeoutMs: 10_000, ...overrides,
  };
}

function certificate(): string {
  const file = pg.server.sslCertFile;
  if (file === undefined) throw new Error('the test server runs without TLS (no openssl?); these tests need it');
  return file;
}

/** Whether the session is encrypted, as the server sees it. */
async function encrypted(conn: PgConnection): Promise<string | null | undefined> {
  const [result] = await conn.simpleQuery('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  return result!.rows[0]?.[0];
}

async function withConnection(options: ConnectOptions, check: (conn: PgConnection) => Promise<void>): Promise<void> {
  const conn = await PgConnection.connect(options);
  try {
    await check(conn);
  } finally {
    await conn.close();
  }
}

describe('sslmode', () => {
  test('require: the hostssl-only user logs in and the session is really encrypted', async () => {
    certificate();
    await withConnection(tlsUser({ sslmode: 'require' }), async (conn) => expect(await encrypted(conn)).toBe('t'));
  });

  test('prefer: TLS when the server offers it', async () => {
    await withConnection(tlsUser({ sslmode: 'prefer' }), async (conn) => expect(await encrypted(conn)).toBe('t'));
  });

  test('allow: plain first, then TLS when the server refuses the plain login', async () => {
    await withConnection(tlsUser({ sslmode: 'allow' }), async (conn) => expect(await encrypted(conn)).toBe('t'));
  });

  test('verify-ca with the server certificate as root: chain verified, host name not checked', async () => {
    await withConnection(tlsUser({ sslmode: 'verify-ca', sslrootcert: certificate() }), async (conn) => expect(await encrypted(conn)).toBe('t'));
    // The certificate names localhost/127.0.0.1, not this name; verify-ca does not care.
    await withConnection(tlsUser({ sslmode: 'verify-ca', host: 'wrong.example', hostaddr: '127.0.0.1', sslrootcert: certificate() }), async (conn) => {
      expect(await encrypted(conn)).toBe('t');
    });
  });

  test('verify-full with the right host name succeeds', async () => {
    await withConnection(tlsUser({ sslmode: 'verify-full', host: 'localhost', sslrootcert: certificate() }), async (conn) => {
      expect(await encrypted(conn)).toBe('t');
    });
  });

  test('verify-full with a wrong host name fails clearly', async () => {
    const err = (await PgConnection.connect(tlsUser({ sslmode: 'verify-full', host: 'wrong.example', hostaddr: '127.0.0.1', sslrootcert: certificate() })).catch((e) => e)) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect(err.kind).toBe('tls');
    expect(err.retryable).toBe(false);
    expect(err.message).toStartWith(`connection to 127.0.0.1:${pg.server.port} failed: TLS: `);
    expect(err.message).toContain('wrong.example');
  });

  test('verify-ca against roots that did not sign the server certificate fails', async () => {
    // The server's certificate is self-signed, so the system CA store cannot vouch for it.
    const err = (await PgConnection.connect(tlsUser({ sslmode: 'verify-ca', sslrootcert: 'system' })).catch((e) => e)) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect(err.kind).toBe('tls');
    expect(err.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
  });

  test('verify-full without a root certificate is a configuration error', async () => {
    const err = (await PgConnection.connect(tlsUser({ sslmode: 'verify-full' })).catch((e) => e)) as PgConnectError;
    expect(err.kind).toBe('config');
    expect(err.message).toContain('set sslrootcert');
  });

  test('a missing root certificate file is named', async () => {
    const err = (await PgConnection.connect(tlsUser({ sslmode: 'verify-ca', sslrootcert: '/nonexistent/root.crt' })).catch((e) => e)) as PgConnectError;
    expect(err.kind).toBe('config');
    expect(err.message).toBe('cannot read sslrootcert "/nonexistent/root.crt": no such file');
  });

  test('a client certificate and key are presented when given (the server does not ask, so any valid pair works)', async () => {
    const dir = `${pg.server.dir}/tls`;
    await withConnection(tlsUser({ sslmode: 'verify-ca', sslrootcert: certificate(), sslcert: `${dir}/server.crt`, sslkey: `${dir}/server.key` }), async (conn) => {
      expect(await encrypted(conn)).toBe('t');
    });
    const err = (await PgConnection.connect(tlsUser({ sslcert: '/nonexistent/client.crt' })).catch((e) => e)) as PgConnectError;
    expect(err.message).toBe('cannot read sslcert "/nonexistent/client.crt": no such file');
  });

  test('disable against the hostssl-only user fails with the server message (28000)', async () => {
    const err = (await PgConnection.connect(tlsUser({ sslmode: 'disable' })).catch((e) => e)) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('28000');
    // PostgreSQL 14+ says "no encryption", 13 "SSL off".
    expect(err.message).toMatch(/no encryption|SSL off/);
  });

  test('a replication connection over TLS with SCRAM', async () => {
    await withConnection(tlsUser({ sslmode: 'verify-full', host: 'localhost', sslrootcert: certificate(), replication: 'database', user: pg.server.users.scram.user, password: pg.server.users.scram.password }), async (conn) => {
      expect((await conn.simpleQuery('IDENTIFY_SYSTEM'))[0]!.rows.length).toBe(1);
    });
  });
});
