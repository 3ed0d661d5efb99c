import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { Database } from 'bun:sqlite';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamerError } from '../../../src/core/errors.ts';
import { openSqliteStateStore } from '../../../src/state/sqlite-store.ts';
import { createMemoryStateStore } from '../../../src/state/memory-store.ts';
import type { StateStore } from '../../../src/state/store.ts';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'state-store-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function openError(path: string): StreamerError {
  try {
    openSqliteStateStore(path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamerError);
    return err as StreamerError;
  }
  throw new Error(`opening ${path} unexpectedly succeeded`);
}

describe.each([
  ['sqlite', () => openSqliteStateStore(join(dir, 'state.db'))],
  ['memory', () => createMemoryStateStore()],
] as const)('%s store', (_kind, open: () => StateStore) => {
  test('round trip, overwrite, unknown source', async () => {
    const store = open();
    expect(store.getPosition('db1')).toBeUndefined();
    await store.setPosition('db1', 42n);
    expect(store.getPosition('db1')).toBe(42n);
    await store.setPosition('db1', 43n);
    expect(store.getPosition('db1')).toBe(43n);
    expect(store.getPosition('DB1')).toBeUndefined();
    store.close();
  });

  test('never goes back: a lower position leaves the stored one; equal and higher ones are kept, across digit counts', async () => {
    const store = open();
    await store.setPosition('db1', 1000n);
    await store.setPosition('db1', 999n);
    expect(store.getPosition('db1')).toBe(1000n);
    await store.setPosition('db1', 1000n);
    await store.setPosition('db1', 2n ** 64n - 1n);
    await store.setPosition('db1', 2n ** 63n);
    expect(store.getPosition('db1')).toBe(2n ** 64n - 1n);
    await store.setPosition('db2', 5n);
    expect(store.getPosition('db2')).toBe(5n);
    // reset-position forgets it: then any position is taken.
    expect(store.resetSource('db1')).toBe(true);
    await store.setPosition('db1', 7n);
    expect(store.getPosition('db1')).toBe(7n);
    store.close();
  });

  test('keeps 64-bit positions exact', async () => {
    const store = open();
    const beyond = 2n ** 53n + 1n;
    const maxLsn = 2n ** 64n - 1n;
    await store.setPosition('a', beyond);
    await store.setPosition('b', maxLsn);
    await store.setPosition('c', 0n);
    expect(store.getPosition('a')).toBe(beyond);
    expect(store.getPosition('b')).toBe(maxLsn);
    expect(store.getPosition('c')).toBe(0n);
    store.close();
  });

  test('many sources are independent', async () => {
    const store = open();
    for (let i = 0; i < 200; i++) await store.setPosition(`source-${i}`, BigInt(i) * 1_000_000_007n);
    for (let i = 0; i < 200; i++) expect(store.getPosition(`source-${i}`)).toBe(BigInt(i) * 1_000_000_007n);
    store.close();
  });

  test('use after close is a clear error', async () => {
    const store = open();
    store.close();
    expect(() => store.getPosition('db1')).toThrow(/closed/);
    await expect(store.setPosition('db1', 1n)).rejects.toThrow(/closed/);
  });
});

describe('sqlite file', () => {
  test('a position is durable when setPosition resolves: committed without a sync on the event loop, then the WAL synced', async () => {
    const path = join(dir, 'state.db');
    const store = openSqliteStateStore(path);
    const peek = new Database(path, { readonly: true });
    const write = store.setPosition('db1', 5n);
    // Committed before the sync: another connection sees it at once.
    expect(peek.query('SELECT position FROM positions').get()).toEqual({ position: '5' });
    await write;
    const writes = await Promise.all([store.setPosition('db1', 6n), store.setPosition('db2', 7n)]);
    expect(writes).toEqual([undefined, undefined]);
    peek.close();
    store.close();
    const again = openSqliteStateStore(path);
    expect([again.getPosition('db1'), again.getPosition('db2')]).toEqual([6n, 7n]);
    again.close();
  });

  test('reopening finds what was persisted', async () => {
    const path = join(dir, 'state.db');
    const first = openSqliteStateStore(path);
    await first.setPosition('db1', 123456789012345678n);
    await first.setPosition('kafka-in', 7n);
    first.close();
    const second = openSqliteStateStore(path);
    expect(second.getPosition('db1')).toBe(123456789012345678n);
    expect(second.getPosition('kafka-in')).toBe(7n);
    second.close();
  });

  test('uses a WAL journal and records its schema version; rows hold decimal text', async () => {
    const path = join(dir, 'state.db');
    const store = openSqliteStateStore(path);
    await store.setPosition('db1', 2n ** 63n);
    const peek = new Database(path, { readonly: true });
    expect(peek.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(peek.query('PRAGMA user_version').get()).toEqual({ user_version: 3 });
    const row = peek.query('SELECT source, position, updated_at FROM positions').get() as Record<string, string>;
    expect(row.source).toBe('db1');
    expect(row.position).toBe('9223372036854775808');
    expect(Number.isNaN(Date.parse(row.updated_at!))).toBe(false);
    peek.close();
    store.close();
  });

  test('a missing directory is named in the error', () => {
    const err = openError(join(dir, 'no', 'such', 'state.db'));
    expect(err.code).toBe('STATE_STORE');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(`Cannot open state file '${join(dir, 'no', 'such', 'state.db')}': directory '${join(dir, 'no', 'such')}' does not exist`);
  });

  test('a directory in place of the file is named in the error', () => {
    mkdirSync(join(dir, 'state.db'));
    expect(openError(join(dir, 'state.db')).message).toBe(`Cannot open state file '${join(dir, 'state.db')}': it is a directory`);
  });

  test('a file that is not a database is reported as such', () => {
    const path = join(dir, 'state.db');
    writeFileSync(path, 'this is not sqlite, just some text that is long enough to fill a header '.repeat(20));
    expect(openError(path).message).toContain(`Cannot open state file '${path}': not a SQLite database or corrupted`);
  });

  test('a file from a newer version is refused, not rewritten', () => {
    const path = join(dir, 'state.db');
    const db = new Database(path, { create: true });
    db.run('PRAGMA user_version = 99');
    db.close();
    expect(openError(path).message).toContain('schema version 99, newer than this program understands (3)');
  });

  test('a version 1 file (positions only) is migrated: positions kept, identities empty until recorded', async () => {
    const path = join(dir, 'state.db');
    const v1 = new Database(path, { create: true });
    v1.run('PRAGMA journal_mode = WAL');
    v1.run('CREATE TABLE positions (source TEXT PRIMARY KEY NOT NULL, position TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT');
    v1.run("INSERT INTO positions VALUES ('db1', '4242', '2026-11-01T00:00:00Z')");
    v1.run('PRAGMA user_version = 1');
    v1.close();
    const store = openSqliteStateStore(path);
    expect(store.getPosition('db1')).toBe(4242n);
    expect(store.getServerIdentity('db1')).toBeUndefined();
    store.setServerIdentity('db1', { systemId: '7312345678901234567', timeline: 2 });
    store.close();
    const again = openSqliteStateStore(path);
    expect(again.getServerIdentity('db1')).toEqual({ systemId: '7312345678901234567', timeline: 2 });
    again.close();
  });

  test('snapshot records: saved durably, replaced by id, listed in first-saved order per source, deleted', async () => {
    const path = join(dir, 'state.db');
    const store = openSqliteStateStore(path);
    await store.saveSnapshot('db1', 'initial', '{"state":"running"}');
    await store.saveSnapshot('db1', 'b-2', '{"state":"pending"}');
    await store.saveSnapshot('db2', 'initial', '{"other":true}');
    await store.saveSnapshot('db1', 'initial', '{"state":"done"}');
    store.close();
    const again = openSqliteStateStore(path);
    expect(again.getSnapshots('db1')).toEqual([{ id: 'initial', body: '{"state":"done"}' }, { id: 'b-2', body: '{"state":"pending"}' }]);
    expect(again.getSnapshots('db2')).toEqual([{ id: 'initial', body: '{"other":true}' }]);
    expect(again.deleteSnapshot('db1', 'b-2')).toBe(true);
    expect(again.deleteSnapshot('db1', 'b-2')).toBe(false);
    expect(again.getSnapshots('db1').map((r) => r.id)).toEqual(['initial']);
    expect(again.getSnapshots('nobody')).toEqual([]);
    again.close();
  });

  test('a version 2 file gets the snapshots table; positions and identities are kept', async () => {
    const path = join(dir, 'state.db');
    const v2 = new Database(path, { create: true });
    v2.run('PRAGMA journal_mode = WAL');
    v2.run('CREATE TABLE positions (source TEXT PRIMARY KEY NOT NULL, position TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT');
    v2.run('CREATE TABLE sources (source TEXT PRIMARY KEY NOT NULL, system_id TEXT NOT NULL, timeline INTEGER NOT NULL, updated_at TEXT NOT NULL) STRICT');
    v2.run("INSERT INTO positions VALUES ('db1', '77', '2026-11-01T00:00:00Z')");
    v2.run("INSERT INTO sources VALUES ('db1', '7312345678901234567', 1, '2026-11-01T00:00:00Z')");
    v2.run('PRAGMA user_version = 2');
    v2.close();
    const store = openSqliteStateStore(path);
    expect(store.getPosition('db1')).toBe(77n);
    expect(store.getServerIdentity('db1')).toEqual({ systemId: '7312345678901234567', timeline: 1 });
    expect(store.getSnapshots('db1')).toEqual([]);
    await store.saveSnapshot('db1', 'initial', '{}');
    expect(store.getSnapshots('db1')).toHaveLength(1);
    store.close();
  });

  test.each([['garbage'], [''], ['-5'], ['18446744073709551616'], ['12abc']])('a saved position %p that is not an LSN names the file, the source and the remedy', (text) => {
    const path = join(dir, 'state.db');
    openSqliteStateStore(path).close();
    const db = new Database(path);
    db.run("INSERT INTO positions VALUES ('db1', ?1, '2026-11-01T00:00:00Z')", [text]);
    db.close();
    const store = openSqliteStateStore(path);
    let err: unknown;
    try {
      store.getPosition('db1');
    } catch (caught) {
      err = caught;
    }
    store.close();
    expect(err).toBeInstanceOf(StreamerError);
    expect((err as StreamerError).retryable).toBe(false);
    expect((err as StreamerError).message).toContain(`State file '${path}': the saved position of source 'db1' is ${JSON.stringify(text)}, not a WAL position`);
    expect((err as StreamerError).message).toContain('psql-streamer reset-position -config FILE --source db1');
  });
});

describe.each([
  ['sqlite', () => openSqliteStateStore(join(dir, 'state.db'))],
  ['memory', () => createMemoryStateStore()],
] as const)('%s store: server identity and reset', (_kind, open: () => StateStore) => {
  test('identities are kept per source and overwritten; reset forgets position and identity of one source', async () => {
    const store = open();
    expect(store.getServerIdentity('db1')).toBeUndefined();
    store.setServerIdentity('db1', { systemId: '1', timeline: 1 });
    store.setServerIdentity('db1', { systemId: '1', timeline: 2 });
    store.setServerIdentity('db2', { systemId: '9', timeline: 1 });
    await store.setPosition('db1', 100n);
    await store.setPosition('db2', 200n);
    expect(store.getServerIdentity('db1')).toEqual({ systemId: '1', timeline: 2 });
    expect(store.resetSource('db1')).toBe(true);
    expect(store.getPosition('db1')).toBeUndefined();
    expect(store.getServerIdentity('db1')).toBeUndefined();
    expect(store.resetSource('db1')).toBe(false);
    expect(store.getPosition('db2')).toBe(200n);
    expect(store.getServerIdentity('db2')).toEqual({ systemId: '9', timeline: 1 });
    store.close();
  });
});

describe('state file modes', () => {
  const mode = (path: string) => statSync(path).mode & 0o777;

  test('a new state file and its -wal and -shm files are 0600 under umask 022', async () => {
    const umask = process.umask(0o022);
    try {
      const path = join(dir, 'new.db');
      const store = openSqliteStateStore(path);
      await store.setPosition('db1', 1n);
      expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
      store.close();
    } finally {
      process.umask(umask);
    }
  });

  test('an existing state file keeps the mode the operator gave it', async () => {
    const umask = process.umask(0o022);
    try {
      const path = join(dir, 'kept.db');
      openSqliteStateStore(path).close();
      chmodSync(path, 0o640);
      const store = openSqliteStateStore(path);
      await store.setPosition('db1', 2n);
      store.close();
      expect(mode(path)).toBe(0o640);
    } finally {
      process.umask(umask);
    }
  });
});

test('two connections to one state file (two instances): the later, lower write does not win', async () => {
  const path = join(dir, 'shared.db');
  const a = openSqliteStateStore(path);
  const b = openSqliteStateStore(path);
  await a.setPosition('db1', 500n);
  await b.setPosition('db1', 400n);
  expect(a.getPosition('db1')).toBe(500n);
  expect(b.getPosition('db1')).toBe(500n);
  await b.setPosition('db1', 600n);
  expect(a.getPosition('db1')).toBe(600n);
  a.close();
  b.close();
});
