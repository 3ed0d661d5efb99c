/**
 * sslmode against a server without TLS: a throwaway cluster of its own (scripts/pg start --private,
 * then ALTER SYSTEM SET ssl = off and a reload), so the shared test server keeps TLS. The server
 * answers the SSLRequest with 'N': prefer/allow/disable go on in plain text, require and the
 * verify modes fail with a message that names the sslmode.
 */
import { expect, test } from 'bun:test';
import { PgConnection, type ConnectOptions } from '../../../src/pg/connection.ts';
import { PgConnectError } from '../../../src/pg/errors.ts';
import { SqlClient } from '../../../src/pg/sql-client.ts';
import { usePrivateCluster } from '../../helpers/private-cluster.ts';

const own = usePrivateCluster({ settings: ['ssl = off'] });

function scramUser(sslmode: ConnectOptions['sslmode']): ConnectOptions {
  const server = own.cluster.server;
  const { user, password } = server.users.scram;
  return { host: server.host, port: server.port, user, password, database: server.database, sslmode, connectTimeoutMs: 10_000 };
}

test.each(['prefer', 'allow', 'disable'] as const)('sslmode=%s: logs in without TLS', async (sslmode) => {
  let conn: PgConnection | undefined;
  for (let attempt = 0; ; attempt++) {
    conn = await PgConnection.connect(scramUser(sslmode));
    const [result] = await conn.simpleQuery('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    if (result!.rows[0]?.[0] === 'f' || attempt === 20) {
      expect(result!.rows[0]?.[0]).toBe('f');
      break;
    }
    // The reload reaches the postmaster asynchronously: retry until it stopped offering TLS.
    await conn.close();
    await Bun.sleep(100);
  }
  await conn.close();
});

test.each(['require', 'verify-ca', 'verify-full'] as const)('sslmode=%s: a clear error, no plain-text login', async (sslmode) => {
  const err = await PgConnection.connect(scramUser(sslmode)).then(
    (conn) => conn.close().then(() => undefined),
    (e: unknown) => e as Error,
  );
  expect(err).toBeDefined();
  expect(err!.message).toContain(`the server does not support SSL, but sslmode=${sslmode} requires it`);
});

// SqlClient (postgres.js for ordinary SQL) negotiates TLS through the same transport.ts.
test('SqlClient: prefer logs in without TLS; require fails naming the sslmode, not retryable', async () => {
  const client = await SqlClient.connect(scramUser('prefer'));
  try {
    expect(await client.query('SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).toEqual([['false']]);
  } finally {
    await client.close();
  }
  const err = (await SqlClient.connect(scramUser('require')).then((c) => c.close().then(() => undefined), (e: unknown) => e)) as PgConnectError;
  expect(err).toBeInstanceOf(PgConnectError);
  expect([err.kind, err.retryable]).toEqual(['tls', false]);
  expect(err.message).toContain('the server does not support SSL, but sslmode=require requires it');
});
