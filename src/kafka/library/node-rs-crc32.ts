/**
 * Stands in for `@node-rs/crc32` inside the Kafka library (checksum-modules.ts): the one function the
 * library calls, computed by the streamer's own CRC-32C.
 */
import { crc32c as ours } from '../protocol/crc32c.ts';

/** CRC-32C of `input` (bytes, or a string as UTF-8) continued from `initialState` (a CRC, default 0), as the addon's. */
export function crc32c(input: Uint8Array | string, initialState?: number | null): number {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  if (initialState === undefined || initialState === null || initialState === 0) return ours(bytes);
  throw new Error('crc32c: continuing from an initial state is not supported here');
}
