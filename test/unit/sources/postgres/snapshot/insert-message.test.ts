import { describe, expect, test } from 'bun:test';
import { decodePgoutput } from '../../../../../src/pgoutput/decode.ts';
import { encodeInsertMessage } from '../../../../../src/sources/postgres/snapshot/insert-message.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('encodeInsertMessage', () => {
  test('decodes back to the same relation and values (text, NULL, empty, multi-byte)', () => {
    const values = [text('42'), null, text(''), text('日本語 😀'), text('a\u0000b')];
    const message = decodePgoutput(encodeInsertMessage(0xfffffffe, values), { protoVersion: 1 });
    expect(message).toEqual({ tag: 'insert', xid: undefined, relationId: 0xfffffffe, newTuple: ['42', null, '', '日本語 😀', 'a\u0000b'] });
  });

  test('the exact bytes pgoutput sends', () => {
    expect([...encodeInsertMessage(16385, [text('ab'), null])]).toEqual([
      0x49, 0, 0, 0x40, 0x01, 0x4e, 0, 2,
      0x74, 0, 0, 0, 2, 0x61, 0x62,
      0x6e,
    ]);
  });

  test('a row of no columns', () => {
    expect(decodePgoutput(encodeInsertMessage(1, []), { protoVersion: 4 })).toEqual({ tag: 'insert', xid: undefined, relationId: 1, newTuple: [] });
  });

  test('values that are views into a larger buffer are copied from their own range', () => {
    const buffer = text('xxhelloyy');
    const message = decodePgoutput(encodeInsertMessage(7, [buffer.subarray(2, 7)]), { protoVersion: 1 });
    expect(message).toMatchObject({ newTuple: ['hello'] });
  });

  test('a bad OID or too many columns is refused', () => {
    expect(() => encodeInsertMessage(-1, [])).toThrow(RangeError);
    expect(() => encodeInsertMessage(2 ** 32, [])).toThrow(RangeError);
    expect(() => encodeInsertMessage(1, new Array(0x8000).fill(null))).toThrow(/32767/);
  });
});
