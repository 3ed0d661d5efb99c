/**
 * The mapping from ConnectOptions to postgres.js options, checked through postgres.js's own option
 * parser (it connects only on the first query, so nothing here opens a socket), and the mapping of
 * postgres.js's errors back to PgError / PgConnectError.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import postgres from 'postgres';
import { PgConnectError, PgError, ProtocolError } from '../../../src/pg/errors.ts';
import type { ConnectOptions } from '../../../src/pg/options.ts';
import { sqlClientOptions, sqlError, type SqlClientHooks, type SqlErrorContext } from '../../../src/pg/sql-options.ts';
import { SESSION_PARAMS } from '../../../src/sources/postgres/source.ts';

const base: ConnectOptions = { host: 'db.example', port: 6543, user: 'app', database: 'shop', sslmode: 'verify-full', connectTimeoutMs: 5000 };
const hooks: SqlClientHooks = {
  socket: () => Promise.reject(new Error('no socket in unit tests')),
  notice: () => {},
  parameter: () => {},
  closed: () => {},
};

/** What postgres.js makes of our options, as its connections will use them. */
function parsed(options: ConnectOptions): Record<string, unknown> & { connection: Record<string, unknown> } {
  const sql = postgres(sqlClientOptions(options, hooks) as unknown as postgres.Options<{}>);
  return sql.options as unknown as Record<string, unknown> & { connection: Record<string, unknown> };
}

/** PG* variables postgres.js would fall back to; set while a test runs. */
const LEAKY_ENV: Record<string, string> = {
  PGHOST: 'env-host', PGPORT: '1111', PGUSER: 'env-user', PGDATABASE: 'env-db', PGPASSWORD: 'env-password',
  PGAPPNAME: 'env-app', PGSSL: 'require', PGSSLNEGOTIATION: 'direct', PGCONNECT_TIMEOUT: '1', PGIDLE_TIMEOUT: '1',
  PGMAX: '5', PGPREPARE: 'true', PGFETCH_TYPES: 'true', PGKEEP_ALIVE: '5', PGTARGETSESSIONATTRS: 'standby', PGMAX_LIFETIME: '1',
  PGDEBUG: 'true', PGBACKOFF: '9', PGMAX_PIPELINE: '1',
};
const saved = new Map<string, string | undefined>();
afterEach(() => {
  for (const [key, value] of saved) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  saved.clear();
});
function setEnv(vars: Record<string, string>): void {
  for (const [key, value] of Object.entries(vars)) {
    if (!saved.has(key)) saved.set(key, process.env[key]);
    process.env[key] = value;
  }
}

describe('sqlClientOptions', () => {
  test('target, login and startup parameters as postgres.js will send them', async () => {
    const o = parsed({ ...base, password: 's3cret', applicationName: 'psql-streamer slot monitor', params: { ...SESSION_PARAMS, statement_timeout: '1234' } });
    expect(o.host).toEqual(['db.example']);
    expect(o.port).toEqual([6543]);
    expect(o.user).toBe('app');
    expect(o.database).toBe('shop');
    expect(await (o.pass as () => string)()).toBe('s3cret');
    expect(o.connection).toEqual({ application_name: 'psql-streamer slot monitor', ...SESSION_PARAMS, statement_timeout: '1234', client_encoding: 'UTF8' });
  });

  test('hostaddr is where postgres.js thinks it connects (transport.ts connects there; TLS checks the host name)', () => {
    expect(parsed({ ...base, hostaddr: '10.1.2.3' }).host).toEqual(['10.1.2.3']);
  });

  test('TLS, keepalive and timeouts are left to transport.ts; one connection, nothing prepared, no type fetch', () => {
    const o = parsed(base);
    expect(o).toMatchObject({
      ssl: false, sslnegotiation: null, keep_alive: null, connect_timeout: null, idle_timeout: null, max_lifetime: null,
      max: 1, prepare: false, fetch_types: false, debug: false,
    });
    expect(o.socket).toBe(hooks.socket);
  });

  test('no PG* variable leaks in: dsn.ts resolved them already (or the string overrode them)', async () => {
    const { PGTARGETSESSIONATTRS: _, ...leaky } = LEAKY_ENV;
    setEnv(leaky);
    const o = parsed({ ...base, targetSessionAttrs: 'any' });
    expect(o).toMatchObject({
      host: ['db.example'], port: [6543], user: 'app', database: 'shop', ssl: false, sslnegotiation: null, connect_timeout: null,
      idle_timeout: null, max: 1, prepare: false, fetch_types: false, keep_alive: null, max_lifetime: null,
    });
    // No password: an empty one, not PGPASSWORD (dsn.ts read PGPASSWORD when the string had none).
    expect(await (o.pass as () => string)()).toBe('');
    // No application name: none sent, not PGAPPNAME or "postgres.js".
    expect(o.connection.application_name).toBeUndefined();
  });

  test('PGTARGETSESSIONATTRS would leak in when ours is "any" (sql-client.ts hides it while postgres.js parses)', () => {
    setEnv({ PGTARGETSESSIONATTRS: 'standby' });
    expect(parsed({ ...base, targetSessionAttrs: 'any' }).target_session_attrs).toBe('standby');
    expect(parsed({ ...base, targetSessionAttrs: 'read-write' }).target_session_attrs).toBe('read-write');
  });

  test('target_session_attrs: checked by postgres.js, except any and prefer-standby (one host: any host will do)', () => {
    for (const attrs of ['read-write', 'read-only', 'primary', 'standby'] as const) {
      expect(sqlClientOptions({ ...base, targetSessionAttrs: attrs }, hooks).target_session_attrs).toBe(attrs);
    }
    expect(sqlClientOptions({ ...base, targetSessionAttrs: 'prefer-standby' }, hooks).target_session_attrs).toBeUndefined();
    expect(sqlClientOptions({ ...base, targetSessionAttrs: 'any' }, hooks).target_session_attrs).toBeUndefined();
    expect(sqlClientOptions(base, hooks).target_session_attrs).toBeUndefined();
  });

  test('notices arrive in our field names', () => {
    const notices: unknown[] = [];
    const options = sqlClientOptions(base, { ...hooks, notice: (n) => notices.push(n) });
    options.onnotice({ severity_local: 'NOTICE', severity: 'NOTICE', code: '00000', message: 'hello', where: 'PL/pgSQL', line: '12' });
    expect(notices).toEqual([expect.objectContaining({ severity: 'NOTICE', severityCode: 'NOTICE', code: '00000', message: 'hello', where: 'PL/pgSQL', line: 12 })]);
  });
});

describe('sqlError', () => {
  const target = { host: '127.0.0.1', port: 5432, label: '127.0.0.1:5432' };
  const context = (connecting: boolean, options: SqlErrorContext['options'] = { password: 'x' }): SqlErrorContext => ({ target, connecting, options });
  const serverError = (fields: Record<string, string>) => Object.assign(new postgres.PostgresError(fields as never), fields);

  test('a server error becomes a PgError with every field; while connecting it names the target', () => {
    const raw = serverError({ severity_local: 'FEHLER', severity: 'ERROR', code: '42P01', message: 'relation "x" does not exist', position: '15', hint: 'h', schema_name: 's', table_name: 't', routine: 'r' });
    const err = sqlError(raw, context(false)) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err).toMatchObject({ code: '42P01', severity: 'FEHLER', severityCode: 'ERROR', position: 15, hint: 'h', schema: 's', table: 't', routine: 'r', retryable: false });
    expect(err.message).toBe('relation "x" does not exist');
    const startup = sqlError(serverError({ severity: 'FATAL', code: '3D000', message: 'database "nope" does not exist' }), context(true)) as PgError;
    expect(startup.message).toBe('connection to 127.0.0.1:5432 failed: database "nope" does not exist');
    expect(startup.code).toBe('3D000');
  });

  test('28P01 without a password says where one could come from; with one it stays the server\'s', () => {
    const raw = serverError({ severity: 'FATAL', code: '28P01', message: 'password authentication failed for user "app"' });
    const none = sqlError(raw, context(true, {})) as PgConnectError;
    expect(none).toBeInstanceOf(PgConnectError);
    expect(none.kind).toBe('auth');
    expect(none.retryable).toBe(false);
    expect(none.message).toContain('the server asks for a password but none is set');
    expect(sqlError(raw, context(true))).toBeInstanceOf(PgError);
  });

  test('postgres.js connection codes become PgConnectError kinds', () => {
    const code = (c: string) => Object.assign(new Error(`write ${c} 127.0.0.1:5432`), { code: c });
    const closed = sqlError(code('CONNECTION_CLOSED'), context(false)) as PgConnectError;
    expect([closed.kind, closed.retryable, closed.message]).toEqual(['closed', true, 'connection to 127.0.0.1:5432 is closed']);
    const tsa = sqlError(code('CONNECTION_DESTROYED'), context(true, { targetSessionAttrs: 'standby' })) as PgConnectError;
    expect([tsa.kind, tsa.message]).toEqual(['unreachable', 'connection to 127.0.0.1:5432 failed: the server is not standby (target_session_attrs)']);
    expect((sqlError(code('CONNECTION_DESTROYED'), context(true)) as PgConnectError).kind).toBe('closed');
    const sasl = sqlError(code('SASL_SIGNATURE_MISMATCH'), context(true)) as PgConnectError;
    expect([sasl.kind, sasl.retryable]).toEqual(['auth', false]);
    expect(sqlError(code('MESSAGE_NOT_SUPPORTED'), context(false))).toBeInstanceOf(ProtocolError);
  });

  test('our own errors (from transport.ts) pass through unchanged; others stay what they are', () => {
    const ours = new PgConnectError('tls', 'connection to 127.0.0.1:5432 failed: TLS: x', target);
    expect(sqlError(ours, context(true))).toBe(ours);
    const other = new TypeError('boom');
    expect(sqlError(other, context(false))).toBe(other);
    expect(sqlError('text', context(false)).message).toBe('text');
  });
});
