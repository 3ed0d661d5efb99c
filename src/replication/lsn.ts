/**
 * Log sequence numbers (LSNs): 64-bit byte positions in the WAL, kept as `bigint` end to end.
 * Text form as PostgreSQL's `pg_lsn` type prints it: two hexadecimal halves, `16/B374D848`.
 * https://www.postgresql.org/docs/current/datatype-pg-lsn.html
 */

/** A WAL position: an unsigned 64-bit integer. */
export type Lsn = bigint;

/** The invalid/unset position `0/0` (PostgreSQL's InvalidXLogRecPtr). */
export const INVALID_LSN: Lsn = 0n;

/** The largest LSN, `FFFFFFFF/FFFFFFFF`. */
export const MAX_LSN: Lsn = 0xffff_ffff_ffff_ffffn;

/** Text that is not an LSN, or a bigint outside 0..2^64-1. */
export class InvalidLsnError extends Error {
  constructor(readonly input: string) {
    super(`invalid LSN ${JSON.stringify(input)}: expected two hexadecimal numbers of 1 to 8 digits separated by "/", e.g. "16/B374D848"`);
    this.name = 'InvalidLsnError';
  }
}

// pg_lsn_in accepts exactly this: 1-8 hex digits, '/', 1-8 hex digits, nothing around them.
const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses `X/Y` (e.g. "16/B374D848") into a bigint; throws InvalidLsnError on anything else. */
export function parseLsn(text: string): Lsn {
  const match = LSN_TEXT.exec(text);
  if (match === null) throw new InvalidLsnError(text);
  const high = Number.parseInt(match[1] as string, 16);
  const low = Number.parseInt(match[2] as string, 16);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** Formats an LSN as upper-case `X/Y` (e.g. "16/B374D848"); throws InvalidLsnError outside 0..2^64-1. */
export function formatLsn(lsn: Lsn): string {
  if (lsn < 0n || lsn > MAX_LSN) throw new InvalidLsnError(String(lsn));
  const high = Number(lsn >> 32n);
  const low = Number(lsn & 0xffff_ffffn);
  return high.toString(16).toUpperCase() + '/' + low.toString(16).toUpperCase();
}

/** Whether a bigint is a representable LSN (0..2^64-1). */
export function isLsn(value: bigint): boolean {
  return value >= 0n && value <= MAX_LSN;
}
