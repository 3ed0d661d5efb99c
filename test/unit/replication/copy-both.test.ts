import { describe, expect, test } from 'bun:test';
import {
  decodeCopyBothMessage,
  encodeStandbyStatusUpdate,
  PG_EPOCH_OFFSET_MICROS,
  pgMicrosToIso,
  pgTimeMicrosNow,
  pgTimeToIso,
  readInt64Number,
  ReplicationDecodeError,
  XLOGDATA_DATA_OFFSET,
  xlogDataStartNumber,
  type XLogData,
} from '../../../src/replication/copy-both.ts';
import { FrameWriter, randomSource, randomValues } from '../../helpers/pgoutput-frames.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('decodeCopyBothMessage', () => {
  test('XLogData: 25-byte header, data is a view of the rest', () => {
    const payload = new FrameWriter().char('w').u64(0x16_b374d848n).u64(0x16_b374d900n).u64(-5n).raw(Uint8Array.of(0x42, 1, 2)).finish();
    expect(payload.length).toBe(28);
    const message = decodeCopyBothMessage(payload);
    expect(message).toEqual({
      tag: 'xlogdata',
      walStart: 0x16_b374d848n,
      walEnd: 0x16_b374d900n,
      serverTime: -5n,
      data: Uint8Array.of(0x42, 1, 2),
    });
    if (message.tag !== 'xlogdata') throw new Error('unreachable');
    expect(message.data.buffer).toBe(payload.buffer); // a view, not a copy
    expect(message.data.byteOffset).toBe(25);
  });

  test('XLogData inside a larger buffer (subarray payload) and with empty data', () => {
    const frame = new FrameWriter().u8(0xee).u8(0xee).char('w').u64(1n).u64(2n).u64(3n).finish();
    const message = decodeCopyBothMessage(frame.subarray(2));
    expect(message).toMatchObject({ tag: 'xlogdata', walStart: 1n, walEnd: 2n, serverTime: 3n });
    if (message.tag === 'xlogdata') expect(message.data.length).toBe(0);
  });

  test('primary keepalive: 1 + 17 bytes', () => {
    const payload = new FrameWriter().char('k').u64(0xffff_ffff_ffff_ffffn).u64(774_000_000_000_000n).u8(1).finish();
    expect(payload.length).toBe(18);
    expect(decodeCopyBothMessage(payload)).toEqual({
      tag: 'keepalive', walEnd: 0xffff_ffff_ffff_ffffn, serverTime: 774_000_000_000_000n, replyRequested: true,
    });
    payload[17] = 0;
    expect(decodeCopyBothMessage(payload)).toMatchObject({ replyRequested: false });
  });

  test('truncated payloads at every length throw ReplicationDecodeError', () => {
    const xlog = new FrameWriter().char('w').u64(1n).u64(2n).u64(3n).finish();
    const keepalive = new FrameWriter().char('k').u64(1n).u64(2n).u8(0).finish();
    for (const full of [xlog, keepalive]) {
      for (let length = 0; length < full.length; length++) {
        expect(() => decodeCopyBothMessage(full.subarray(0, length))).toThrow(ReplicationDecodeError);
      }
      expect(() => decodeCopyBothMessage(full)).not.toThrow();
    }
  });

  test('an unknown type byte is a typed error marked unknownType', () => {
    let error: unknown;
    try {
      decodeCopyBothMessage(Uint8Array.of(0x78, 0, 0));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReplicationDecodeError);
    expect(error).toMatchObject({ unknownType: true, messageType: 'x' });
    expect(() => decodeCopyBothMessage(new Uint8Array(0))).toThrow(/empty/);
  });

  test('random bytes never throw anything but ReplicationDecodeError', () => {
    const random = randomSource(Date.now());
    const rnd = randomValues(random);
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from({ length: rnd.int(40) }, () => rnd.int(256));
      if (bytes.length > 0 && random() < 0.7) bytes[0] = random() < 0.5 ? 0x77 : 0x6b;
      try {
        decodeCopyBothMessage(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ReplicationDecodeError);
      }
    }
  });
});

describe('xlogDataStartNumber', () => {
  test('reads the WAL start as decodeCopyBothMessage does, below 2^53; -1 from there on', () => {
    for (const walStart of [0n, 1n, 0x1_0000_0000n, 0x16_B374_D848n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 0xffff_ffff_ffff_ffffn]) {
      const payload = new FrameWriter().char('w').u64(walStart).u64(walStart + 1n).u64(0n).char('I').finish();
      expect((decodeCopyBothMessage(payload) as XLogData).walStart).toBe(walStart);
      expect(xlogDataStartNumber(payload)).toBe(walStart < 2n ** 53n ? Number(walStart) : -1);
      expect(xlogDataStartNumber(Uint8Array.of(0, 0, ...payload), 2)).toBe(xlogDataStartNumber(payload));
    }
    expect(XLOGDATA_DATA_OFFSET).toBe(25);
  });
});

describe('encodeStandbyStatusUpdate', () => {
  test('exact 34-byte layout', () => {
    const bytes = encodeStandbyStatusUpdate({
      write: 0x16_b374d848n, flush: 0x16_b374d800n, apply: 0x1n, clientTime: 0x0102030405060708n, replyRequested: true,
    });
    expect(bytes.length).toBe(34);
    expect(hex(bytes)).toBe(
      '72' + '00000016b374d848' + '00000016b374d800' + '0000000000000001' + '0102030405060708' + '01',
    );
    const noReply = encodeStandbyStatusUpdate({ write: 0n, flush: 0n, apply: 0n, clientTime: -1n, replyRequested: false });
    expect(hex(noReply)).toBe('72' + '00'.repeat(24) + 'ff'.repeat(8) + '00');
  });

  test('rejects positions that are not LSNs', () => {
    expect(() => encodeStandbyStatusUpdate({ write: -1n, flush: 0n, apply: 0n, clientTime: 0n, replyRequested: false })).toThrow(RangeError);
    expect(() => encodeStandbyStatusUpdate({ write: 0n, flush: 1n << 64n, apply: 0n, clientTime: 0n, replyRequested: false })).toThrow(
      /flush/,
    );
  });
});

describe('PostgreSQL time', () => {
  test('pgTimeMicrosNow is close to Date.now() shifted to 2000-01-01', () => {
    const expected = BigInt(Date.now()) * 1000n - PG_EPOCH_OFFSET_MICROS;
    const diff = pgTimeMicrosNow() - expected;
    expect(diff < 1_000_000n && diff > -1_000_000n).toBe(true);
  });

  test('pgTimeToIso: RFC 3339 UTC with six fractional digits', () => {
    expect(pgTimeToIso(0n)).toBe('2000-01-01T00:00:00.000000Z');
    expect(pgTimeToIso(1n)).toBe('2000-01-01T00:00:00.000001Z');
    expect(pgTimeToIso(-1n)).toBe('1999-12-31T23:59:59.999999Z');
    expect(pgTimeToIso(-1000n)).toBe('1999-12-31T23:59:59.999000Z');
    expect(pgTimeToIso(-1001n)).toBe('1999-12-31T23:59:59.998999Z');
    // 2024-05-06 07:08:09.123456 UTC
    const us = BigInt(Date.UTC(2024, 4, 6, 7, 8, 9)) * 1000n + 123_456n - PG_EPOCH_OFFSET_MICROS;
    expect(pgTimeToIso(us)).toBe('2024-05-06T07:08:09.123456Z');
    expect(pgTimeToIso(0x7fff_ffff_ffff_ffffn)).toBe('infinity');
    expect(pgTimeToIso(-0x8000_0000_0000_0000n)).toBe('-infinity');
    expect(() => pgTimeToIso(0x7fff_ffff_ffff_fffen)).toThrow(RangeError);
  });

  test('pgMicrosToIso: the text of pgTimeToIso, from a number', () => {
    const random = randomSource(20261207);
    const values = [0, 1, -1, -1000, -1001, 999_999, 1_000_000, -999_999, -1_000_000, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53 - 946_684_800_000_000, 2 ** 53 - 946_684_800_000_001];
    // Consecutive values in one second and across seconds (the cached prefix), and anywhere in ±285 years.
    for (let i = 0; i < 2000; i++) values.push(Math.floor(random() * 3_000_000) + 787_000_000_000_000);
    for (let i = 0; i < 2000; i++) values.push(Math.floor((random() * 2 - 1) * (2 ** 53 - 1)));
    for (const us of values) expect(pgMicrosToIso(us)).toBe(pgTimeToIso(BigInt(us)));
  });

  test('readInt64Number: safe integers as numbers, NaN beyond', () => {
    const at = (value: bigint) => readInt64Number(new FrameWriter().u8(0).u64(value).finish(), 1);
    for (const value of [0n, 1n, -1n, 0xffff_ffffn, 0x1_0000_0000n, -0x1_0000_0000n, 2n ** 53n - 1n, -(2n ** 53n)]) expect(at(value)).toBe(Number(value));
    expect(at(2n ** 53n)).toBeNaN();
    expect(at(-(2n ** 53n) - 1n)).toBeNaN();
    expect(at(0x7fff_ffff_ffff_ffffn)).toBeNaN();
    expect(at(-0x8000_0000_0000_0000n)).toBeNaN();
  });
});
