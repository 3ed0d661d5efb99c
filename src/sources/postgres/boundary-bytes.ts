/**
 * Transaction boundaries of the replication stream read in place (dispatch.ts's byte paths): an
 * XLogData holding a pgoutput Begin or Commit, and a primary keepalive, read from the CopyData
 * payload's bytes with no view, no message object and no bigint but the LSN the caller keeps. At
 * steady rates every transaction brings one of each (PostgreSQL sends a keepalive each time it waits
 * for WAL). Pure. What these cannot read (a short message, a time beyond a number's range) is left to
 * the general decoders, which report what is wrong with it.
 */
import { readUint32BE } from '../../core/bytes.ts';
import { readInt64Number, XLOGDATA_DATA_OFFSET, xlogDataStartNumber } from '../../replication/copy-both.ts';
import type { Lsn } from '../../replication/lsn.ts';

/** pgoutput Begin ('B': final LSN, commit time, xid) and Commit ('C': flags, commit LSN, end LSN, commit time). */
export const BEGIN = 0x42;
const BEGIN_LENGTH = 21;
export const COMMIT = 0x43;
const COMMIT_LENGTH = 26;
/** A primary keepalive: 'k', end of WAL, server clock, reply requested. */
export const KEEPALIVE_LENGTH = 18;

/** What a Begin says; filled in place (one object per reader, not one per message). */
export interface BeginFields {
  walStart: number;
  finalLsn: Lsn;
  /** Commit time, µs since 2000-01-01. */
  commitMicros: number;
  xid: number;
}

/** What a Commit says that the stream needs: where it starts, and the end LSN of its transaction. */
export interface CommitFields {
  walStart: number;
  endLsn: Lsn;
}

/** The big-endian unsigned 64-bit LSN at bytes[at]. */
function lsnAt(bytes: Uint8Array, at: number): Lsn {
  return (BigInt(readUint32BE(bytes, at)) << 32n) | BigInt(readUint32BE(bytes, at + 4));
}

/** Reads the Begin in the XLogData at bytes[start, end) into `out`; false when the general path must take it. */
export function readBegin(bytes: Uint8Array, start: number, end: number, out: BeginFields): boolean {
  const base = start + XLOGDATA_DATA_OFFSET;
  if (end - base < BEGIN_LENGTH) return false;
  const walStart = xlogDataStartNumber(bytes, start);
  const commitMicros = readInt64Number(bytes, base + 9);
  if (walStart < 0 || Number.isNaN(commitMicros)) return false;
  out.walStart = walStart;
  out.finalLsn = lsnAt(bytes, base + 1);
  out.commitMicros = commitMicros;
  out.xid = readUint32BE(bytes, base + 17);
  return true;
}

/** Reads the Commit in the XLogData at bytes[start, end) into `out`; false when the general path must take it. */
export function readCommit(bytes: Uint8Array, start: number, end: number, out: CommitFields): boolean {
  const base = start + XLOGDATA_DATA_OFFSET;
  if (end - base < COMMIT_LENGTH) return false;
  const walStart = xlogDataStartNumber(bytes, start);
  if (walStart < 0) return false;
  out.walStart = walStart;
  out.endLsn = lsnAt(bytes, base + 10);
  return true;
}

/** The end of WAL of keepalives (payload length checked by the caller); the next one often repeats it, and then costs no bigint. */
export class KeepaliveReader {
  private high = -1;
  private low = -1;
  private last: Lsn = 0n;

  walEnd(bytes: Uint8Array, start: number): Lsn {
    const high = readUint32BE(bytes, start + 1);
    const low = readUint32BE(bytes, start + 5);
    if (high !== this.high || low !== this.low) {
      this.high = high;
      this.low = low;
      this.last = (BigInt(high) << 32n) | BigInt(low);
    }
    return this.last;
  }
}

/** Whether the keepalive at bytes[start] asks for a status update at once. */
export function replyRequested(bytes: Uint8Array, start: number): boolean {
  return bytes[start + 17] !== 0;
}
