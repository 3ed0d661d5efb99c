import { describe, expect, test } from 'bun:test';
import { parsePgSnapshot, visibleIn, walTarget, widenXid } from '../../../../../src/sources/postgres/snapshot/pg-snapshot.ts';

describe('pg_current_snapshot text', () => {
  test('xmin:xmax:xip with and without in-progress ids', () => {
    expect(parsePgSnapshot('748:752:748,750')).toEqual({ xmin: 748n, xmax: 752n, xip: new Set([748n, 750n]) });
    expect(parsePgSnapshot('800:800:')).toEqual({ xmin: 800n, xmax: 800n, xip: new Set() });
    expect(parsePgSnapshot(' 4294967300:4294967310:4294967305 ').xip.has(4294967305n)).toBe(true);
  });

  test.each(['', '1:2', 'a:b:', '5:3:', '1:2:3,', '1:2:x'])('rejects %p', (text) => {
    expect(() => parsePgSnapshot(text)).toThrow('not a pg_snapshot');
  });
});

describe('visibility of a stream transaction (32-bit xid) in a snapshot (64-bit ids)', () => {
  const s = parsePgSnapshot('748:752:748,750');
  test('below xmin: ended before; in xip: running; between and not in xip: ended; at or above xmax: not started', () => {
    expect(visibleIn(s, 700)).toBe(true);
    expect(visibleIn(s, 748)).toBe(false);
    expect(visibleIn(s, 749)).toBe(true);
    expect(visibleIn(s, 750)).toBe(false);
    expect(visibleIn(s, 751)).toBe(true);
    expect(visibleIn(s, 752)).toBe(false);
    expect(visibleIn(s, 9000)).toBe(false);
  });

  test('across an epoch boundary: a 32-bit xid is taken in the epoch nearest to xmax', () => {
    const epoch1 = 1n << 32n;
    const wrapped = parsePgSnapshot(`${epoch1 - 3n}:${epoch1 + 2n}:${epoch1 + 1n}`);
    expect(widenXid(0xfffffffe, wrapped.xmax)).toBe(epoch1 - 2n);
    expect(widenXid(0, wrapped.xmax)).toBe(epoch1);
    expect(visibleIn(wrapped, 0xfffffffe)).toBe(true);
    expect(visibleIn(wrapped, 0)).toBe(true);
    expect(visibleIn(wrapped, 1)).toBe(false);
    expect(visibleIn(wrapped, 2)).toBe(false);
    expect(visibleIn(wrapped, 0xfffffff0)).toBe(true);
  });
});

describe('WAL target of a chunk', () => {
  const g = { blockSize: 8192, segmentSize: 16 * 1024 * 1024 };
  test('an insert position inside a page is the target', () => {
    expect(walTarget(0x1a8e94f0n, g)).toBe(0x1a8e94f0n);
    expect(walTarget(0x2000n + 0x30n, g)).toBe(0x2030n);
  });
  test('right after a page header: the page boundary (where an idle walsender stops)', () => {
    expect(walTarget(0x2000n + 24n, g)).toBe(0x2000n);
    expect(walTarget(0x5_0000_6000n + 24n, g)).toBe(0x5_0000_6000n);
  });
  test('right after a segment\'s long header: the segment boundary', () => {
    expect(walTarget(0x1000000n + 40n, g)).toBe(0x1000000n);
    expect(walTarget(0x3_0100_0000n + 40n, g)).toBe(0x3_0100_0000n);
    // 40 bytes into an ordinary page is a record position like any other.
    expect(walTarget(0x1002000n + 40n, g)).toBe(0x1002028n);
  });
});
