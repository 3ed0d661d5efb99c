import { describe, expect, test } from 'bun:test';
import { decodePgoutput } from '../../../../../src/pgoutput/decode.ts';
import { InsertBuilder, type InsertMessages } from '../../../../../src/sources/postgres/snapshot/insert-message.ts';

const utf8 = new TextEncoder();

/** A DataRow payload as the server sends it: Int16 count, then per column Int32 length (-1: NULL) and the bytes. */
function dataRow(values: readonly (string | null)[]): Uint8Array {
  const parts = values.map((v) => (v === null ? null : utf8.encode(v)));
  const out = new Uint8Array(2 + parts.reduce((n, p) => n + 4 + (p?.length ?? 0), 0));
  const view = new DataView(out.buffer);
  view.setInt16(0, values.length);
  let at = 2;
  for (const part of parts) {
    view.setInt32(at, part === null ? -1 : part.length);
    at += 4;
    if (part !== null) {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

const message = (m: InsertMessages, i: number) => m.buffer.subarray(m.offsets[i], m.offsets[i + 1]);

describe('InsertBuilder: DataRows into pgoutput Insert messages', () => {
  test('decode back to the same relation and values (text, NULL, empty, multi-byte, NUL)', () => {
    const b = new InsertBuilder(0xfffffffe, 5, [0]);
    b.add(dataRow(['42', null, '', '日本語 😀', 'a\u0000b']));
    b.add(dataRow(['43', 'x', null, null, null]));
    const m = b.messages();
    expect(m.offsets.length).toBe(3);
    expect(decodePgoutput(message(m, 0), { protoVersion: 1 })).toEqual({ tag: 'insert', xid: undefined, relationId: 0xfffffffe, newTuple: ['42', null, '', '日本語 😀', 'a\u0000b'] });
    expect(decodePgoutput(message(m, 1), { protoVersion: 1 })).toMatchObject({ newTuple: ['43', 'x', null, null, null] });
    expect(b.lastKey()).toEqual(['43']);
    expect(b.bytes).toBe(2 + 0 + 14 + 3 + 2 + 1);
  });

  test('the exact bytes pgoutput sends', () => {
    const b = new InsertBuilder(16385, 2, [0]);
    b.add(dataRow(['ab', null]));
    expect([...message(b.messages(), 0)]).toEqual([
      0x49, 0, 0, 0x40, 0x01, 0x4e, 0, 2,
      0x74, 0, 0, 0, 2, 0x61, 0x62,
      0x6e,
    ]);
  });

  test('key columns after the relation\'s are left out of the message but give the last key, in key order', () => {
    const b = new InsertBuilder(7, 1, [2, 1]);
    b.add(dataRow(['total', 'eu', '1']));
    b.add(dataRow(['9', 'us', '2']));
    expect(decodePgoutput(message(b.messages(), 1), { protoVersion: 1 })).toMatchObject({ newTuple: ['9'] });
    expect(b.lastKey()).toEqual(['2', 'us']);
    expect(b.bytes).toBe(5 + 1);
  });

  test('no rows: no last key; the buffer grows past its first size, earlier rows intact', () => {
    const b = new InsertBuilder(1, 2, [0]);
    expect(b.lastKey()).toBeUndefined();
    expect(b.messages().offsets).toEqual(Int32Array.of(0));
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 5; i++) b.add(dataRow([String(i), big]));
    const m = b.messages();
    for (let i = 0; i < 5; i++) expect(decodePgoutput(message(m, i), { protoVersion: 1 })).toMatchObject({ newTuple: [String(i), big] });
    expect(b.lastKey()).toEqual(['4']);
  });
});
