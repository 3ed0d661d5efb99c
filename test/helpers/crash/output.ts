/**
 * Reading the crash test's output file (the file sink's JSON lines): each run's segment is a byte
 * range of the file, read in chunks (the soak's file grows past a gigabyte); a last line without
 * newline was cut by a kill ("torn") and is not mistaken for corruption.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** One event line of the file sink, reduced to what the checks need. */
export interface SeenEvent {
  id: number;
  version: number;
  /** The writer's transaction number (1, 2, ...: commit order, since the writer is sequential). */
  txn: number;
  commitLsn: bigint;
  /** TxIndex (-1 when missing) and UUID: the event's identity (identity.ts). */
  txIndex: number;
  uuid: string;
  segment: number;
}

/** Reads bytes [from, to) of a file. */
function readRange(path: string, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(Math.max(0, to - from));
  if (to <= from) return buffer;
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < buffer.length) {
      const n = readSync(fd, buffer, done, buffer.length - done, from + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

export const CHUNK = 16 * 1024 * 1024;

/**
 * Calls `onLine` for every complete line in bytes [from, to) of a file, reading it in chunks (the
 * soak's file grows past a gigabyte). Returns the bytes after the last newline: a line the range
 * cuts short (empty when the range ends with a newline).
 */
export function forEachLine(path: string, from: number, to: number, onLine: (line: string) => void): Buffer {
  let carry: Buffer = Buffer.alloc(0);
  for (let at = from; at < to; at += CHUNK) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, readRange(path, at, Math.min(to, at + CHUNK))]) : readRange(path, at, Math.min(to, at + CHUNK));
    const end = bytes.lastIndexOf(10);
    if (end < 0) {
      carry = bytes;
      continue;
    }
    const text = bytes.toString('utf8', 0, end);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
      if (line !== '') onLine(line);
      if (nl < 0) break;
      start = nl + 1;
    }
    carry = bytes.subarray(end + 1);
  }
  return carry;
}

export const fileSize = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

/** One line of the file sink as an event of the crash table; undefined when it is not valid JSON of one. */
export function parseLine(line: string, segment: number): SeenEvent | undefined {
  try {
    const parsed = JSON.parse(line) as { Columns: { id: number; version: number; txn: number }; TxIndex?: number; UUID: string };
    // CommitLSN is an exact integer in the JSON; re-read it as text so a large LSN keeps every digit.
    const commitLsn = BigInt(/"CommitLSN":(\d+)/.exec(line)?.[1] ?? '-1');
    return { id: parsed.Columns.id, version: parsed.Columns.version, txn: parsed.Columns.txn, commitLsn, txIndex: parsed.TxIndex ?? -1, uuid: parsed.UUID, segment };
  } catch {
    return undefined;
  }
}

/**
 * Complete lines of one run's output; a last line without newline was cut by the kill. Each event
 * comes with its line (`lines[i]` is `events[i]`'s).
 */
export function parseSegment(bytes: Buffer, segment: number): { events: SeenEvent[]; lines: string[]; torn: number; bad: string[] } {
  const all = bytes.toString('utf8').split('\n');
  const tail = all.pop() ?? '';
  const events: SeenEvent[] = [];
  const lines: string[] = [];
  const bad: string[] = [];
  for (const line of all) {
    if (line === '') continue;
    const event = parseLine(line, segment);
    if (event === undefined) bad.push(line.slice(0, 200));
    else {
      events.push(event);
      lines.push(line);
    }
  }
  return { events, lines, torn: tail === '' ? 0 : 1, bad };
}

