/**
 * Decoders of the two-phase commit messages (protocol 3+, PostgreSQL 15+, `two_phase` option):
 * a prepared transaction is sent at PREPARE TRANSACTION and resolved later by COMMIT PREPARED or
 * ROLLBACK PREPARED. The type byte has been read; the cursor is at the first field.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type { Cursor } from './cursor.ts';
import type { BeginPrepare, CommitPrepared, Prepare, RollbackPrepared, StreamPrepare } from './messages.ts';

/**
 * | Byte1('b') | Int64 prepare LSN | Int64 end LSN of the prepared transaction | Int64 prepare timestamp |
 * | Int32 xid | String GID |
 */
export function decodeBeginPrepare(c: Cursor): BeginPrepare {
  const prepareLsn = c.u64('prepare LSN');
  const endLsn = c.u64('end LSN');
  const prepareTime = c.i64('prepare timestamp');
  const xid = c.u32('xid');
  const gid = c.cstring('GID');
  return { tag: 'begin-prepare', prepareLsn, endLsn, prepareTime, xid, gid };
}

/** Prepare and Stream Prepare share one layout; only the tag differs. */
function decodePrepared<T extends 'prepare' | 'stream-prepare'>(c: Cursor, tag: T) {
  const flags = c.u8('flags');
  const prepareLsn = c.u64('prepare LSN');
  const endLsn = c.u64('end LSN');
  const prepareTime = c.i64('prepare timestamp');
  const xid = c.u32('xid');
  const gid = c.cstring('GID');
  return { tag, flags, prepareLsn, endLsn, prepareTime, xid, gid };
}

/**
 * | Byte1('P') | Int8 flags (unused, 0) | Int64 prepare LSN | Int64 end LSN of the prepared transaction |
 * | Int64 prepare timestamp | Int32 xid | String GID |
 */
export function decodePrepare(c: Cursor): Prepare {
  return decodePrepared(c, 'prepare');
}

/**
 * | Byte1('p') | Int8 flags (unused, 0) | Int64 prepare LSN | Int64 end LSN of the prepared transaction |
 * | Int64 prepare timestamp | Int32 xid | String GID |
 */
export function decodeStreamPrepare(c: Cursor): StreamPrepare {
  return decodePrepared(c, 'stream-prepare');
}

/**
 * | Byte1('K') | Int8 flags (unused, 0) | Int64 commit LSN | Int64 end LSN of the commit prepared |
 * | Int64 commit timestamp | Int32 xid | String GID |
 */
export function decodeCommitPrepared(c: Cursor): CommitPrepared {
  const flags = c.u8('flags');
  const commitLsn = c.u64('commit LSN');
  const endLsn = c.u64('end LSN');
  const commitTime = c.i64('commit timestamp');
  const xid = c.u32('xid');
  const gid = c.cstring('GID');
  return { tag: 'commit-prepared', flags, commitLsn, endLsn, commitTime, xid, gid };
}

/**
 * | Byte1('r') | Int8 flags (unused, 0) | Int64 end LSN of the prepared transaction |
 * | Int64 end LSN of the rollback prepared | Int64 prepare timestamp | Int64 rollback timestamp |
 * | Int32 xid | String GID |
 */
export function decodeRollbackPrepared(c: Cursor): RollbackPrepared {
  const flags = c.u8('flags');
  const prepareEndLsn = c.u64('prepare end LSN');
  const rollbackEndLsn = c.u64('rollback end LSN');
  const prepareTime = c.i64('prepare timestamp');
  const rollbackTime = c.i64('rollback timestamp');
  const xid = c.u32('xid');
  const gid = c.cstring('GID');
  return { tag: 'rollback-prepared', flags, prepareEndLsn, rollbackEndLsn, prepareTime, rollbackTime, xid, gid };
}
