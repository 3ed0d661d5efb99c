/**
 * Turning UTF-8 bytes of a message into strings, fast. Most column values are short and ASCII
 * (numbers, timestamps, uuids, identifiers); creating one string per value costs a native call
 * each (~40 ns), so short ASCII values are cut out of one Latin-1 string of the surrounding bytes
 * (one native call per message, then cheap substrings). bench/pgoutput-decode.ts measures it.
 */

type SliceFn = (this: Uint8Array, start: number, end: number) => string;

// Bun's Buffer methods work on any Uint8Array receiver; they are not in the typings.
const bufferProto = Buffer.prototype as unknown as { utf8Slice?: SliceFn; latin1Slice?: SliceFn };
const nativeUtf8 = typeof bufferProto.utf8Slice === 'function' ? bufferProto.utf8Slice : undefined;
const nativeLatin1 = typeof bufferProto.latin1Slice === 'function' ? bufferProto.latin1Slice : undefined;
const utf8Decoder = new TextDecoder('utf-8');

/** Decodes bytes[start, end) as UTF-8; invalid sequences become U+FFFD. */
export function utf8Slice(bytes: Uint8Array, start: number, end: number): string {
  return nativeUtf8 !== undefined ? nativeUtf8.call(bytes, start, end) : utf8Decoder.decode(bytes.subarray(start, end));
}

/** Decodes bytes[start, end) as Latin-1: exactly one character per byte. */
function latin1Slice(bytes: Uint8Array, start: number, end: number): string {
  if (nativeLatin1 !== undefined) return nativeLatin1.call(bytes, start, end);
  let out = '';
  for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i] as number);
  return out;
}

/** Values longer than this go straight to the UTF-8 decoder (scanning them would cost more). */
const SHORT_VALUE = 64;
/** How many bytes one Latin-1 window covers; bounds what a substring may keep alive. */
const WINDOW = 512;

/**
 * Decodes the text values of one message. Create one per message (the window must never outlive
 * the bytes it was cut from: the caller's buffer is reused).
 */
export class TextSlicer {
  private windowText = '';
  private windowStart = 0;
  private windowEnd = -1;

  constructor(private readonly bytes: Uint8Array) {}

  /** The UTF-8 text of bytes[start, end). */
  text(start: number, end: number): string {
    const bytes = this.bytes;
    if (end - start > SHORT_VALUE) return utf8Slice(bytes, start, end);
    for (let i = start; i < end; i++) {
      if ((bytes[i] as number) >= 0x80) return utf8Slice(bytes, start, end);
    }
    if (start < this.windowStart || end > this.windowEnd) {
      // ASCII is the same in Latin-1 and UTF-8, so byte offsets are character offsets here.
      this.windowStart = start;
      this.windowEnd = Math.min(bytes.length, start + WINDOW);
      this.windowText = latin1Slice(bytes, start, this.windowEnd);
    }
    return this.windowText.substring(start - this.windowStart, end - this.windowStart);
  }
}
