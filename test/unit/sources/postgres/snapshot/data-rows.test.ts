import { describe, expect, test } from 'bun:test';
import { decodePgoutput } from '../../../../../src/pgoutput/decode.ts';
import { dataRowTexts, insertMessage } from '../../../../../src/sources/postgres/data-row.ts';
import { DataRows } from '../../../../../src/sources/postgres/snapshot/data-rows.ts';
import { dataRowBytes } from '../../../../helpers/pgoutput-frames.ts';

/** Rows laid one after another in one buffer, as they arrive in a socket read, with bytes around them. */
function received(rows: readonly (readonly (string | null)[])[]): { buffer: Uint8Array; ranges: [number, number][] } {
  const parts = rows.map((values) => dataRowBytes(values));
  const buffer = new Uint8Array(3 + parts.reduce((n, p) => n + p.length + 5, 0)).fill(0x44);
  const ranges: [number, number][] = [];
  let at = 3;
  for (const part of parts) {
    at += 5; // a message header
    buffer.set(part, at);
    ranges.push([at, at + part.length]);
    at += part.length;
  }
  return { buffer, ranges };
}

describe('DataRows: a chunk\'s rows kept where they arrived', () => {
  test('ranges of the received buffer, not copies; value bytes and the last key', () => {
    const { buffer, ranges } = received([['42', null, '', '日本語 😀', 'a\u0000b'], ['43', 'x', null, null, null]]);
    const rows = new DataRows(5, [0]);
    for (const [start, end] of ranges) rows.add(buffer, start, end);
    expect(rows.count).toBe(2);
    expect(rows.data[0]).toBe(buffer);
    expect([rows.starts, rows.ends]).toEqual([ranges.map((r) => r[0]), ranges.map((r) => r[1])]);
    expect(rows.bytes).toBe(2 + 0 + 14 + 3 + 2 + 1);
    expect(rows.lastKey()).toEqual(['43']);
  });

  test('key columns after the relation\'s are not counted but give the last key, in key order', () => {
    const { buffer, ranges } = received([['total', 'eu', '1'], ['9', 'us', '2']]);
    const rows = new DataRows(1, [2, 1]);
    for (const [start, end] of ranges) rows.add(buffer, start, end);
    expect(rows.lastKey()).toEqual(['2', 'us']);
    expect(rows.bytes).toBe(5 + 1);
  });

  test('no rows: no last key', () => {
    expect(new DataRows(2, [0]).lastKey()).toBeUndefined();
  });
});

describe('insertMessage: a DataRow as the Insert message pgoutput sends', () => {
  test('decodes back to the same relation and values (text, NULL, empty, multi-byte, NUL)', () => {
    const { buffer, ranges } = received([['42', null, '', '日本語 😀', 'a\u0000b']]);
    const [start, end] = ranges[0]!;
    expect(decodePgoutput(insertMessage(0xfffffffe, 5, buffer, start, end), { protoVersion: 1 }))
      .toEqual({ tag: 'insert', xid: undefined, relationId: 0xfffffffe, newTuple: ['42', null, '', '日本語 😀', 'a\u0000b'] });
    expect(dataRowTexts(buffer, start, end)).toEqual(['42', null, '', '日本語 😀', 'a\u0000b']);
  });

  test('the exact bytes pgoutput sends; columns after the relation\'s left out', () => {
    const row = dataRowBytes(['ab', null, 'key']);
    expect([...insertMessage(16385, 2, row, 0, row.length)]).toEqual([
      0x49, 0, 0, 0x40, 0x01, 0x4e, 0, 2,
      0x74, 0, 0, 0, 2, 0x61, 0x62,
      0x6e,
    ]);
  });

  test('a DataRow cut short or with fewer columns: a clear error', () => {
    const row = dataRowBytes(['ab', 'cd']);
    for (let cut = 0; cut < row.length; cut++) {
      expect(() => insertMessage(1, 2, row, 0, cut)).toThrow('DataRow cut short');
      if (cut < 2 || (cut > 2 && cut < 6) || (cut > 8 && cut < row.length)) expect(() => dataRowTexts(row, 0, cut)).toThrow('DataRow cut short');
    }
    expect(() => insertMessage(1, 3, row, 0, row.length)).toThrow('DataRow of 2 columns for a relation of 3');
  });
});
