import { Database, type Statement } from 'bun:sqlite';
import { accessSync, closeSync, constants, fsync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { StreamerError, describeError } from '../core/errors.ts';
import { isLsn } from '../replication/lsn.ts';
import type { ServerIdentity, StateStore, StoredSnapshotRecord } from './store.ts';

const fsyncFd = promisify(fsync);

/** Bumped when the schema changes; `PRAGMA user_version` records what a file holds (2: `sources`, 3: `snapshots`). */
const SCHEMA_VERSION = 3;

/** Waits this long for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Statements that bring a file from each version to the next; index = version they start from. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS positions (
    source     TEXT PRIMARY KEY NOT NULL,
    position   TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT`,
  // The cluster each source's position belongs to (IDENTIFY_SYSTEM): a position is only used there.
  `CREATE TABLE IF NOT EXISTS sources (
    source     TEXT PRIMARY KEY NOT NULL,
    system_id  TEXT NOT NULL,
    timeline   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT`,
  // Snapshot progress (docs/snapshots.md): one JSON record per snapshot of a source.
  `CREATE TABLE IF NOT EXISTS snapshots (
    source     TEXT NOT NULL,
    id         TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (source, id)
  ) STRICT`,
];

/**
 * Opens (creating when missing) the SQLite state file: WAL journal, one row per source with the
 * position as decimal text (a 64-bit LSN does not fit SQLite's signed integer). Throws
 * StreamerError('STATE_STORE') naming the path and the cause when the file cannot be used.
 *
 * Durability without blocking the event loop: a commit in WAL mode is durable once the WAL file's
 * bytes are on disk, which is what `synchronous=FULL` does by an fsync inside the commit, on the
 * main thread (≈ 10 ms on the benchmark machine's disk). Here commits run with `synchronous=NORMAL`
 * (SQLite then syncs only around checkpoints) and setPosition resolves after an fsync of the WAL
 * file done on the I/O thread pool: the same guarantee, off the event loop.
 */
export function openSqliteStateStore(path: string): StateStore {
  let db: Database | undefined;
  try {
    createPrivately(path);
    db = new Database(path, { create: true, readwrite: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.query<{ journal_mode: string }, []>('PRAGMA journal_mode = WAL').get()?.journal_mode;
    if (mode?.toLowerCase() !== 'wal') throw new Error(`cannot switch the journal to WAL (got ${mode})`);
    db.run('PRAGMA synchronous = NORMAL');
    migrate(db, path);
    return new SqliteStateStore(db, path);
  } catch (err) {
    db?.close();
    if (err instanceof StreamerError) throw err;
    throw new StreamerError('STATE_STORE', `Cannot open state file '${path}': ${diagnose(path, err)}`, {
      retryable: false,
      cause: err,
    });
  }
}

/**
 * Creates a missing state file with mode 0600 (SQLite would follow the umask, often 0644): it holds
 * positions only, but nobody else needs them. SQLite gives its -wal and -shm files the mode of the
 * database file. An existing file keeps its mode; any other failure is left to SQLite to report.
 */
function createPrivately(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    // Exists already, or cannot be created: opening it below says why.
  }
}

function migrate(db: Database, path: string): void {
  const version = db.query<{ user_version: number }, []>('PRAGMA user_version').get()?.user_version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new StreamerError('STATE_STORE',
      `State file '${path}' has schema version ${version}, newer than this program understands (${SCHEMA_VERSION}); use a newer psql-streamer`,
      { retryable: false });
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (const statement of MIGRATIONS.slice(version)) db.run(statement);
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** Names the likely cause of an open failure; SQLite only says "unable to open database file". */
function diagnose(path: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const detail = describeError(err);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return `the file is locked by another process (waited ${BUSY_TIMEOUT_MS / 1000} s): ${detail}`;
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return `not a SQLite database or corrupted: ${detail}`;
  const dir = dirname(resolve(path));
  const stat = (p: string) => { try { return statSync(p); } catch { return undefined; } };
  const dirStat = stat(dir);
  if (!dirStat) return `directory '${dir}' does not exist`;
  if (!dirStat.isDirectory()) return `'${dir}' is not a directory`;
  const fileStat = stat(path);
  if (fileStat?.isDirectory()) return 'it is a directory';
  try {
    accessSync(fileStat ? path : dir, constants.R_OK | constants.W_OK);
  } catch {
    return fileStat ? 'permission denied (the file must be readable and writable)' : `permission denied (cannot create files in '${dir}')`;
  }
  return detail;
}

class SqliteStateStore implements StateStore {
  private readonly select: Statement<{ position: string }, [string]>;
  private readonly upsert: Statement<unknown, [string, string, string]>;
  private readonly selectIdentity: Statement<{ system_id: string; timeline: number }, [string]>;
  private readonly upsertIdentity: Statement<unknown, [string, string, number, string]>;
  private readonly selectSnapshots: Statement<{ id: string; body: string }, [string]>;
  private readonly upsertSnapshot: Statement<unknown, [string, string, string, string]>;
  private closed = false;
  /** The WAL file, opened at the first write (SQLite creates it lazily); kept for fsync. */
  private walFd: number | undefined;
  private directorySynced: Promise<void> | undefined;

  constructor(private readonly db: Database, private readonly path: string) {
    this.select = db.query('SELECT position FROM positions WHERE source = ?1');
    this.upsert = db.query(
      'INSERT INTO positions (source, position, updated_at) VALUES (?1, ?2, ?3) ' +
      'ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at ' +
      // Never backwards (two instances may share the file, docs/operations.md "Warm standby"): decimal text, so longer is larger.
      'WHERE length(excluded.position) > length(position) OR (length(excluded.position) = length(position) AND excluded.position > position)',
    );
    this.selectIdentity = db.query('SELECT system_id, timeline FROM sources WHERE source = ?1');
    this.upsertIdentity = db.query(
      'INSERT INTO sources (source, system_id, timeline, updated_at) VALUES (?1, ?2, ?3, ?4) ' +
      'ON CONFLICT (source) DO UPDATE SET system_id = excluded.system_id, timeline = excluded.timeline, updated_at = excluded.updated_at',
    );
    this.selectSnapshots = db.query('SELECT id, body FROM snapshots WHERE source = ?1 ORDER BY rowid');
    this.upsertSnapshot = db.query(
      'INSERT INTO snapshots (source, id, body, updated_at) VALUES (?1, ?2, ?3, ?4) ' +
      'ON CONFLICT (source, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at',
    );
  }

  getSnapshots(source: string): StoredSnapshotRecord[] {
    this.checkOpen();
    return this.run('read', () => this.selectSnapshots.all(source)).map((row) => ({ id: row.id, body: row.body }));
  }

  async saveSnapshot(source: string, id: string, body: string): Promise<void> {
    this.checkOpen();
    this.run('write', () => this.upsertSnapshot.run(source, id, body, new Date().toISOString()));
    try {
      await this.syncWal();
    } catch (err) {
      throw new StreamerError('STATE_STORE', `Cannot sync state file '${this.path}': ${describeError(err)}`, { cause: err });
    }
  }

  deleteSnapshot(source: string, id: string): boolean {
    this.checkOpen();
    return this.run('write', () => this.db.run('DELETE FROM snapshots WHERE source = ?1 AND id = ?2', [source, id]).changes > 0);
  }

  getPosition(source: string): bigint | undefined {
    this.checkOpen();
    const row = this.run('read', () => this.select.get(source));
    if (!row) return undefined;
    const text = row.position;
    const position = /^\d{1,20}$/.test(text) ? BigInt(text) : undefined;
    if (position === undefined || !isLsn(position)) {
      throw new StreamerError('STATE_STORE',
        `State file '${this.path}': the saved position of source '${source}' is ${JSON.stringify(text.slice(0, 64))}, not a WAL position ` +
        `(a decimal number below 2^64); the file was edited or damaged. Nothing was streamed. Forget it with ` +
        `\`psql-streamer reset-position -config FILE --source ${source}\` (the source then resumes from its replication slot) and start again`,
        { retryable: false });
    }
    return position;
  }

  async setPosition(source: string, position: bigint): Promise<void> {
    this.checkOpen();
    this.run('write', () => this.upsert.run(source, position.toString(), new Date().toISOString()));
    try {
      await this.syncWal();
    } catch (err) {
      throw new StreamerError('STATE_STORE', `Cannot sync state file '${this.path}': ${describeError(err)}`, { cause: err });
    }
  }

  getServerIdentity(source: string): ServerIdentity | undefined {
    this.checkOpen();
    const row = this.run('read', () => this.selectIdentity.get(source));
    return row ? { systemId: row.system_id, timeline: row.timeline } : undefined;
  }

  /** Written before any position from that cluster: the fsync of a later position covers it (one WAL, in order). */
  setServerIdentity(source: string, identity: ServerIdentity): void {
    this.checkOpen();
    this.run('write', () => this.upsertIdentity.run(source, identity.systemId, identity.timeline, new Date().toISOString()));
  }

  resetSource(source: string): boolean {
    this.checkOpen();
    return this.run('write', () => this.db.transaction(() => {
      const positions = this.db.run('DELETE FROM positions WHERE source = ?1', [source]).changes;
      const identities = this.db.run('DELETE FROM sources WHERE source = ?1', [source]).changes;
      return positions + identities > 0;
    }).immediate());
  }

  /** Puts everything SQLite wrote to the WAL so far on disk (the WAL file lives as long as this connection). */
  private async syncWal(): Promise<void> {
    if (this.walFd === undefined) {
      this.walFd = openSync(`${this.path}-wal`, 'r');
      // Once: a new file survives a power loss only with its directory entry.
      const dirFd = openSync(dirname(resolve(this.path)), 'r');
      this.directorySynced = fsyncFd(dirFd).finally(() => closeSync(dirFd));
    }
    await Promise.all([this.directorySynced, fsyncFd(this.walFd)]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.walFd !== undefined) closeSync(this.walFd);
    for (const statement of [this.select, this.upsert, this.selectIdentity, this.upsertIdentity, this.selectSnapshots, this.upsertSnapshot]) statement.finalize();
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new StreamerError('STATE_STORE', `State file '${this.path}' is closed`, { retryable: false });
  }

  /** Maps SQLite errors; they are retryable (a full disk or a lock may clear). */
  private run<T>(what: string, op: () => T): T {
    try {
      return op();
    } catch (err) {
      throw new StreamerError('STATE_STORE', `Cannot ${what} state file '${this.path}': ${describeError(err)}`, { cause: err });
    }
  }
}

export { createMemoryStateStore } from './memory-store.ts';
