/**
 * Decoders of the streaming messages (protocol 2+, PostgreSQL 14+, `streaming` option): large
 * in-progress transactions arrive in blocks between Stream Start and Stream Stop, then end with
 * Stream Commit or Stream Abort. The type byte has been read; the cursor is at the first field.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import type { Cursor } from './cursor.ts';
import type { StreamAbort, StreamCommit, StreamStart, StreamStop } from './messages.ts';

/**
 * | Byte1('S') | Int32 xid | Int8 1 if this is the first stream segment for the xid, else 0 |
 */
export function decodeStreamStart(c: Cursor): StreamStart {
  const xid = c.u32('xid');
  const firstSegment = c.u8('first segment flag') === 1;
  return { tag: 'stream-start', xid, firstSegment };
}

/** | Byte1('E') | (no fields) */
export function decodeStreamStop(): StreamStop {
  return { tag: 'stream-stop' };
}

/**
 * | Byte1('c') | Int32 xid | Int8 flags (unused, 0) | Int64 commit LSN | Int64 end LSN | Int64 commit timestamp |
 */
export function decodeStreamCommit(c: Cursor): StreamCommit {
  const xid = c.u32('xid');
  const flags = c.u8('flags');
  const commitLsn = c.u64('commit LSN');
  const endLsn = c.u64('end LSN');
  const commitTime = c.i64('commit timestamp');
  return { tag: 'stream-commit', xid, flags, commitLsn, endLsn, commitTime };
}

/**
 * | Byte1('A') | Int32 xid | Int32 subtransaction xid (= xid for the top level) |
 * | Int64 abort LSN | Int64 abort timestamp |   ← both only in v4+ with streaming = parallel
 * The version alone does not tell whether the last two fields are there, so their presence is
 * read from the message length.
 */
export function decodeStreamAbort(c: Cursor, _streamed: boolean, protoVersion: number): StreamAbort {
  const xid = c.u32('xid');
  const subXid = c.u32('subtransaction xid');
  let abortLsn: bigint | undefined;
  let abortTime: bigint | undefined;
  if (protoVersion >= 4 && c.remaining > 0) {
    abortLsn = c.u64('abort LSN');
    abortTime = c.i64('abort timestamp');
  }
  return { tag: 'stream-abort', xid, subXid, abortLsn, abortTime };
}
