/**
 * PgConnection against the throwaway PostgreSQL: trust logins over TCP and the unix socket, simple
 * queries, notices, replication=database commands, a copy-both round trip with a standby status
 * update, back-pressure (pause really stops the walsender), a terminated walsender, connect errors and
 * the connect timeout.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import net from 'node:net';
import { PgConnection, type ConnectOptions } from '../../../src/pg/connection.ts';
import { PgConnectError, PgError, type PgNotice } from '../../../src/pg/errors.ts';
import { Writer } from '../../../src/pg/writer.ts';
import { dropSlot, uniqueName, usePostgres } from '../../helpers/pg.ts';

const pg = usePostgres();
const open: PgConnection[] = [];

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

function options(overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    host: pg.server.host,
    port: pg.server.port,
    user: pg.server.user,
    database: pg.server.database,
    sslmode: 'disable',
    connectTimeoutMs: 10_000,
    ...overrides,
  };
}

async function connect(overrides: Partial<ConnectOptions> = {}): Promise<PgConnection> {
  const conn = await PgConnection.connect(options(overrides));
  open.push(conn);
  return conn;
}

/** StandbyStatusUpdate ('r'): write, flush, apply LSNs, client clock, reply-requested flag. */
function standbyStatus(lsn: bigint): Uint8Array {
  return new Writer(34).u8(0x72).u64(lsn).u64(lsn).u64(lsn).i64(0n).u8(0).finish().slice();
}

const lsnToBigInt = (text: string): bigint => {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};

describe('connect and query', () => {
  test('trust login over TCP: server version, process id, parameters', async () => {
    const conn = await connect({ applicationName: 'pg-connection-test' });
    expect(conn.serverVersionNum).toBeGreaterThanOrEqual(100000);
    expect(conn.processId).toBeGreaterThan(0);
    expect(conn.parameters.get('client_encoding')).toBe('UTF8');
    const [result] = await conn.simpleQuery("SELECT pg_backend_pid(), current_setting('application_name'), current_setting('server_version_num')");
    expect(result!.rows[0]).toEqual([String(conn.processId), 'pg-connection-test', String(Math.floor(conn.serverVersionNum / 10000) * 10000 + (conn.serverVersionNum % 10000))]);
  });

  test('trust login over the unix socket (sslmode is ignored there, as in libpq)', async () => {
    const conn = await connect({ host: pg.server.socketDir, sslmode: 'require' });
    const [result] = await conn.simpleQuery("SELECT coalesce(inet_client_addr()::text, 'local')");
    expect(result!.rows).toEqual([['local']]);
  });

  test('several statements, NULLs, UTF-8 and startup parameters', async () => {
    const conn = await connect({ params: { TimeZone: 'UTC', DateStyle: 'ISO, MDY' } });
    const results = await conn.simpleQuery(
      "CREATE TEMP TABLE t (id int, name text); INSERT INTO t VALUES (1, 'żółw 🐢'), (2, NULL); SELECT * FROM t ORDER BY id; SHOW TimeZone",
    );
    expect(results.map((r) => r.command)).toEqual(['CREATE TABLE', 'INSERT 0 2', 'SELECT 2', 'SHOW']);
    expect(results[2]).toEqual({ command: 'SELECT 2', fields: ['id', 'name'], typeOids: [23, 25], rows: [['1', 'żółw 🐢'], ['2', null]] });
    expect(results[3]!.rows).toEqual([['UTC']]);
  });

  test('an error carries the SQLSTATE and fields; the connection stays usable', async () => {
    const conn = await connect();
    const err = (await conn.simpleQuery('SELECT 1; SELECT * FROM no_such_table').catch((e) => e)) as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('42P01');
    expect(err.severityCode).toBe('ERROR');
    expect(err.message).toBe('relation "no_such_table" does not exist');
    expect(err.position).toBe(25);
    expect(err.retryable).toBe(false);
    expect((await conn.simpleQuery('SELECT 2'))[0]!.rows).toEqual([['2']]);
  });

  test('notices reach onNotice without disturbing the query; queries queue up', async () => {
    const conn = await connect();
    const notices: PgNotice[] = [];
    conn.onNotice((n) => notices.push(n));
    const [a, b] = await Promise.all([
      conn.simpleQuery("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$"),
      conn.simpleQuery('SELECT 3'),
    ]);
    expect(a![0]!.command).toBe('DO');
    expect(b![0]!.rows).toEqual([['3']]);
    expect(notices.map((n) => [n.severityCode, n.code, n.message])).toEqual([['NOTICE', '00000', 'hello 42']]);
  });

  test('close is idempotent and later calls reject', async () => {
    const conn = await PgConnection.connect(options());
    await Promise.all([conn.close(), conn.close()]);
    await conn.close();
    expect(conn.closed).toBe(true);
    await expect(conn.simpleQuery('SELECT 1')).rejects.toBeInstanceOf(PgConnectError);
  });
});

describe('replication connection', () => {
  test('IDENTIFY_SYSTEM through simpleQuery', async () => {
    const conn = await connect({ replication: 'database' });
    const [result] = await conn.simpleQuery('IDENTIFY_SYSTEM');
    expect(result!.fields).toEqual(['systemid', 'timeline', 'xlogpos', 'dbname']);
    expect(result!.rows[0]![3]).toBe(pg.server.database);
    expect(result!.rows[0]![2]).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  test('copy-both round trip: CopyData payloads, a standby status update, clean end', async () => {
    const sql = pg.sql();
    const table = uniqueName('copy_items');
    const publication = uniqueName('pub');
    const slot = uniqueName('slot');
    await sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, name text); CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
    const conn = await connect({ replication: 'database' });
    try {
      const [created] = await conn.simpleQuery(`CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      expect(created!.rows[0]![0]).toBe(slot);
      const kinds: string[] = [];
      const inserts: number[] = [];
      let lastWalEnd = 0n;
      let ended: (err: Error | undefined) => void = () => {};
      const end = new Promise<Error | undefined>((resolve) => (ended = resolve));
      await conn.startCopyBoth(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`, {
        onData(chunk, from, to) {
          const payload = chunk.subarray(from, to);
          kinds.push(String.fromCharCode(payload[0]!));
          const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
          if (payload[0] === 0x77) {
            // XLogData: 'w', start LSN, WAL end, clock, then the pgoutput message ('I' = Insert).
            lastWalEnd = view.getBigUint64(9);
            if (payload[25] === 0x49) inserts.push(payload.length);
          }
        },
        onEnd: (err) => ended(err),
      });
      await sql.unsafe(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
      const deadline = Date.now() + 10_000;
      while (inserts.length < 2 && Date.now() < deadline) await Bun.sleep(20);
      expect(inserts.length).toBe(2);
      expect(kinds.every((k) => k === 'w' || k === 'k')).toBe(true);

      conn.sendCopyData(standbyStatus(lastWalEnd));
      let confirmed = 0n;
      while (confirmed < lastWalEnd && Date.now() < deadline) {
        const [row] = await sql<{ lsn: string }[]>`SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = ${slot}`;
        confirmed = lsnToBigInt(row!.lsn);
        if (confirmed < lastWalEnd) await Bun.sleep(20);
      }
      expect(confirmed).toBe(lastWalEnd);

      conn.endCopy();
      expect(await end).toBeUndefined();
      expect((await conn.simpleQuery('IDENTIFY_SYSTEM'))[0]!.command).toBe('IDENTIFY_SYSTEM');
    } finally {
      await conn.close();
      await dropSlot(sql, slot);
      await sql.unsafe(`DROP PUBLICATION ${publication}; DROP TABLE ${table}`);
    }
  });

  test('pause() stops reading so the walsender blocks; resume() delivers everything', async () => {
    const sql = pg.sql();
    const table = uniqueName('paused_items');
    const publication = uniqueName('pub');
    const slot = uniqueName('slot');
    await sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, body text); CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
    const conn = await connect({ replication: 'database' });
    try {
      await conn.simpleQuery(`CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      let inserts = 0;
      let bytes = 0;
      let paused = false;
      let whilePaused = 0;
      await conn.startCopyBoth(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`, {
        onData(chunk, from, to) {
          const payload = chunk.subarray(from, to);
          bytes += payload.length;
          if (paused) whilePaused += 1;
          if (payload[0] === 0x77 && payload[25] === 0x49) inserts += 1;
        },
        onEnd() {},
      });
      conn.pause();
      paused = true;
      const rows = 4000;
      // ~40 MB of row data on the wire (10 kB per row), far more than the socket buffers hold.
      await sql.unsafe(`INSERT INTO ${table} SELECT i, repeat(md5(i::text), 320) FROM generate_series(1, ${rows}) i`);
      await Bun.sleep(500);
      expect(whilePaused).toBe(0);
      const [lag] = await sql<{ behind: string }[]>`
        SELECT (pg_current_wal_lsn() - sent_lsn)::text AS behind FROM pg_stat_replication WHERE pid = (
          SELECT active_pid FROM pg_replication_slots WHERE slot_name = ${slot})`;
      expect(Number(lag!.behind)).toBeGreaterThan(0); // the walsender is stuck before the end of the WAL

      paused = false;
      conn.resume();
      const deadline = Date.now() + 20_000;
      while (inserts < rows && Date.now() < deadline) await Bun.sleep(20);
      expect(inserts).toBe(rows);
      expect(bytes).toBeGreaterThan(rows * 10_000);
    } finally {
      await conn.close();
      await dropSlot(sql, slot);
      await sql.unsafe(`DROP PUBLICATION ${publication}; DROP TABLE ${table}`);
    }
  }, 60_000);

  test('a terminated walsender ends the stream with the server FATAL (57P01, retryable)', async () => {
    const sql = pg.sql();
    const slot = uniqueName('slot');
    const publication = uniqueName('pub');
    await sql.unsafe(`CREATE PUBLICATION ${publication}`);
    const conn = await connect({ replication: 'database' });
    try {
      await conn.simpleQuery(`CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      const end = new Promise<Error | undefined>((resolve) => {
        void conn.startCopyBoth(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`, {
          onData() {},
          onEnd: resolve,
        });
      });
      await Bun.sleep(100);
      await sql`SELECT pg_terminate_backend(${conn.processId})`;
      const err = (await end) as PgError;
      expect(err).toBeInstanceOf(PgError);
      expect(err.code).toBe('57P01');
      expect(err.retryable).toBe(true);
      expect(conn.closed).toBe(true);
    } finally {
      await conn.close();
      await dropSlot(sql, slot);
      await sql.unsafe(`DROP PUBLICATION ${publication}`);
    }
  });

  test('START_REPLICATION on a missing slot rejects startCopyBoth with 42704', async () => {
    const conn = await connect({ replication: 'database' });
    const err = (await conn.startCopyBoth('START_REPLICATION SLOT no_such_slot LOGICAL 0/0', { onData() {}, onEnd() {} }).catch((e) => e)) as PgError;
    expect(err.code).toBe('42704');
    expect((await conn.simpleQuery('IDENTIFY_SYSTEM')).length).toBe(1);
  });
});

describe('connect errors', () => {
  test('a closed port is refused at once, naming host and port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const started = Date.now();
    const err = (await PgConnection.connect(options({ port, connectTimeoutMs: 5000 })).catch((e) => e)) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect(err.kind).toBe('refused');
    expect(err.message).toStartWith(`connection to 127.0.0.1:${port} refused`);
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a missing unix socket says so', async () => {
    const err = (await PgConnection.connect(options({ host: '/nonexistent-dir', port: 5432 })).catch((e) => e)) as PgConnectError;
    expect(err.kind).toBe('unreachable');
    expect(err.message).toStartWith('connection to socket /nonexistent-dir/.s.PGSQL.5432 failed: no such socket');
  });

  test('an unresolvable host name', async () => {
    const err = (await PgConnection.connect(options({ host: 'no-such-host.invalid', connectTimeoutMs: 5000 })).catch((e) => e)) as PgConnectError;
    expect(err).toBeInstanceOf(PgConnectError);
    expect(['dns', 'timeout']).toContain(err.kind);
  });

  test.each(['disable', 'prefer'] as const)('the connect timeout is honoured against a server that never answers (sslmode=%s)', async (sslmode) => {
    const sockets: net.Socket[] = [];
    let closedByClient = 0;
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => {}); // read, never answer
      socket.on('close', () => (closedByClient += 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const err = (await PgConnection.connect(options({ port, sslmode, connectTimeoutMs: 300 })).catch((e) => e)) as PgConnectError;
      const elapsed = Date.now() - started;
      expect(err).toBeInstanceOf(PgConnectError);
      expect(err.kind).toBe('timeout');
      expect(err.message).toBe(`connection to 127.0.0.1:${port} timed out after 300 ms (${sslmode === 'disable' ? 'authentication' : 'SSL negotiation'})`);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(3000);
      // The socket was closed by us, not left open.
      await Bun.sleep(100);
      expect(sockets.length).toBe(1);
      expect(closedByClient).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  test('a server that hangs up during startup', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const err = (await PgConnection.connect(options({ port })).catch((e) => e)) as PgConnectError;
      expect(err).toBeInstanceOf(PgConnectError);
      expect(err.kind).toBe('closed');
      expect(err.message).toContain(`127.0.0.1:${port}`);
    } finally {
      server.close();
    }
  });

  test('garbage from the server is a protocol error, not a crash', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.write(Uint8Array.of(0x52, 0, 0, 0, 1, 9, 9))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const err = (await PgConnection.connect(options({ port, connectTimeoutMs: 2000 })).catch((e) => e)) as Error;
      expect(err.name).toBe('ProtocolError');
    } finally {
      server.close();
    }
  });
});
