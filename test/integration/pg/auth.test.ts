/** Password authentication against the throwaway PostgreSQL: scram-sha-256, md5 and cleartext users. */
import { describe, expect, test } from 'bun:test';
import { PgConnection, type ConnectOptions } from '../../../src/pg/connection.ts';
import { PgConnectError, PgError } from '../../../src/pg/errors.ts';
import { usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();

function options(user: string, password: string | undefined): ConnectOptions {
  return { host: pg.server.host, port: pg.server.port, user, password, database: pg.server.database, sslmode: 'disable', connectTimeoutMs: 10_000 };
}

describe.each(['scram', 'md5', 'clear'] as const)('%s user', (kind) => {
  test('the right password logs in', async () => {
    const { user, password } = pg.server.users[kind];
    const conn = await PgConnection.connect(options(user, password));
    try {
      expect((await conn.simpleQuery('SELECT current_user'))[0]!.rows).toEqual([[user]]);
    } finally {
      await conn.close();
    }
  });

  test('a wrong password is refused with 28P01 and a clear message', async () => {
    const { user } = pg.server.users[kind];
    const err = (await PgConnection.connect(options(user, 'wrong-password')).catch((e) => e)) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('28P01');
    expect(err.message).toBe(`connection to ${pg.server.host}:${pg.server.port} failed: password authentication failed for user "${user}"`);
    expect(err.message).not.toContain('wrong-password');
    expect(err.retryable).toBe(false);
  });

  test('no password at all says where one could come from', async () => {
    const { user } = pg.server.users[kind];
    const err = (await PgConnection.connect(options(user, undefined)).catch((e) => e)) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('the server asks for a password');
  });
});

test('an unknown role is refused by the server (28P01 for password methods)', async () => {
  const err = (await PgConnection.connect(options('no_such_role', 'x')).catch((e) => e)) as PgError;
  expect(err).toBeInstanceOf(PgError);
  expect(['28P01', '28000']).toContain(err.code);
});

test('an unknown database is refused with 3D000', async () => {
  const err = (await PgConnection.connect({ ...options(pg.server.user, undefined), database: 'no_such_database' }).catch((e) => e)) as PgError;
  expect(err.code).toBe('3D000');
  expect(err.message).toContain('database "no_such_database" does not exist');
});
