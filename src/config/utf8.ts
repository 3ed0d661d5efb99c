/**
 * Strict UTF-8 for the config file: a byte sequence that is not UTF-8 is an error naming where it
 * is, not a silent U+FFFD in a DSN, a password or a topic name. Pure.
 */

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte (no overlongs, no
    // surrogates, nothing above U+10FFFF), as in RFC 3629's table.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < low || c > high : c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}

/** `invalid UTF-8 at byte N (line L)` for the first bad byte (N 0-based, L 1-based), or undefined. */
export function utf8Problem(bytes: Uint8Array): string | undefined {
  const at = firstInvalidUtf8(bytes);
  if (at < 0) return undefined;
  let line = 1;
  for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
  return `invalid UTF-8 at byte ${at} (line ${line}); save the file as UTF-8`;
}
