/**
 * What a chunk's MVCC snapshot says about the transactions of the stream (docs/snapshots.md, "How
 * a chunk joins the stream"). Pure.
 *
 * `pg_current_snapshot()` prints `xmin:xmax:xip,...` with 64-bit ("full") transaction ids: every
 * transaction below xmin had ended, none at or above xmax had started, and those listed in xip were
 * in progress. A transaction of the stream (pgoutput's Begin carries a 32-bit xid) is visible in
 * the snapshot, its effects in the chunk's rows, when it ended before the snapshot was taken.
 */
import type { Lsn } from '../../../replication/lsn.ts';

export interface PgSnapshot {
  xmin: bigint;
  xmax: bigint;
  /** In progress when the snapshot was taken (full ids). */
  xip: ReadonlySet<bigint>;
}

const SNAPSHOT_TEXT = /^(\d+):(\d+):((?:\d+(?:,\d+)*)?)$/;

/** Parses `pg_current_snapshot()::text` (or txid_current_snapshot); throws on anything else. */
export function parsePgSnapshot(text: string): PgSnapshot {
  const match = SNAPSHOT_TEXT.exec(text.trim());
  if (!match) throw new Error(`not a pg_snapshot: ${JSON.stringify(text.slice(0, 80))}`);
  const xmin = BigInt(match[1]!);
  const xmax = BigInt(match[2]!);
  if (xmin > xmax) throw new Error(`not a pg_snapshot (xmin above xmax): ${text}`);
  const xip = new Set<bigint>(match[3] ? match[3].split(',').map((x) => BigInt(x)) : []);
  return { xmin, xmax, xip };
}

const EPOCH = 1n << 32n;
const HALF_EPOCH = 1n << 31n;

/**
 * The full id of a 32-bit xid seen in the stream around the snapshot's time: the one nearest to
 * xmax (a stream transaction is never 2^31 transactions away from a snapshot taken while it streams).
 */
export function widenXid(xid: number, around: bigint): bigint {
  const epoch = around >> 32n;
  let full = (epoch << 32n) | BigInt(xid >>> 0);
  if (full > around + HALF_EPOCH) full -= EPOCH;
  else if (full + HALF_EPOCH < around) full += EPOCH;
  return full;
}

/** True when the transaction with this 32-bit xid had ended before the snapshot was taken. */
export function visibleIn(snapshot: PgSnapshot, xid: number): boolean {
  const full = widenXid(xid, snapshot.xmax);
  if (full < snapshot.xmin) return true;
  if (full >= snapshot.xmax) return false;
  return !snapshot.xip.has(full);
}

/** WAL page and segment sizes (SHOW wal_block_size, wal_segment_size): where page headers sit. */
export interface WalGeometry {
  blockSize: number;
  segmentSize: number;
}

/** Size of a WAL page header (XLogPageHeaderData), and of the long one that starts a segment. */
const SHORT_PAGE_HEADER = 24n;
const LONG_PAGE_HEADER = 40n;

/**
 * The stream position past which every transaction visible in the chunk's snapshot has been
 * streamed. `insertLsn` (pg_current_wal_insert_lsn, read after the snapshot) is where the next WAL
 * record goes, so every commit the snapshot saw starts before it. Right after a page boundary it
 * points past the page header, where no record ends: the walsender of an idle server reports the
 * boundary itself and would never reach it, so the boundary is the target then.
 */
export function walTarget(insertLsn: Lsn, geometry: WalGeometry): Lsn {
  const inSegment = insertLsn % BigInt(geometry.segmentSize);
  if (inSegment === LONG_PAGE_HEADER) return insertLsn - LONG_PAGE_HEADER;
  if (insertLsn % BigInt(geometry.blockSize) === SHORT_PAGE_HEADER && inSegment !== SHORT_PAGE_HEADER) return insertLsn - SHORT_PAGE_HEADER;
  return insertLsn;
}
