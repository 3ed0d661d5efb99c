import { describe, expect, test } from 'bun:test';
import { PgConnectError, PgError, type PgNotice, ProtocolError } from '../../../src/pg/errors.ts';
import { splitFrames } from '../../../src/pg/frames.ts';
import { parseServerVersion } from '../../../src/pg/async-messages.ts';
import { PgProtocol } from '../../../src/pg/protocol.ts';
import type { ProtocolIo } from '../../../src/pg/protocol-types.ts';
import { Reader } from '../../../src/pg/reader.ts';
import * as m from '../../helpers/pg-backend-messages.ts';

/** A PgProtocol wired to a fake transport that records what is sent, failures and warnings. */
function harness(password?: string) {
  const sent: Uint8Array[] = [];
  const failures: Error[] = [];
  const warnings: string[] = [];
  const io: ProtocolIo = {
    label: '127.0.0.1:5432',
    host: '127.0.0.1',
    port: 5432,
    send: (bytes) => sent.push(bytes.slice()),
    fail: (err) => failures.push(err),
    warn: (message) => warnings.push(message),
  };
  const protocol = new PgProtocol(io, 'alice', password);
  /** Feeds whole backend messages as the transport would. */
  const receive = (...messages: Uint8Array[]) => {
    for (const frame of splitFrames([m.concat(...messages)]).frames) protocol.handle(frame.type, frame.payload);
  };
  /** Type letters of the typed messages sent so far (the untyped StartupMessage is '?'). */
  const sentTypes = () => sent.map((b) => (b[0] === 0 ? '?' : String.fromCharCode(b[0]!)));
  return { protocol, receive, sent, sentTypes, failures, warnings };
}

/** A harness that went through a trust startup. */
async function ready() {
  const h = harness();
  const started = h.protocol.startup({ user: 'alice', database: 'db' });
  h.receive(m.authenticationOk(), m.parameterStatus('server_version', '15.18 (Debian 15.18-1.pgdg120+1)'), m.backendKeyData(777), m.readyForQuery());
  await started;
  h.sent.length = 0;
  return h;
}

const queryText = (bytes: Uint8Array) => {
  const r = new Reader(bytes);
  r.u8();
  r.i32();
  return r.cstring();
};

describe('startup', () => {
  test('trust: parameters, server version, process id, then ready', async () => {
    const h = await ready();
    expect(h.protocol.serverVersionNum).toBe(150018);
    expect(h.protocol.processId).toBe(777);
    expect(h.protocol.parameters.get('server_version')).toStartWith('15.18');
  });

  test('md5: the PasswordMessage goes out after the request', async () => {
    const h = harness('secret');
    const started = h.protocol.startup({ user: 'alice', database: 'db' });
    h.receive(m.authenticationMd5([1, 2, 3, 4]));
    await Bun.sleep(0);
    expect(h.sentTypes()).toEqual(['?', 'p']);
    h.receive(m.authenticationOk(), m.readyForQuery());
    await started;
  });

  test('an ErrorResponse during startup fails the transport with the server named', () => {
    const h = harness('wrong');
    void h.protocol.startup({ user: 'alice', database: 'db' }).catch(() => {});
    h.receive(m.errorFields('E', { S: 'FATAL', V: 'FATAL', C: '28P01', M: 'password authentication failed for user "alice"' }));
    expect(h.failures.length).toBe(1);
    const err = h.failures[0] as PgError;
    expect(err).toBeInstanceOf(PgError);
    expect(err.code).toBe('28P01');
    expect(err.message).toBe('connection to 127.0.0.1:5432 failed: password authentication failed for user "alice"');
    expect(err.serverMessage).toBe('password authentication failed for user "alice"');
    expect(err.retryable).toBe(false);
  });

  test('a password request without a password fails with PgConnectError kind auth', async () => {
    const h = harness(undefined);
    void h.protocol.startup({ user: 'alice', database: 'db' }).catch(() => {});
    h.receive(m.authenticationCleartext());
    await Bun.sleep(0);
    expect(h.failures[0]).toBeInstanceOf(PgConnectError);
    expect((h.failures[0] as PgConnectError).kind).toBe('auth');
    expect(h.failures[0]!.message).toMatch(/^connection to 127.0.0.1:5432 failed: the server asks for a password/);
  });

  test('the transport ending during startup rejects it', async () => {
    const h = harness();
    const started = h.protocol.startup({ user: 'alice', database: 'db' });
    h.protocol.transportEnded(undefined, false);
    await expect(started).rejects.toThrow('connection to 127.0.0.1:5432 closed by the server during startup');
  });
});

describe('simple query', () => {
  test('one result per statement, NULLs kept, types reported', async () => {
    const h = await ready();
    const results = h.protocol.simpleQuery('SELECT 1, NULL; CREATE TABLE t()');
    expect(h.sentTypes()).toEqual(['Q']);
    expect(queryText(h.sent[0]!)).toBe('SELECT 1, NULL; CREATE TABLE t()');
    h.receive(
      m.rowDescription(['a', 'b'], [23, 25]), m.dataRow(['1', null]), m.commandComplete('SELECT 1'),
      m.commandComplete('CREATE TABLE'), m.readyForQuery(),
    );
    expect(await results).toEqual([
      { command: 'SELECT 1', fields: ['a', 'b'], typeOids: [23, 25], rows: [['1', null]] },
      { command: 'CREATE TABLE', fields: [], typeOids: [], rows: [] },
    ]);
  });

  test('an error rejects after ReadyForQuery and the next query still works', async () => {
    const h = await ready();
    const failing = h.protocol.simpleQuery('SELECT * FROM nope');
    const next = h.protocol.simpleQuery('SELECT 2');
    expect(h.sentTypes()).toEqual(['Q']); // one at a time
    h.receive(m.errorFields('E', { S: 'ERROR', V: 'ERROR', C: '42P01', M: 'relation "nope" does not exist', P: '15' }));
    let settled = false;
    failing.catch(() => (settled = true));
    await Bun.sleep(0);
    expect(settled).toBe(false);
    h.receive(m.readyForQuery());
    const err = (await failing.catch((e) => e)) as PgError;
    expect(err.code).toBe('42P01');
    expect(err.position).toBe(15);
    expect(err.message).toBe('relation "nope" does not exist');
    expect(h.sentTypes()).toEqual(['Q', 'Q']);
    h.receive(m.rowDescription(['x']), m.dataRow(['2']), m.commandComplete('SELECT 1'), m.readyForQuery());
    expect((await next)[0]!.rows).toEqual([['2']]);
  });

  test('with onRow: DataRows go there as ranges (rowHandler only while its rows arrive), not into the results', async () => {
    const h = await ready();
    const rows: string[] = [];
    const onRow = (data: Uint8Array, start: number, end: number) => rows.push(Array.from(data.subarray(start, end)).join(','));
    expect(h.protocol.rowHandler()).toBeUndefined();
    const plain = h.protocol.simpleQuery('SELECT 1');
    const query = h.protocol.simpleQuery('SELECT x FROM t', onRow);
    // The first query's rows are its results: no handler yet.
    h.receive(m.rowDescription(['x']));
    expect(h.protocol.rowHandler()).toBeUndefined();
    h.receive(m.dataRow(['1']), m.commandComplete('SELECT 1'), m.readyForQuery());
    expect((await plain)[0]!.rows).toEqual([['1']]);
    expect(h.protocol.rowHandler()).toBeUndefined();
    h.receive(m.rowDescription(['x']));
    expect(h.protocol.rowHandler()).toBe(onRow);
    // Through handle() (the read loop's slow path) as a range of the payload.
    h.receive(m.dataRow(['ab', null]));
    h.receive(m.commandComplete('SELECT 1'), m.readyForQuery());
    expect(h.protocol.rowHandler()).toBeUndefined();
    expect((await query)[0]!.rows).toEqual([]);
    expect(rows).toEqual(['0,2,0,0,0,2,97,98,255,255,255,255']);
  });

  test('an empty query gives no result', async () => {
    const h = await ready();
    const results = h.protocol.simpleQuery('');
    h.receive(m.emptyQueryResponse(), m.readyForQuery());
    expect(await results).toEqual([]);
  });

  test('a NUL in the text rejects without sending, and the connection goes on', async () => {
    const h = await ready();
    await expect(h.protocol.simpleQuery('SELECT 1\0')).rejects.toThrow(ProtocolError);
    expect(h.sent.length).toBe(0);
    const ok = h.protocol.simpleQuery('SELECT 1');
    expect(h.sentTypes()).toEqual(['Q']);
    h.receive(m.commandComplete('SELECT 0'), m.readyForQuery());
    await ok;
  });

  test('COPY FROM STDIN is answered with CopyFail; COPY TO STDOUT data is dropped', async () => {
    const h = await ready();
    const copyIn = h.protocol.simpleQuery('COPY t FROM STDIN');
    h.receive(m.copyInResponse());
    expect(h.sentTypes()).toEqual(['Q', 'f']);
    h.receive(m.errorFields('E', { S: 'ERROR', C: '57014', M: 'COPY from stdin failed' }), m.readyForQuery());
    await expect(copyIn).rejects.toThrow('COPY from stdin failed');
    const copyOut = h.protocol.simpleQuery('COPY t TO STDOUT');
    h.receive(m.copyOutResponse(), m.copyData(Uint8Array.of(49, 10)), m.copyDone(), m.commandComplete('COPY 1'), m.readyForQuery());
    expect(await copyOut).toEqual([{ command: 'COPY 1', fields: [], typeOids: [], rows: [] }]);
    expect(h.warnings).toEqual([]);
  });

  test('notices, parameter changes and notifications in the middle change nothing', async () => {
    const h = await ready();
    const notices: PgNotice[] = [];
    h.protocol.noticeHandler = (n) => notices.push(n);
    const results = h.protocol.simpleQuery('SELECT 1');
    h.receive(
      m.rowDescription(['x']), m.errorFields('N', { S: 'NOTICE', C: '00000', M: 'hello' }), m.parameterStatus('TimeZone', 'UTC'),
      m.notification(1, 'c', 'p'), m.dataRow(['1']), m.commandComplete('SELECT 1'), m.readyForQuery(),
    );
    expect((await results)[0]!.rows).toEqual([['1']]);
    expect(notices.map((n) => n.message)).toEqual(['hello']);
    expect(h.protocol.parameters.get('TimeZone')).toBe('UTC');
    expect(h.warnings).toEqual([]);
  });

  test('an unexpected message is reported and skipped', async () => {
    const h = await ready();
    const results = h.protocol.simpleQuery('SELECT 1');
    h.receive(m.message('?', (w) => w.u8(1)), m.message('2'), m.commandComplete('SELECT 0'), m.readyForQuery());
    await results;
    expect(h.warnings).toEqual([
      "unexpected message '?' (1 bytes) while query; skipped",
      "unexpected message '2' (0 bytes) while query; skipped",
    ]);
  });

  test('simpleQueries: both Query messages in one write, each settled in turn; the second gets the rows', async () => {
    const h = await ready();
    const rows: number[] = [];
    const onRow = (_data: Uint8Array, start: number, end: number) => rows.push(end - start);
    const [first, second] = h.protocol.simpleQueries('BEGIN; SELECT 1', 'DECLARE c CURSOR FOR SELECT x FROM t; FETCH 2 FROM c', onRow);
    const after = h.protocol.simpleQuery('SELECT 3');
    // One write holding both messages; the query queued after them waits for its turn.
    expect(h.sent.length).toBe(1);
    const frames = splitFrames([h.sent[0]!]).frames;
    expect(frames.map((f) => String.fromCharCode(f.type))).toEqual(['Q', 'Q']);
    h.receive(m.commandComplete('BEGIN'), m.rowDescription(['?column?']), m.dataRow(['1']), m.commandComplete('SELECT 1'), m.readyForQuery('T'));
    expect((await first)[1]!.rows).toEqual([['1']]);
    expect(h.sent.length).toBe(1);
    h.receive(m.commandComplete('DECLARE CURSOR'), m.rowDescription(['x']), m.dataRow(['a']), m.dataRow(['bc']), m.commandComplete('FETCH 2'), m.readyForQuery('T'));
    expect((await second).map((r) => r.command)).toEqual(['DECLARE CURSOR', 'FETCH 2']);
    expect(rows).toEqual([2 + 4 + 1, 2 + 4 + 2]);
    // Only now the next query goes out.
    expect(h.sentTypes()).toEqual(['Q', 'Q']);
    h.receive(m.commandComplete('SELECT 0'), m.readyForQuery());
    await after;
  });

  test('simpleQueries: an error in the first rejects it; the server still runs the second, which settles on its own', async () => {
    const h = await ready();
    const [first, second] = h.protocol.simpleQueries('BEGIN; SELECT nope', 'SELECT 2');
    h.receive(m.commandComplete('BEGIN'), m.errorFields('E', { S: 'ERROR', V: 'ERROR', C: '42703', M: 'column "nope" does not exist' }), m.readyForQuery('E'));
    expect(((await first.catch((e) => e)) as PgError).code).toBe('42703');
    h.receive(m.errorFields('E', { S: 'ERROR', V: 'ERROR', C: '25P02', M: 'current transaction is aborted' }), m.readyForQuery('E'));
    expect(((await second.catch((e) => e)) as PgError).code).toBe('25P02');
    expect(h.sent.length).toBe(1);
  });

  test('simpleQueries: a NUL in either text rejects both without sending; the transport ending rejects both', async () => {
    const h = await ready();
    const [a, b] = h.protocol.simpleQueries('SELECT 1', 'SELECT 2\0');
    await expect(a).rejects.toThrow(ProtocolError);
    await expect(b).rejects.toThrow(ProtocolError);
    expect(h.sent.length).toBe(0);
    const [c, d] = h.protocol.simpleQueries('SELECT 1', 'SELECT 2');
    h.protocol.transportEnded(undefined, false);
    await expect(c).rejects.toThrow('closed by the server');
    await expect(d).rejects.toThrow('closed by the server');
  });

  test('the transport ending rejects the running and the queued queries', async () => {
    const h = await ready();
    const a = h.protocol.simpleQuery('SELECT 1');
    const b = h.protocol.simpleQuery('SELECT 2');
    h.receive(m.errorFields('E', { S: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' }));
    h.protocol.transportEnded(undefined, false);
    const errA = (await a.catch((e) => e)) as PgError;
    expect(errA.code).toBe('57P01');
    expect(errA.retryable).toBe(true);
    await expect(b).rejects.toThrow('closed by the server');
  });
});

describe('copy-both', () => {
  async function streaming() {
    const h = await ready();
    const data: string[] = [];
    const ends: (Error | undefined)[] = [];
    const started = h.protocol.startCopyBoth('START_REPLICATION SLOT s LOGICAL 0/0', {
      onData: (bytes, start, end) => data.push(String.fromCharCode(...bytes.subarray(start, end))),
      onEnd: (err) => ends.push(err),
    });
    h.receive(m.copyBothResponse());
    await started;
    return { ...h, data, ends };
  }

  test('CopyData goes to onData; notices and parameter changes in between do not end the stream', async () => {
    const s = await streaming();
    s.receive(m.copyData(m.concat(Uint8Array.of(0x6b), new Uint8Array(2))), m.errorFields('N', { S: 'WARNING', M: 'w' }), m.parameterStatus('a', 'b'), m.copyData(Uint8Array.of(0x77)));
    expect(s.data).toEqual(['k\0\0', 'w']);
    expect(s.ends).toEqual([]);
    s.protocol.sendCopyData(Uint8Array.of(0x72));
    expect(s.sentTypes()).toEqual(['Q', 'd']);
  });

  test('ErrorResponse ends the stream with the PgError at ReadyForQuery; the connection is usable again', async () => {
    const s = await streaming();
    s.receive(m.errorFields('E', { S: 'ERROR', C: '55006', M: 'replication slot "s" is active for PID 1' }));
    expect(s.ends).toEqual([]);
    s.receive(m.readyForQuery());
    expect(s.ends.length).toBe(1);
    expect((s.ends[0] as PgError).code).toBe('55006');
    expect(() => s.protocol.sendCopyData(Uint8Array.of(1))).toThrow(/not in copy-both mode/);
    const q = s.protocol.simpleQuery('SELECT 1');
    s.receive(m.commandComplete('SELECT 0'), m.readyForQuery());
    await q;
  });

  test('the server ending copy: CopyDone is answered, onEnd(undefined) after ReadyForQuery', async () => {
    const s = await streaming();
    s.receive(m.copyDone());
    expect(s.sentTypes()).toEqual(['Q', 'c']);
    s.receive(m.rowDescription(['next_tli', 'next_tli_startpos']), m.dataRow(['2', '0/5000000']), m.commandComplete('SELECT'), m.commandComplete('START_STREAMING'), m.readyForQuery());
    expect(s.ends).toEqual([undefined]);
  });

  test('endCopy from our side: one CopyDone, data still delivered until the server confirms', async () => {
    const s = await streaming();
    s.protocol.endCopy();
    s.protocol.endCopy();
    expect(s.sentTypes()).toEqual(['Q', 'c']);
    s.receive(m.copyData(Uint8Array.of(0x77)), m.copyDone(), m.commandComplete('COPY 0'), m.readyForQuery());
    expect(s.sentTypes()).toEqual(['Q', 'c']);
    expect(s.data).toEqual(['w']);
    expect(s.ends).toEqual([undefined]);
  });

  test('the server closing the connection ends the stream with an error; our own close ends it cleanly', async () => {
    const lost = await streaming();
    lost.protocol.transportEnded(undefined, false);
    expect(lost.ends.length).toBe(1);
    expect(lost.ends[0]).toBeInstanceOf(PgConnectError);
    const closed = await streaming();
    closed.protocol.transportEnded(undefined, true);
    expect(closed.ends).toEqual([undefined]);
    closed.protocol.transportEnded(new Error('again'), false);
    expect(closed.ends).toEqual([undefined]);
  });

  test('a FATAL during copy reaches onEnd when the socket closes', async () => {
    const s = await streaming();
    s.receive(m.errorFields('E', { S: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command' }));
    s.protocol.transportEnded(undefined, false);
    expect((s.ends[0] as PgError).code).toBe('57P01');
  });

  test('an error instead of CopyBothResponse rejects startCopyBoth and never calls onEnd', async () => {
    const h = await ready();
    const ends: unknown[] = [];
    const started = h.protocol.startCopyBoth('START_REPLICATION SLOT nope LOGICAL 0/0', { onData() {}, onEnd: (e) => ends.push(e) });
    h.receive(m.errorFields('E', { S: 'ERROR', C: '42704', M: 'replication slot "nope" does not exist' }), m.readyForQuery());
    await expect(started).rejects.toThrow('replication slot "nope" does not exist');
    expect(ends).toEqual([]);
  });

  test('CopyBothResponse to a simple query fails the transport', async () => {
    const h = await ready();
    void h.protocol.simpleQuery('START_REPLICATION SLOT s LOGICAL 0/0').catch(() => {});
    h.receive(m.copyBothResponse());
    expect(h.failures[0]).toBeInstanceOf(ProtocolError);
  });
});

test('server versions', () => {
  expect(parseServerVersion('15.18 (Debian 15.18-1.pgdg120+1)')).toBe(150018);
  expect(parseServerVersion('10.23')).toBe(100023);
  expect(parseServerVersion('9.6.24')).toBe(90624);
  expect(parseServerVersion('17devel')).toBe(170000);
  expect(parseServerVersion('16beta1')).toBe(160000);
  expect(parseServerVersion('weird')).toBe(0);
});

test('a failed SCRAM verification fails the transport before a following ReadyForQuery is handled', async () => {
  const h = harness('pencil');
  let resolved = false;
  void h.protocol.startup({ user: 'alice', database: 'db' }).then(() => (resolved = true), () => {});
  h.receive(m.authenticationSasl('SCRAM-SHA-256'));
  const initial = new Reader(h.sent[1]!);
  initial.u8();
  initial.i32();
  initial.cstring();
  const nonce = initial.string(initial.i32()).split('r=')[1]!;
  h.receive(m.authenticationSaslContinue(`r=${nonce}srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`));
  await Bun.sleep(20); // PBKDF2 runs off the event loop
  expect(h.sentTypes()).toEqual(['?', 'p', 'p']);
  h.receive(m.authenticationSaslFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
  expect(h.failures.length).toBe(1);
  expect(h.failures[0]).toBeInstanceOf(PgConnectError);
  expect(h.failures[0]!.message).toContain('server signature is wrong');
  // connection.ts stops reading at a failure; even a ReadyForQuery that slipped through resolves nothing.
  h.protocol.transportEnded(h.failures[0], false);
  h.receive(m.authenticationOk(), m.readyForQuery());
  await Bun.sleep(0);
  expect(resolved).toBe(false);
});
