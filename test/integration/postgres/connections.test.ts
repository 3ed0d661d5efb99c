/**
 * Streaming over the other kinds of connection: TLS (with back-pressure, since a paused TLS socket
 * behaves differently from a plain one), a unix socket, and a SCRAM password login.
 */
import { describe, expect, test } from 'bun:test';
import { uniqueName } from '../../helpers/pg.ts';
import { dsnFor, useSourceTests } from '../../helpers/postgres-source.ts';

const db = useSourceTests();

async function table(): Promise<string> {
  const t = uniqueName('t');
  await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
  // The password users may read it (the catalog lookup and publication do not need more).
  await db.sql.unsafe(`GRANT SELECT ON ${t} TO PUBLIC`);
  return t;
}

describe('connections', () => {
  test('TLS (sslmode=verify-full): streams, pauses for back-pressure and resumes', async () => {
    const cert = db.pg.server.sslCertFile;
    if (cert === undefined) throw new Error('the test server has no TLS certificate (openssl missing?)');
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const dsn = dsnFor(db.pg.server, { host: 'localhost' }).replace('sslmode=disable', `sslmode=verify-full sslrootcert=${cert}`);
    const h = await db.start({ slot, publication, dsn, pipeline: { batchSize: 100, maxBufferedEvents: 500 } });
    await h.streaming();
    const [ssl] = await db.sql<{ ssl: boolean }[]>`
      SELECT s.ssl FROM pg_stat_ssl s JOIN pg_replication_slots r ON r.active_pid = s.pid WHERE r.slot_name = ${slot}`;
    expect(ssl?.ssl).toBe(true);
    const release = h.sink.block();
    await db.sql.unsafe(`INSERT INTO ${t} SELECT i, repeat('v', 100) FROM generate_series(1, 20000) i`);
    await h.sink.until('the first blocked write', () => h.sink.pending > 0);
    release();
    await h.sink.untilCount(20_000);
    expect(h.sink.of(t).map((e) => e.columns.id)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    expect(h.source.stats()).toMatch(/replicaErrors: 0/);
  });

  test('a unix socket', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const h = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { host: db.pg.server.socketDir }) });
    await h.streaming();
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'over the socket')`);
    await h.sink.untilCount(1);
    expect(h.sink.events[0]!.columns.v).toBe('over the socket');
    // The event's Host is the DSN's host text, as the original.
    expect(h.sink.events[0]!.host).toBe(db.pg.server.socketDir);
  });

  test('a SCRAM password login with the REPLICATION attribute', async () => {
    const t = await table();
    const { slot, publication } = await db.prepare([t]);
    const { user, password } = db.pg.server.users.scram;
    const h = await db.start({ slot, publication, dsn: dsnFor(db.pg.server, { user, password }) });
    await h.streaming();
    await db.sql.unsafe(`INSERT INTO ${t} VALUES (1, 'scram')`);
    await h.sink.untilCount(1);
    expect(h.sink.events[0]!.columns.v).toBe('scram');
  });
});
