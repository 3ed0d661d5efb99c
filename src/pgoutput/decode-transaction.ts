/**
 * Decoders of the transaction messages of every protocol version: Begin, Commit, Origin, and the
 * logical decoding Message. The type byte has been read; the cursor is at the first field.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import { readStreamXid, type Cursor } from './cursor.ts';
import type { Begin, Commit, LogicalMessage, Origin } from './messages.ts';

/**
 * | Byte1('B') | Int64 final LSN of the transaction | Int64 commit timestamp | Int32 xid |
 */
export function decodeBegin(c: Cursor): Begin {
  const finalLsn = c.u64('final LSN');
  const commitTime = c.i64('commit timestamp');
  const xid = c.u32('xid');
  return { tag: 'begin', finalLsn, commitTime, xid };
}

/**
 * | Byte1('C') | Int8 flags (unused, 0) | Int64 commit LSN | Int64 end LSN of the transaction | Int64 commit timestamp |
 */
export function decodeCommit(c: Cursor): Commit {
  const flags = c.u8('flags');
  const commitLsn = c.u64('commit LSN');
  const endLsn = c.u64('end LSN');
  const commitTime = c.i64('commit timestamp');
  return { tag: 'commit', flags, commitLsn, endLsn, commitTime };
}

/**
 * | Byte1('O') | Int64 commit LSN on the origin server | String origin name |
 */
export function decodeOrigin(c: Cursor): Origin {
  const commitLsn = c.u64('origin commit LSN');
  const name = c.cstring('origin name');
  return { tag: 'origin', commitLsn, name };
}

/**
 * | Byte1('M') | Int32 xid (streamed transactions only, v2+) | Int8 flags (1 = transactional) |
 * | Int64 LSN of the message | String prefix | Int32 content length | Byten content |
 */
export function decodeMessage(c: Cursor, streamed: boolean): LogicalMessage {
  const xid = readStreamXid(c, streamed);
  const flags = c.u8('flags');
  const lsn = c.u64('message LSN');
  const prefix = c.cstring('prefix');
  const length = c.i32('content length');
  const content = c.copy(length, 'content');
  return { tag: 'message', xid, flags, transactional: (flags & 1) !== 0, lsn, prefix, content };
}
