/**
 * The HTTP sink's request bodies, pure: how a batch's encoded events are cut into requests
 * (maxRequestEvents, maxRequestBytes) and laid out as NDJSON or one JSON array, and the
 * idempotency key naming a request by the events it carries (docs/http-sink.md, "Requests").
 * An event's encoding may hold several items already joined by the format's separator (the
 * Debezium records of one event), or none (an empty line: nothing in the body, no separator).
 */
import { createHash } from 'node:crypto';
import type { HttpFormat } from './spec.ts';

/** Events `start` (inclusive) to `end` (exclusive) of a batch, whose body is `bytes` long. */
export interface RequestSlice {
  start: number;
  end: number;
  bytes: number;
}

/** Content-Type of each format. */
export const CONTENT_TYPES: Readonly<Record<HttpFormat, string>> = {
  ndjson: 'application/x-ndjson',
  json_array: 'application/json',
};

/** Body bytes `count` items of `eventBytes` bytes (their JSON together) take in `format`. */
export function bodySize(format: HttpFormat, count: number, eventBytes: number): number {
  if (format === 'ndjson') return eventBytes + count;
  return eventBytes + Math.max(count - 1, 0) + 2;
}

/**
 * Cuts events of the given encoded `sizes` into consecutive requests of at most `maxEvents`
 * events and `maxBytes` body bytes; an event larger than `maxBytes` on its own gets a request
 * of its own (it is not dropped: the receiver decides).
 */
export function planRequests(sizes: readonly number[], format: HttpFormat, maxEvents: number, maxBytes: number): RequestSlice[] {
  const slices: RequestSlice[] = [];
  let start = 0;
  let eventBytes = 0;
  /** Non-empty encodings in [start, i). */
  let items = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    const count = i - start;
    if (count > 0 && (count >= maxEvents || (size > 0 && bodySize(format, items + 1, eventBytes + size) > maxBytes))) {
      slices.push({ start, end: i, bytes: bodySize(format, items, eventBytes) });
      start = i;
      eventBytes = 0;
      items = 0;
    }
    eventBytes += size;
    if (size > 0) items++;
  }
  if (sizes.length > start) slices.push({ start, end: sizes.length, bytes: bodySize(format, items, eventBytes) });
  return slices;
}

/** The slice of events `start` to `end` of the encoded `lines`, with its body size. */
export function sliceOf(lines: readonly Uint8Array[], format: HttpFormat, start: number, end: number): RequestSlice {
  let bytes = 0;
  let items = 0;
  for (let i = start; i < end; i++) {
    bytes += lines[i]!.length;
    if (lines[i]!.length > 0) items++;
  }
  return { start, end, bytes: bodySize(format, items, bytes) };
}

/** The separator between two items of `format` (what joins the items of one event's encoding). */
export function itemSeparator(format: HttpFormat): string {
  return format === 'ndjson' ? '\n' : ',';
}

const NEWLINE = 0x0a;
const COMMA = 0x2c;

/**
 * The body of `slice` of the encoded events `lines`, in `format`: written at the start of `into`
 * when it is large enough (a view of it is returned), else into a new array.
 */
export function encodeBody(lines: readonly Uint8Array[], slice: RequestSlice, format: HttpFormat, into?: Uint8Array): Uint8Array {
  const size = sliceOf(lines, format, slice.start, slice.end).bytes;
  if (size !== slice.bytes) throw new Error(`request body of ${size} bytes, planned ${slice.bytes}`);
  const out = into !== undefined && into.length >= slice.bytes ? into.subarray(0, slice.bytes) : new Uint8Array(slice.bytes);
  let at = 0;
  if (format === 'json_array') out[at++] = 0x5b; // [
  let first = true;
  for (let i = slice.start; i < slice.end; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    if (format === 'json_array' && !first) out[at++] = COMMA;
    first = false;
    out.set(line, at);
    at += line.length;
    if (format === 'ndjson') out[at++] = NEWLINE;
  }
  if (format === 'json_array') out[at++] = 0x5d; // ]
  return out;
}

/**
 * The `Idempotency-Key` of a request: 32 hex digits of SHA-256 over its first and last event
 * UUIDs and its event count. Event UUIDs are deterministic (docs/kafka.md, "Event identity"), so
 * a request sent again (a retry, or the same batch after a restart) carries the same key.
 */
export function idempotencyKey(firstUuid: string, lastUuid: string, count: number): string {
  return createHash('sha256').update(`${firstUuid}\n${lastUuid}\n${count}`).digest('hex').slice(0, 32);
}
