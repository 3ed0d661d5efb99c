import { describe, expect, test } from 'bun:test';
import { ProtocolError } from '../../../src/pg/errors.ts';
import { Reader } from '../../../src/pg/reader.ts';
import { Writer } from '../../../src/pg/writer.ts';

describe('Reader', () => {
  test('reads big-endian integers, 64-bit values as bigint, C strings and byte ranges', () => {
    const bytes = new Writer()
      .u8(0xfe).i16(-2).i32(-3).u64(0xffff_ffff_ffff_fffen).i64(-5n).cstring('héllo').bytes(Uint8Array.of(1, 2, 3))
      .finish();
    const r = new Reader(bytes);
    expect(r.u8()).toBe(0xfe);
    expect(r.i16()).toBe(-2);
    expect(r.i32()).toBe(-3);
    expect(r.u64()).toBe(0xffff_ffff_ffff_fffen);
    expect(r.i64()).toBe(-5n);
    expect(r.cstring()).toBe('héllo');
    expect(r.remaining).toBe(3);
    expect([...r.bytes(3)]).toEqual([1, 2, 3]);
    expect(r.remaining).toBe(0);
    r.end('test');
  });

  test('u16/u32 are unsigned', () => {
    const r = new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xfe));
    expect(r.u16()).toBe(0xffff);
    expect(r.u32()).toBe(0xfffffffe);
  });

  test('works on a view with a byte offset', () => {
    const backing = Uint8Array.of(9, 9, 0, 0, 0, 7, 9);
    const r = new Reader(backing.subarray(2, 6));
    expect(r.i32()).toBe(7);
    expect(() => r.u8()).toThrow(ProtocolError);
  });

  test.each([
    ['u8', (r: Reader) => r.u8(), 0],
    ['i16', (r: Reader) => r.i16(), 1],
    ['i32', (r: Reader) => r.i32(), 3],
    ['u64', (r: Reader) => r.u64(), 7],
    ['bytes', (r: Reader) => r.bytes(5), 4],
  ] as const)('%s past the end throws ProtocolError with the offset', (_name, read, size) => {
    const r = new Reader(new Uint8Array(size));
    try {
      read(r);
      throw new Error('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).offset).toBe(0);
    }
  });

  test('a string without NUL, a negative length and trailing bytes are errors', () => {
    expect(() => new Reader(Uint8Array.of(65, 66)).cstring()).toThrow(/NUL terminator/);
    expect(() => new Reader(Uint8Array.of(1)).bytes(-1)).toThrow(/negative length/);
    const r = new Reader(Uint8Array.of(1, 2));
    r.u8();
    expect(() => r.end('Thing')).toThrow(/Thing: 1 unexpected trailing bytes/);
  });

  test('a failed read does not advance the cursor', () => {
    const r = new Reader(Uint8Array.of(1, 2, 3));
    expect(() => r.i32()).toThrow(ProtocolError);
    expect(r.offset).toBe(0);
    expect(r.i16()).toBe(0x0102);
  });
});

describe('Writer', () => {
  test('back-patches the length, which counts itself but not the type byte', () => {
    const bytes = new Writer(2).begin('Q').cstring('SELECT 1').end().finish();
    expect(String.fromCharCode(bytes[0]!)).toBe('Q');
    expect(new DataView(bytes.buffer, bytes.byteOffset).getInt32(1)).toBe(4 + 9);
    expect(bytes.length).toBe(1 + 4 + 9);
  });

  test('untyped messages (startup) and several messages in one buffer', () => {
    const bytes = new Writer(4).begin().i32(80877103).end().begin('c').end().finish();
    expect([...bytes]).toEqual([0, 0, 0, 8, 4, 210, 22, 47, 0x63, 0, 0, 0, 4]);
  });

  test('grows past its initial capacity', () => {
    const big = new Uint8Array(10_000).fill(7);
    const bytes = new Writer(1).begin('d').bytes(big).end().finish();
    expect(bytes.length).toBe(10_005);
    expect(bytes[10_004]).toBe(7);
  });

  test('refuses a NUL inside a string, and unbalanced begin/end', () => {
    expect(() => new Writer().cstring('a\0b')).toThrow(/NUL/);
    expect(() => new Writer().begin('Q').begin('Q')).toThrow();
    expect(() => new Writer().end()).toThrow();
    expect(() => new Writer().begin('Q').finish()).toThrow();
  });
});
