/**
 * Pure codecs of the payloads carried in CopyData messages while START_REPLICATION streams
 * (the CopyBoth sub-protocol): XLogData and primary keepalive from the server, standby status
 * update from us. https://www.postgresql.org/docs/current/protocol-replication.html
 */
import { readInt32BE, readUint32BE } from '../core/bytes.ts';
import { nowMicros } from '../core/time.ts';
import { isLsn, type Lsn } from './lsn.ts';

/** Microseconds between the Unix epoch and the PostgreSQL epoch (2000-01-01 00:00:00 UTC). */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;

/** A section of the WAL stream (for logical replication: one pgoutput message). */
export interface XLogData {
  tag: 'xlogdata';
  /** Starting point of the WAL data in this message. */
  walStart: Lsn;
  /** Current end of WAL on the server. */
  walEnd: Lsn;
  /** Server clock at transmission, µs since 2000-01-01. */
  serverTime: bigint;
  /** The payload: a view into the caller's buffer, valid only until that buffer is reused. */
  data: Uint8Array;
}

/** The server's heartbeat; `replyRequested` asks for a status update at once (or it disconnects). */
export interface PrimaryKeepalive {
  tag: 'keepalive';
  walEnd: Lsn;
  serverTime: bigint;
  replyRequested: boolean;
}

/** What the server sends inside CopyData during replication. */
export type CopyBothMessage = XLogData | PrimaryKeepalive;

/** Fields of a standby status update ('r'). */
export interface StandbyStatus {
  write: Lsn;
  flush: Lsn;
  apply: Lsn;
  clientTime: bigint;
  replyRequested: boolean;
}

/** A CopyData payload that is not a valid XLogData or keepalive. */
export class ReplicationDecodeError extends Error {
  constructor(
    message: string,
    /** The payload's first byte as a character ('' for an empty payload). */
    readonly messageType: string,
    /** True when the type byte is not one we know (a newer server); the caller may log and skip. */
    readonly unknownType = false,
  ) {
    super(message);
    this.name = 'ReplicationDecodeError';
  }
}

/** CopyData type of XLogData ('w') and of a primary keepalive ('k'). */
export const XLOGDATA = 0x77; // 'w'
export const KEEPALIVE = 0x6b; // 'k'
const STATUS_UPDATE = 0x72; // 'r'
const XLOGDATA_HEADER = 25;
const KEEPALIVE_LENGTH = 18;
/** Size of an encoded standby status update. */
export const STANDBY_STATUS_LENGTH = 34;

function viewOf(payload: Uint8Array): DataView {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * Decodes one CopyData payload of the replication stream.
 *
 * | XLogData             | Primary keepalive        |
 * |----------------------|--------------------------|
 * | Byte1('w')           | Byte1('k')               |
 * | Int64 WAL start      | Int64 end of WAL         |
 * | Int64 end of WAL     | Int64 server clock (µs)  |
 * | Int64 server clock   | Byte1 reply requested    |
 * | Byten WAL data       |                          |
 *
 * Extra bytes after a keepalive are ignored, as the protocol extends messages at the end.
 */
export function decodeCopyBothMessage(payload: Uint8Array): CopyBothMessage {
  if (payload.byteLength === 0) throw new ReplicationDecodeError('empty CopyData payload', '');
  const type = payload[0] as number;
  const typeChar = String.fromCharCode(type);
  if (type === XLOGDATA) {
    if (payload.byteLength < XLOGDATA_HEADER) {
      throw new ReplicationDecodeError(`XLogData must have at least ${XLOGDATA_HEADER} bytes, got ${payload.byteLength}`, typeChar);
    }
    const view = viewOf(payload);
    return {
      tag: 'xlogdata',
      walStart: view.getBigUint64(1),
      walEnd: view.getBigUint64(9),
      serverTime: view.getBigInt64(17),
      data: payload.subarray(XLOGDATA_HEADER),
    };
  }
  if (type === KEEPALIVE) {
    if (payload.byteLength < KEEPALIVE_LENGTH) {
      throw new ReplicationDecodeError(`primary keepalive must have ${KEEPALIVE_LENGTH} bytes, got ${payload.byteLength}`, typeChar);
    }
    const view = viewOf(payload);
    return {
      tag: 'keepalive',
      walEnd: view.getBigUint64(1),
      serverTime: view.getBigInt64(9),
      replyRequested: view.getUint8(17) !== 0,
    };
  }
  throw new ReplicationDecodeError(`unknown replication message type 0x${type.toString(16).padStart(2, '0')}`, typeChar, true);
}

/** Bytes before an XLogData's WAL data: type, WAL start, WAL end, server clock. */
export const XLOGDATA_DATA_OFFSET = 25;

/**
 * The WAL start of an XLogData payload at `start` (`payload[start] === 'w'`, at least 25 bytes,
 * checked by the caller), read without decoding the rest: the hot path's alternative to
 * decodeCopyBothMessage. A number, which costs no allocation (the hot path makes a bigint only when
 * someone reads the event's LSN), or -1 from 2^53 on (beyond any real server's WAL: 8 PiB).
 */
export function xlogDataStartNumber(payload: Uint8Array, start = 0): number {
  const high = readUint32BE(payload, start + 1);
  const low = readUint32BE(payload, start + 5);
  return high < 0x20_0000 ? high * 0x1_0000_0000 + low : -1;
}

/**
 * The big-endian signed 64-bit integer at bytes[at] (an LSN, a pgoutput timestamp) as a number, or
 * NaN when it is not a safe integer (beyond ±2^53: PostgreSQL's infinite timestamps). The caller
 * checked the bounds. The byte paths' alternative to a DataView and a bigint.
 */
export function readInt64Number(bytes: Uint8Array, at: number): number {
  const high = readInt32BE(bytes, at);
  if (high >= 0x20_0000 || high < -0x20_0000) return Number.NaN;
  return high * 0x1_0000_0000 + readUint32BE(bytes, at + 4);
}

/**
 * Encodes a standby status update (34 bytes), to be sent as a CopyData payload.
 *
 * | Byte1('r') | Int64 written | Int64 flushed | Int64 applied | Int64 client clock (µs) | Byte1 reply requested |
 *
 * Each position is "last WAL byte + 1"; flush is what the server may discard up to (for a logical
 * slot it becomes `confirmed_flush_lsn`).
 */
export function encodeStandbyStatusUpdate(status: StandbyStatus): Uint8Array {
  for (const field of ['write', 'flush', 'apply'] as const) {
    if (!isLsn(status[field])) throw new RangeError(`standby status ${field} position ${status[field]} is not an LSN`);
  }
  const out = new Uint8Array(STANDBY_STATUS_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = STATUS_UPDATE;
  view.setBigUint64(1, status.write);
  view.setBigUint64(9, status.flush);
  view.setBigUint64(17, status.apply);
  view.setBigInt64(25, BigInt.asIntN(64, status.clientTime));
  out[33] = status.replyRequested ? 1 : 0;
  return out;
}

/** The current time in µs since the PostgreSQL epoch (2000-01-01 UTC). */
export function pgTimeMicrosNow(): bigint {
  return BigInt(nowMicros()) - PG_EPOCH_OFFSET_MICROS;
}

// timestamptz's +/-infinity are int64's extremes (DT_NOEND / DT_NOBEGIN).
const PG_INFINITY = 0x7fff_ffff_ffff_ffffn;
const PG_MINUS_INFINITY = -0x8000_0000_0000_0000n;

/**
 * Formats µs since the PostgreSQL epoch as RFC 3339 UTC with six fractional digits,
 * e.g. "2024-05-06T07:08:09.123456Z"; "infinity"/"-infinity" for PostgreSQL's infinite timestamps.
 * Throws RangeError beyond JavaScript's date range (±275,760 years).
 */
export function pgTimeToIso(us: bigint): string {
  if (us === PG_INFINITY) return 'infinity';
  if (us === PG_MINUS_INFINITY) return '-infinity';
  const unixMicros = us + PG_EPOCH_OFFSET_MICROS;
  let millis = unixMicros / 1000n;
  let micros = unixMicros % 1000n;
  if (micros < 0n) {
    // bigint division truncates toward zero; borrow so the fraction is always positive.
    millis -= 1n;
    micros += 1000n;
  }
  const iso = new Date(Number(millis)).toISOString(); // ...ss.mmmZ
  return iso.slice(0, -1) + String(micros).padStart(3, '0') + 'Z';
}

const PG_EPOCH_OFFSET_MICROS_NUMBER = Number(PG_EPOCH_OFFSET_MICROS);
/** The second pgMicrosToIso formatted last, and its text up to the fraction ("2024-05-06T07:08:09."). */
let isoSecond = Number.NaN;
let isoSecondText = '';

/**
 * pgTimeToIso for µs held in a number (readInt64Number), with the same text: consecutive commits
 * nearly always fall in the same second, whose date and time are formatted once. `us` is a safe
 * integer; beyond 2^53 once moved to the Unix epoch, pgTimeToIso formats it.
 */
export function pgMicrosToIso(us: number): string {
  const unixMicros = us + PG_EPOCH_OFFSET_MICROS_NUMBER;
  if (!Number.isSafeInteger(unixMicros)) return pgTimeToIso(BigInt(us));
  const second = Math.floor(unixMicros / 1_000_000);
  if (second !== isoSecond) {
    isoSecondText = new Date(second * 1000).toISOString().slice(0, -4); // ...ss.
    isoSecond = second;
  }
  const fraction = unixMicros - second * 1_000_000;
  return isoSecondText + (fraction < 100_000 ? String(1_000_000 + fraction).slice(1) : String(fraction)) + 'Z';
}
