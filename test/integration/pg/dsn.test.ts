/**
 * Connection strings end to end: keyword/value and URI forms, the password file and PG* variables,
 * resolved by dsn.ts and used by PgConnection against the throwaway PostgreSQL.
 */
import { afterAll, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgConnection } from '../../../src/pg/connection.ts';
import { dsnSystemEnvironment } from '../../../src/pg/conninfo/environment.ts';
import { loadDsn, resolveDsn } from '../../../src/pg/conninfo/dsn.ts';
import { usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();
const dir = mkdtempSync(join(tmpdir(), 'pg-dsn-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function currentUser(dsn: string, env?: Record<string, string>): Promise<{ user: string; ssl: string }> {
  const warnings: string[] = [];
  const system = dsnSystemEnvironment((m) => warnings.push(m));
  const resolved = env === undefined ? loadDsn(dsn) : resolveDsn(dsn, { ...system, env });
  const conn = await PgConnection.connect({ ...resolved.options, connectTimeoutMs: 10_000 });
  try {
    const [result] = await conn.simpleQuery('SELECT current_user, coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)');
    const [user, ssl] = result!.rows[0]!;
    return { user: user!, ssl: ssl! };
  } finally {
    await conn.close();
  }
}

test('the original keyword/value DSN', async () => {
  const { host, port, database, users } = pg.server;
  const dsn = `host=${host} port=${port} user=${users.scram.user} password=${users.scram.password} dbname=${database} sslmode=disable`;
  expect(await currentUser(dsn)).toEqual({ user: users.scram.user, ssl: 'f' });
});

test('a postgres:// URI with a percent-encoded password and sslmode in the query', async () => {
  const { host, port, database, users } = pg.server;
  const dsn = `postgresql://${users.scram.user}:${encodeURIComponent(users.scram.password)}@${host}:${port}/${database}?sslmode=require`;
  expect(await currentUser(dsn)).toEqual({ user: users.scram.user, ssl: 't' });
});

test('a unix socket directory as host', async () => {
  const { socketDir, port, database, user } = pg.server;
  expect((await currentUser(`host=${socketDir} port=${port} dbname=${database} user=${user}`)).user).toBe(user);
});

test('the password comes from a 0600 password file (passfile)', async () => {
  const { host, port, database, users } = pg.server;
  const file = join(dir, 'pgpass');
  writeFileSync(file, `# test\n${host}:${port}:${database}:${users.md5.user}:${users.md5.password}\n`);
  chmodSync(file, 0o600);
  expect((await currentUser(`host=${host} port=${port} dbname=${database} user=${users.md5.user} sslmode=disable passfile=${file}`)).user).toBe(users.md5.user);
});

test('a password file readable by others is ignored with a warning (and the login then fails)', async () => {
  const { host, port, database, users } = pg.server;
  const file = join(dir, 'pgpass-open');
  writeFileSync(file, `*:*:*:*:${users.md5.password}\n`);
  chmodSync(file, 0o644);
  const warnings: string[] = [];
  const resolved = loadDsn(`host=${host} port=${port} dbname=${database} user=${users.md5.user} passfile=${file}`, (m) => warnings.push(m));
  expect(resolved.options.password).toBeUndefined();
  expect(warnings[0]).toContain('has group or world access');
  await expect(PgConnection.connect({ ...resolved.options, connectTimeoutMs: 10_000 })).rejects.toThrow(/asks for a password/);
});

test('PG* environment variables fill what the string leaves out', async () => {
  const { host, port, database, users } = pg.server;
  const env = { PGHOST: host, PGPORT: String(port), PGDATABASE: database, PGUSER: users.clear.user, PGPASSWORD: users.clear.password, PGSSLMODE: 'disable' };
  expect(await currentUser('', env)).toEqual({ user: users.clear.user, ssl: 'f' });
  // The string wins over the environment.
  expect((await currentUser(`user=${users.scram.user} password=${users.scram.password}`, env)).user).toBe(users.scram.user);
});

test('unknown setting keys reach the server as startup parameters', async () => {
  const { host, port, database, user } = pg.server;
  const resolved = loadDsn(`host=${host} port=${port} dbname=${database} user=${user} statement_timeout=1234 sslmode=disable`);
  const conn = await PgConnection.connect({ ...resolved.options, connectTimeoutMs: 10_000 });
  try {
    expect((await conn.simpleQuery('SHOW statement_timeout'))[0]!.rows).toEqual([['1234ms']]);
  } finally {
    await conn.close();
  }
});

test('target_session_attrs=read-write accepts the primary; standby refuses it', async () => {
  const { host, port, database, user } = pg.server;
  expect((await currentUser(`host=${host} port=${port} dbname=${database} user=${user} target_session_attrs=read-write`)).user).toBe(user);
  const resolved = loadDsn(`host=${host} port=${port} dbname=${database} user=${user} target_session_attrs=standby`);
  // (.catch rather than expect().rejects: the latter idles about a second in bun 1.4.5 here.)
  const err = (await PgConnection.connect({ ...resolved.options, connectTimeoutMs: 10_000 }).catch((e) => e)) as Error;
  expect(err.message).toBe(`connection to ${host}:${port} failed: the server is not standby (target_session_attrs)`);
});
