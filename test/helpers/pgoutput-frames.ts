/**
 * Builds pgoutput messages byte by byte for tests: a small big-endian writer and an encoder that is
 * the mirror image of decodePgoutput (written from the protocol documentation, not from the
 * decoder), plus random LSNs, xids, timestamps and tuples.
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
 */
import { UNCHANGED_TOAST, type PgoutputMessage, type TupleData, type TupleValue } from '../../src/pgoutput/messages.ts';

const encoder = new TextEncoder();

/** Appends big-endian fields; `finish()` returns the bytes. */
export class FrameWriter {
  private readonly bytes: number[] = [];

  u8(value: number): this {
    this.bytes.push(value & 0xff);
    return this;
  }

  char(letter: string): this {
    return this.u8(letter.charCodeAt(0));
  }

  u16(value: number): this {
    return this.u8(value >> 8).u8(value);
  }

  i32(value: number): this {
    return this.u8(value >>> 24).u8(value >>> 16).u8(value >>> 8).u8(value);
  }

  u64(value: bigint): this {
    const unsigned = BigInt.asUintN(64, value);
    return this.i32(Number(unsigned >> 32n)).i32(Number(unsigned & 0xffff_ffffn));
  }

  cstring(text: string): this {
    return this.raw(encoder.encode(text)).u8(0);
  }

  raw(bytes: Uint8Array): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  tuple(values: readonly TupleValue[]): this {
    this.u16(values.length);
    for (const value of values) {
      if (value === null) this.char('n');
      else if (value === UNCHANGED_TOAST) this.char('u');
      else if (typeof value === 'string') {
        const utf8 = encoder.encode(value);
        this.char('t').i32(utf8.length).raw(utf8);
      } else this.char('b').i32(value.length).raw(value);
    }
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A DataRow payload as the server sends a text-format row: Int16 count, then per column Int32 length (-1: NULL) and the bytes. */
export function dataRowBytes(values: readonly (string | null)[]): Uint8Array {
  const w = new FrameWriter().u16(values.length);
  for (const value of values) {
    if (value === null) w.i32(-1);
    else {
      const utf8 = encoder.encode(value);
      w.i32(utf8.length).raw(utf8);
    }
  }
  return w.finish();
}

/** Writes the xid of data messages inside a stream (when the message has one). */
function streamXid(w: FrameWriter, xid: number | undefined): FrameWriter {
  return xid === undefined ? w : w.i32(xid);
}

/** Encodes a message as PostgreSQL would send it (data messages get the xid when `xid` is set). */
export function encodePgoutput(m: PgoutputMessage): Uint8Array {
  const w = new FrameWriter();
  switch (m.tag) {
    case 'begin': return w.char('B').u64(m.finalLsn).u64(m.commitTime).i32(m.xid).finish();
    case 'commit': return w.char('C').u8(m.flags).u64(m.commitLsn).u64(m.endLsn).u64(m.commitTime).finish();
    case 'origin': return w.char('O').u64(m.commitLsn).cstring(m.name).finish();
    case 'relation':
      streamXid(w.char('R'), m.xid).i32(m.relationId).cstring(m.namespace).cstring(m.name).char(m.replicaIdentity).u16(m.columns.length);
      for (const c of m.columns) w.u8(c.flags).cstring(c.name).i32(c.typeOid).i32(c.typeModifier);
      return w.finish();
    case 'type': return streamXid(w.char('Y'), m.xid).i32(m.typeOid).cstring(m.namespace).cstring(m.name).finish();
    case 'insert': return streamXid(w.char('I'), m.xid).i32(m.relationId).char('N').tuple(m.newTuple).finish();
    case 'update':
      streamXid(w.char('U'), m.xid).i32(m.relationId);
      if (m.oldTuple !== undefined) w.char(m.oldKind === 'key' ? 'K' : 'O').tuple(m.oldTuple);
      return w.char('N').tuple(m.newTuple).finish();
    case 'delete': return streamXid(w.char('D'), m.xid).i32(m.relationId).char(m.oldKind === 'key' ? 'K' : 'O').tuple(m.oldTuple).finish();
    case 'truncate':
      streamXid(w.char('T'), m.xid).i32(m.relationIds.length).u8(m.options);
      for (const id of m.relationIds) w.i32(id);
      return w.finish();
    case 'message':
      return streamXid(w.char('M'), m.xid).u8(m.flags).u64(m.lsn).cstring(m.prefix).i32(m.content.length).raw(m.content).finish();
    case 'stream-start': return w.char('S').i32(m.xid).u8(m.firstSegment ? 1 : 0).finish();
    case 'stream-stop': return w.char('E').finish();
    case 'stream-commit': return w.char('c').i32(m.xid).u8(m.flags).u64(m.commitLsn).u64(m.endLsn).u64(m.commitTime).finish();
    case 'stream-abort':
      w.char('A').i32(m.xid).i32(m.subXid);
      if (m.abortLsn !== undefined) w.u64(m.abortLsn).u64(m.abortTime ?? 0n);
      return w.finish();
    case 'begin-prepare': return w.char('b').u64(m.prepareLsn).u64(m.endLsn).u64(m.prepareTime).i32(m.xid).cstring(m.gid).finish();
    case 'prepare': return w.char('P').u8(m.flags).u64(m.prepareLsn).u64(m.endLsn).u64(m.prepareTime).i32(m.xid).cstring(m.gid).finish();
    case 'commit-prepared':
      return w.char('K').u8(m.flags).u64(m.commitLsn).u64(m.endLsn).u64(m.commitTime).i32(m.xid).cstring(m.gid).finish();
    case 'rollback-prepared':
      return w.char('r').u8(m.flags).u64(m.prepareEndLsn).u64(m.rollbackEndLsn).u64(m.prepareTime).u64(m.rollbackTime)
        .i32(m.xid).cstring(m.gid).finish();
    case 'stream-prepare': return w.char('p').u8(m.flags).u64(m.prepareLsn).u64(m.endLsn).u64(m.prepareTime).i32(m.xid).cstring(m.gid).finish();
    default: {
      const never: never = m;
      throw new Error(`no encoder for ${JSON.stringify(never)}`);
    }
  }
}

/** A seeded PRNG (mulberry32) so failures reproduce; the seed is printed by the tests that use it. */
export function randomSource(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random helpers over one PRNG. */
export function randomValues(random: () => number) {
  const u32 = () => Math.floor(random() * 0x1_0000_0000);
  const lsn = () => (BigInt(u32()) << 32n) | BigInt(u32());
  const int = (below: number) => Math.floor(random() * below);
  const words = ['id', 'naïve', '', 'x', '日本語', 'a"b', 'emoji 😀', 'tab\t', '0123456789'.repeat(8)];
  const text = () => words[int(words.length)] as string;
  const value = (): TupleValue => {
    const kind = int(6);
    if (kind === 0) return null;
    if (kind === 1) return UNCHANGED_TOAST;
    if (kind === 2) return Uint8Array.from({ length: int(6) }, () => int(256));
    return text() + String(int(1000));
  };
  return {
    u32,
    lsn,
    int,
    text,
    /** µs since 2000-01-01, within a few centuries either side. */
    time: () => BigInt(Math.floor((random() - 0.5) * 2 ** 52)),
    tuple: (columns = 1 + int(8)): TupleData => Array.from({ length: columns }, value),
  };
}

/** A message with the decode options it needs. */
export interface Sample {
  message: PgoutputMessage;
  protoVersion: number;
  inStream: boolean;
}

/** One or more random instances of every message type, each with a protocol version that has it. */
export function sampleMessages(random: () => number): Sample[] {
  const r = randomValues(random);
  const gid = () => `gid-${r.text()}`;
  const samples: Sample[] = [];
  const add = (message: PgoutputMessage, protoVersion = 1, inStream = false) => samples.push({ message, protoVersion, inStream });
  add({ tag: 'begin', finalLsn: r.lsn(), commitTime: r.time(), xid: r.u32() });
  add({ tag: 'commit', flags: 0, commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.time() });
  add({ tag: 'origin', commitLsn: r.lsn(), name: 'node_' + r.text() });
  for (const xid of [undefined, r.u32()]) {
    const v = xid === undefined ? 1 : 2;
    const inStream = xid !== undefined;
    add({
      tag: 'relation', xid, relationId: r.u32(), namespace: 'public', name: 'tbl_' + r.text(), replicaIdentity: 'd',
      columns: [
        { flags: 1, isKey: true, name: 'id', typeOid: 23, typeModifier: -1 },
        { flags: 0, isKey: false, name: r.text(), typeOid: 1043, typeModifier: 68 },
        { flags: 0, isKey: false, name: 'big', typeOid: r.u32(), typeModifier: -1 },
      ],
    }, v, inStream);
    add({ tag: 'relation', xid, relationId: r.u32(), namespace: '', name: 'empty', replicaIdentity: 'n', columns: [] }, v, inStream);
    add({ tag: 'type', xid, typeOid: r.u32(), namespace: 'public', name: 'mood_' + r.text() }, v, inStream);
    add({ tag: 'insert', xid, relationId: r.u32(), newTuple: r.tuple() }, v, inStream);
    add({ tag: 'insert', xid, relationId: r.u32(), newTuple: [] }, v, inStream);
    add({ tag: 'update', xid, relationId: r.u32(), oldKind: undefined, oldTuple: undefined, newTuple: r.tuple() }, v, inStream);
    add({ tag: 'update', xid, relationId: r.u32(), oldKind: 'key', oldTuple: r.tuple(3), newTuple: r.tuple(3) }, v, inStream);
    add({ tag: 'update', xid, relationId: r.u32(), oldKind: 'old', oldTuple: r.tuple(4), newTuple: r.tuple(4) }, v, inStream);
    add({ tag: 'delete', xid, relationId: r.u32(), oldKind: 'key', oldTuple: r.tuple() }, v, inStream);
    add({ tag: 'delete', xid, relationId: r.u32(), oldKind: 'old', oldTuple: r.tuple() }, v, inStream);
    add({ tag: 'truncate', xid, options: 3, cascade: true, restartIdentity: true, relationIds: [r.u32(), r.u32()] }, v, inStream);
    add({ tag: 'truncate', xid, options: 0, cascade: false, restartIdentity: false, relationIds: [r.u32()] }, v, inStream);
    add({
      tag: 'message', xid, flags: 1, transactional: true, lsn: r.lsn(), prefix: 'app/' + r.text(),
      content: Uint8Array.from({ length: r.int(20) }, () => r.int(256)),
    }, v, inStream);
  }
  add({ tag: 'message', xid: undefined, flags: 0, transactional: false, lsn: r.lsn(), prefix: '', content: new Uint8Array(0) });
  add({ tag: 'stream-start', xid: r.u32(), firstSegment: true }, 2);
  add({ tag: 'stream-start', xid: r.u32(), firstSegment: false }, 2);
  add({ tag: 'stream-stop' }, 2);
  add({ tag: 'stream-commit', xid: r.u32(), flags: 0, commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.time() }, 2);
  add({ tag: 'stream-abort', xid: r.u32(), subXid: r.u32(), abortLsn: undefined, abortTime: undefined }, 2);
  add({ tag: 'stream-abort', xid: r.u32(), subXid: r.u32(), abortLsn: undefined, abortTime: undefined }, 4);
  add({ tag: 'stream-abort', xid: r.u32(), subXid: r.u32(), abortLsn: r.lsn(), abortTime: r.time() }, 4);
  add({ tag: 'begin-prepare', prepareLsn: r.lsn(), endLsn: r.lsn(), prepareTime: r.time(), xid: r.u32(), gid: gid() }, 3);
  add({ tag: 'prepare', flags: 0, prepareLsn: r.lsn(), endLsn: r.lsn(), prepareTime: r.time(), xid: r.u32(), gid: gid() }, 3);
  add({ tag: 'commit-prepared', flags: 0, commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.time(), xid: r.u32(), gid: gid() }, 3);
  add({
    tag: 'rollback-prepared', flags: 0, prepareEndLsn: r.lsn(), rollbackEndLsn: r.lsn(), prepareTime: r.time(),
    rollbackTime: r.time(), xid: r.u32(), gid: gid(),
  }, 3);
  add({ tag: 'stream-prepare', flags: 0, prepareLsn: r.lsn(), endLsn: r.lsn(), prepareTime: r.time(), xid: r.u32(), gid: gid() }, 4);
  return samples;
}
