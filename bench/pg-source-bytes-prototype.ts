#!/usr/bin/env bun
/**
 * PROTOTYPE, not product code: how cheap can the PostgreSQL source's hot path be on Bun? For the
 * benchmark table only (int4, int8, text, numeric, bool, timestamptz, jsonb, uuid), each XLogData
 * Insert is turned straight into the passthrough JSON line's bytes — header constants per relation,
 * column values copied from the pgoutput text bytes (which already are UTF-8 and, for numbers,
 * already JSON), keys in Go's sorted order computed once per relation, UUIDs from a random pool —
 * with no intermediate event object, strings or ropes. Output lines are checked equal to
 * encodePassthrough(EventFactory.row(...)) (Timestamp and UUID masked), then both paths are timed,
 * writing 5,000-line batches to /dev/null.
 *
 *   scripts/bench-pg prototype [--events N]   (or bun bench/pg-source-bytes-prototype.ts --frames FILE)
 *
 * It shows what a byte-level fast path (DESIGN.md §9, issue 3 "JSON is built from the text values
 * with per-type encoders") would save; the real one must keep every type's rules (types/, go-json).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { encodePassthrough } from '../src/core/passthrough.ts';
import { processingTimestamp } from '../src/core/time.ts';
import { decodePgoutput } from '../src/pgoutput/decode.ts';
import type { Insert, PgoutputMessage } from '../src/pgoutput/messages.ts';
import { RelationCache, type RelationInfo } from '../src/pgoutput/relations.ts';
import { EventFactory } from '../src/postgres/events.ts';
import { decodeCopyBothMessage, type XLogData } from '../src/replication/copy-both.ts';
import { TypeRegistry } from '../src/types/index.ts';
import { framesFor } from './lib/frames.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rows: { type: 'string', default: '10000' },
    'batch-size': { type: 'string', default: '5000' },
    frames: { type: 'string' },
    'save-frames': { type: 'string' },
    only: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const BATCH = Number(args['batch-size']);

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEXCODES = new Uint16Array(256).map((_, i) => (HEX2[i]!.charCodeAt(0) << 8) | HEX2[i]!.charCodeAt(1));

/** A growable output buffer of JSON lines. */
class Out {
  buf = new Uint8Array(8 << 20);
  at = 0;
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }
  put(bytes: Uint8Array): void {
    // A loop: TypedArray.set costs more than copying these short constants byte by byte.
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i]!;
    this.at = at;
  }
  byte(b: number): void {
    this.buf[this.at++] = b;
  }
  /** Decimal digits of a non-negative safe integer. */
  digits(n: number): void {
    if (n < 10) {
      this.buf[this.at++] = 48 + n;
      return;
    }
    let len = 0;
    for (let m = n; m > 0; m = Math.floor(m / 10)) len++;
    let i = this.at + len;
    for (let m = n; m > 0; m = Math.floor(m / 10)) this.buf[--i] = 48 + (m % 10);
    this.at += len;
  }
  copy(src: Uint8Array, start: number, end: number): void {
    if (end - start > 24) {
      this.buf.set(src.subarray(start, end), this.at);
      this.at += end - start;
      return;
    }
    for (let i = start; i < end; i++) this.buf[this.at++] = src[i]!;
  }
}

/** 16 random bytes per UUID from a pool refilled 4 KiB at a time. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function uuid(out: Out): void {
  if (poolAt + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const b = out.buf;
  for (let i = 0; i < 16; i++) {
    let v = pool[poolAt + i]!;
    if (i === 6) v = (v & 0x0f) | 0x40;
    else if (i === 8) v = (v & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) b[out.at++] = 45; // '-'
    const h = HEXCODES[v]!;
    b[out.at++] = h >> 8;
    b[out.at++] = h & 0xff;
  }
  poolAt += 16;
}

/** Processing timestamp: one formatted second prefix, then six digits with trailing zeros trimmed. */
let tsSecond = -1;
let tsPrefix: Uint8Array = new Uint8Array(0);
function timestamp(out: Out): void {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const second = Math.floor(micros / 1e6);
  if (second !== tsSecond) {
    tsSecond = second;
    tsPrefix = ascii(new Date(second * 1000).toISOString().slice(0, 19));
  }
  out.put(tsPrefix);
  let frac = micros - second * 1e6;
  if (frac > 0) {
    let digits = 6;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    out.byte(46); // '.'
    const start = out.at;
    for (let i = digits - 1; i >= 0; i--) {
      out.buf[start + i] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    out.at += digits;
  }
  out.byte(90); // 'Z'
}

/** The JSON of one string value: plain ASCII is copied, anything needing escapes falls back. */
function jsonString(out: Out, src: Uint8Array, start: number, end: number): boolean {
  // Copy while checking: one pass over the bytes.
  const buf = out.buf;
  let at = out.at;
  buf[at++] = 34;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c < 0x20 || c === 34 || c === 92 || c === 60 || c === 62 || c === 38 || c >= 0x80) return false;
    buf[at++] = c;
  }
  buf[at++] = 34;
  out.at = at;
  return true;
}

type ColumnWriter = (out: Out, src: Uint8Array, start: number, end: number) => boolean;
const writers: Record<number, ColumnWriter> = {
  23: (out, src, s, e) => (out.copy(src, s, e), true), // int4: the text is the JSON number
  20: (out, src, s, e) => (out.copy(src, s, e), true), // int8: every digit, as the converter keeps them
  1700: (out, src, s, e) => jsonString(out, src, s, e), // numeric: exact text, as a string
  16: (out, src, s) => (out.put(src[s] === 116 ? TRUE : FALSE), true),
  25: jsonString,
  2950: jsonString,
  3802: (out, src, s, e) => {
    // jsonb: verbatim (one line: jsonb text never has line breaks).
    for (let i = s; i < e; i++) if (src[i] === 10 || src[i] === 13) return false;
    out.copy(src, s, e);
    return true;
  },
  1184: (out, src, s, e) => {
    // timestamptz in UTC from an ISO session: 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' → RFC 3339 'Z'.
    if (e - s < 22 || src[s + 10] !== 32 || src[e - 3] !== 43 || src[e - 2] !== 48 || src[e - 1] !== 48) return false;
    out.byte(34);
    out.copy(src, s, s + 10);
    out.byte(84); // 'T'
    out.copy(src, s + 11, e - 3);
    out.byte(90); // 'Z'
    out.byte(34);
    return true;
  },
};
const TRUE = ascii('true');
const FALSE = ascii('false');

/** What is fixed per relation: header bytes, sorted key prefixes and writers, the trailer. */
interface Plan {
  head: Uint8Array;
  columns: { index: number; prefix: Uint8Array; write: ColumnWriter }[];
  afterColumns: Uint8Array;
  tail: Uint8Array;
}

function planFor(relation: RelationInfo, host: string, database: string): Plan {
  const json = JSON.stringify;
  const sorted = relation.columns.map((c, index) => ({ c, index })).sort((a, b) => (a.c.name < b.c.name ? -1 : 1));
  return {
    head: ascii(`{"Host":${json(host)},"Database":${json(database)},"Table":${json(relation.name)},"Action":"insert","WALPosition":`),
    columns: sorted.map(({ c, index }, i) => {
      const write = writers[c.typeOid];
      if (write === undefined) throw new Error(`prototype: no writer for type ${c.typeOid}`);
      return { index, prefix: ascii(`${i === 0 ? '{' : ','}${json(c.name)}:`), write };
    }),
    afterColumns: ascii(`},"Schema":${json(relation.namespace)},"XID":`),
    tail: ascii(`,"Key":${json(relation.keyColumns)}}\n`),
  };
}

const starts = new Int32Array(1600);
const ends = new Int32Array(1600);
let fallbacks = 0;

/** One Insert XLogData payload → one JSON line. Returns false when the prototype cannot (a real one would take the slow path). */
function encodeInsert(out: Out, payload: Uint8Array, plan: Plan, txn: { xid: number; commitLsnText: Uint8Array }): boolean {
  // Big-endian integers read byte by byte: a DataView per message costs more than the rest.
  const u32 = (at: number) => ((payload[at]! << 24) >>> 0) + (payload[at + 1]! << 16) + (payload[at + 2]! << 8) + payload[at + 3]!;
  const walStart = u32(1) * 4294967296 + u32(5);
  // pgoutput v1 Insert: 'I', relation OID, 'N', column count, then per column kind (+ length, bytes).
  let p = 25;
  if (payload[p] !== 73) return false;
  p += 5;
  if (payload[p] !== 78) return false;
  const count = (payload[p + 1]! << 8) | payload[p + 2]!;
  p += 3;
  for (let i = 0; i < count; i++) {
    const kind = payload[p++];
    if (kind !== 116) return false; // NULL, unchanged TOAST, binary: slow path
    const length = u32(p);
    starts[i] = p + 4;
    ends[i] = p + 4 + length;
    p += 4 + length;
  }
  const lineStart = out.at;
  out.ensure(payload.length * 2 + 512);
  out.put(plan.head);
  out.digits(walStart);
  out.put(TS_KEY);
  timestamp(out);
  out.put(UUID_KEY);
  uuid(out);
  out.put(COLUMNS_KEY);
  for (const column of plan.columns) {
    out.put(column.prefix);
    if (!column.write(out, payload, starts[column.index]!, ends[column.index]!)) {
      out.at = lineStart;
      fallbacks++;
      return false;
    }
  }
  out.put(plan.afterColumns);
  out.digits(txn.xid);
  out.put(txn.commitLsnText);
  out.put(plan.tail);
  return true;
}
const TS_KEY = ascii(',"Timestamp":"');
const UUID_KEY = ascii('","UUID":"');
const COLUMNS_KEY = ascii('","Columns":');

// ---- run ----
const frames = await framesFor({ frames: args.frames, saveFrames: args['save-frames'], rows: Number(args.rows) });
const relations = new RelationCache();
const decoded = frames.map((payload) => {
  const x = decodeCopyBothMessage(payload) as XLogData;
  const message: PgoutputMessage = decodePgoutput(x.data, { protoVersion: 1 });
  relations.apply(message);
  return { payload, x, message };
});
const inserts = decoded.filter((d) => d.message.tag === 'insert');
const relation = relations.require((inserts[0]!.message as Insert).relationId);
const HOST = '127.0.0.1';
const DATABASE = 'streamer_test';
const plan = planFor(relation, HOST, DATABASE);
const txnContext = { xid: 735, commitLsn: 26370768n, commitTime: '2026-11-26T00:40:36.263207Z' };
const txn = { xid: txnContext.xid, commitLsnText: ascii(`,"CommitLSN":${txnContext.commitLsn},"CommitTime":"${txnContext.commitTime}"`) };
const factory = new EventFactory('bench', HOST, DATABASE, new TypeRegistry());

// Same bytes as the product's path (Timestamp and UUID differ by nature).
const mask = (line: string) => line.replace(/"Timestamp":"[^"]*"/, '"Timestamp":""').replace(/"UUID":"[^"]*"/, '"UUID":""');
const check = new Out();
let mismatches = 0;
for (const { payload, x, message } of inserts) {
  check.at = 0;
  if (!encodeInsert(check, payload, plan, txn)) continue;
  const mine = new TextDecoder().decode(check.buf.subarray(0, check.at - 1));
  const theirs = encodePassthrough(factory.row(message as Insert, relation, x.walStart, txnContext));
  if (mask(mine) !== mask(theirs) && ++mismatches <= 3) process.stderr.write(`mismatch:\n  prototype ${mine}\n  product   ${theirs}\n`);
}
if (mismatches > 0 || fallbacks > 0) process.stderr.write(`${mismatches} mismatches, ${fallbacks} fallbacks in ${inserts.length} rows\n`);
else process.stderr.write(`[prototype] ${inserts.length} rows: identical to encodePassthrough(EventFactory.row(...)) apart from Timestamp/UUID\n`);
if (processingTimestamp().length === 0) process.exit(1);

const n = inserts.length;
const passes = Math.max(1, Math.round(EVENTS / n));
const total = passes * n;
const fd = openSync('/dev/null', 'w');

function runPrototype(): void {
  const out = new Out();
  let inBatch = 0;
  for (let p = 0; p < passes; p++) {
    for (const { payload } of inserts) {
      if (payload[0] !== 0x77) throw new Error('not XLogData'); // the frame check the source does anyway
      encodeInsert(out, payload, plan, txn);
      if (++inBatch === BATCH) {
        writeSync(fd, out.buf, 0, out.at);
        out.at = 0;
        inBatch = 0;
      }
    }
  }
  writeSync(fd, out.buf, 0, out.at);
}

function runProduct(): void {
  let batch: string[] = [];
  for (let p = 0; p < passes; p++) {
    for (const { payload } of inserts) {
      const x = decodeCopyBothMessage(payload) as XLogData;
      const message = decodePgoutput(x.data, { protoVersion: 1 }) as Insert;
      batch.push(encodePassthrough(factory.row(message, relation, x.walStart, txnContext)));
      if (batch.length === BATCH) {
        let text = '';
        for (const line of batch) text += line + '\n';
        writeSync(fd, Buffer.from(text, 'utf8'));
        batch = [];
      }
    }
  }
}

function time(name: string, body: () => void): number {
  body();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    Bun.gc(true);
    const before = process.cpuUsage();
    body();
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / total);
  }
  process.stdout.write(`${name.padEnd(62)} ${best.toFixed(0).padStart(6)} ns/event\n`);
  return best;
}

process.stdout.write(`\n${total} events, batches of ${BATCH} written to /dev/null (CPU, best of 3)\n`);
const product = args.only === 'prototype' ? Number.NaN : time('product path: decode → EventFactory.row → encodePassthrough → bytes', runProduct);
const prototype = args.only === 'product' ? Number.NaN : time('prototype: XLogData → JSON line bytes', runPrototype);
if (!args.only) process.stdout.write(`prototype / product: ${(prototype / product).toFixed(2)}\n`);
closeSync(fd);
