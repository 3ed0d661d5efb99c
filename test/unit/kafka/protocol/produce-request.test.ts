/** The Produce request body around our record batches, classic (v3-v8) and flexible (v9+) encodings, read back field by field. */
import { describe, expect, test } from 'bun:test';
import { encodeProduceRequest } from '../../../../src/kafka/protocol/produce-request.ts';

const batchA = Uint8Array.from([1, 2, 3]);
const batchB = Uint8Array.from([9, 8]);
const topics = [
  { topic: 'orders', partitions: [{ partition: 0, batch: batchA }, { partition: 2, batch: batchB }] },
  { topic: 'é', partitions: [{ partition: 1, batch: batchA }] },
];

function joined(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

/** A reader for the fields of a request body. */
function reader(buf: Buffer) {
  let pos = 0;
  return {
    int16: () => ((pos += 2), buf.readInt16BE(pos - 2)),
    int32: () => ((pos += 4), buf.readInt32BE(pos - 4)),
    uvarint: () => {
      let n = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = buf[pos++]!;
        n |= (byte & 0x7f) << shift;
        if (byte < 0x80) return n >>> 0;
      }
    },
    bytes: (n: number) => ((pos += n), [...buf.subarray(pos - n, pos)]),
    get rest() {
      return buf.length - pos;
    },
  };
}

describe('Produce request body', () => {
  test('v8 (classic): nullable string, int32 array counts, int16 names, int32 record sizes', () => {
    const r = reader(joined(encodeProduceRequest(8, -1, 2000, topics)));
    expect(r.int16()).toBe(-1); // transactional_id null
    expect(r.int16()).toBe(-1); // acks
    expect(r.int32()).toBe(2000);
    expect(r.int32()).toBe(2); // topics
    expect(r.int16()).toBe(6);
    expect(Buffer.from(r.bytes(6)).toString()).toBe('orders');
    expect(r.int32()).toBe(2);
    expect([r.int32(), r.int32(), ...r.bytes(3)]).toEqual([0, 3, 1, 2, 3]);
    expect([r.int32(), r.int32(), ...r.bytes(2)]).toEqual([2, 2, 9, 8]);
    expect(r.int16()).toBe(2); // 'é' is two UTF-8 bytes
    expect(r.bytes(2)).toEqual([0xc3, 0xa9]);
    expect(r.int32()).toBe(1);
    expect([r.int32(), r.int32(), ...r.bytes(3)]).toEqual([1, 3, 1, 2, 3]);
    expect(r.rest).toBe(0);
  });

  test('v11 (flexible): compact strings, arrays and records (length + 1), empty tagged fields', () => {
    const r = reader(joined(encodeProduceRequest(11, 1, 500, topics)));
    expect(r.uvarint()).toBe(0); // transactional_id null
    expect(r.int16()).toBe(1);
    expect(r.int32()).toBe(500);
    expect(r.uvarint()).toBe(3); // 2 topics
    expect(r.uvarint()).toBe(7);
    expect(Buffer.from(r.bytes(6)).toString()).toBe('orders');
    expect(r.uvarint()).toBe(3); // 2 partitions
    expect([r.int32(), r.uvarint(), ...r.bytes(3), r.uvarint()]).toEqual([0, 4, 1, 2, 3, 0]);
    expect([r.int32(), r.uvarint(), ...r.bytes(2), r.uvarint()]).toEqual([2, 3, 9, 8, 0]);
    expect(r.uvarint()).toBe(0); // topic tagged fields
    expect(r.uvarint()).toBe(3);
    expect(r.bytes(2)).toEqual([0xc3, 0xa9]);
    expect(r.uvarint()).toBe(2);
    expect([r.int32(), r.uvarint(), ...r.bytes(3), r.uvarint()]).toEqual([1, 4, 1, 2, 3, 0]);
    expect(r.uvarint()).toBe(0);
    expect(r.uvarint()).toBe(0); // request tagged fields
    expect(r.rest).toBe(0);
  });

  test('a transactional id goes first, as a string of the version\'s kind', () => {
    const classic = reader(joined(encodeProduceRequest(8, -1, 500, topics, 'tx-é')));
    expect(classic.int16()).toBe(5);
    expect(Buffer.from(classic.bytes(5)).toString()).toBe('tx-é');
    expect(classic.int16()).toBe(-1);
    const flexible = reader(joined(encodeProduceRequest(11, -1, 500, topics, 'tx')));
    expect(flexible.uvarint()).toBe(3);
    expect(Buffer.from(flexible.bytes(2)).toString()).toBe('tx');
    expect(flexible.int16()).toBe(-1);
  });

  test('batches are passed on as they are, not copied', () => {
    const chunks = encodeProduceRequest(11, -1, 1, topics);
    expect(chunks.filter((c) => c === batchA).length).toBe(2);
    expect(chunks).toContain(batchB);
  });

  test('versions outside 3-12 are refused (12 is 11 on the wire)', () => {
    expect(() => encodeProduceRequest(2, -1, 1, topics)).toThrow(RangeError);
    expect(() => encodeProduceRequest(13, -1, 1, topics)).toThrow(RangeError);
  });
});
