import { describe, expect, test } from 'bun:test';
import { fnv1a32, fnv1aPartition, murmur2, murmur2Partition, partitionerFor } from '../../../../src/kafka/protocol/partitioner.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2 (Java client)', () => {
  // Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java testMurmur2.
  const javaVectors: Array<[string | number[], number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    [[0x61, 0x62, 0x63], 479470107],
  ];
  for (const [input, expected] of javaVectors) {
    test(`murmur2(${JSON.stringify(input)}) = ${expected}`, () => {
      expect(murmur2(typeof input === 'string' ? bytes(input) : new Uint8Array(input))).toBe(expected);
    });
  }

  test('empty key, every tail length, and bytes ≥ 0x80 (Java bytes are signed, masked with 0xff)', () => {
    // Computed with kafka-clients 4.1.2: Utils.murmur2(key) and BuiltInPartitioner.partitionForKey(key, 7).
    const cases: Array<[number[], number, number]> = [
      [[], 275646681, 2],
      [[0xff], -311467685, 5],
      [[0x01, 0x02], -1935140722, 5],
      [[0x01, 0x02, 0x03], 2139322793, 6],
      [[0xc3, 0xa9, 0xff], 2085123101, 5],
      [[0x80, 0x81, 0xfe, 0xff, 0x00], -362278700, 2],
    ];
    for (const [input, hash, partitionOf7] of cases) {
      expect(murmur2(new Uint8Array(input))).toBe(hash);
      expect(murmur2Partition(new Uint8Array(input), 7)).toBe(partitionOf7);
    }
  });

  test('a key inside a larger buffer (start, end) hashes as the same bytes on their own, for every tail length', () => {
    const around = bytes('xx["public.users",123456789]yyy');
    for (let start = 0; start < 4; start++) {
      for (let end = start; end <= around.length; end++) {
        const alone = around.slice(start, end);
        expect(murmur2(around, start, end)).toBe(murmur2(alone));
        expect(murmur2Partition(around, 7, start, end)).toBe(murmur2Partition(alone, 7));
        expect(fnv1a32(around, start, end)).toBe(fnv1a32(alone));
        expect(fnv1aPartition(around, 7, start, end)).toBe(fnv1aPartition(alone, 7));
      }
    }
  });

  test('partition = (murmur2 & 0x7fffffff) % n, never negative', () => {
    for (const [input, hash] of javaVectors) {
      const key = typeof input === 'string' ? bytes(input) : new Uint8Array(input);
      for (const n of [1, 3, 7, 100]) expect(murmur2Partition(key, n)).toBe((hash & 0x7fffffff) % n);
    }
  });
});

describe('fnv1a (the original: kafka-go Hash balancer)', () => {
  test('FNV-1a 32 reference values', () => {
    expect(fnv1a32(bytes(''))).toBe(0x811c9dc5);
    expect(fnv1a32(bytes('a'))).toBe(0xe40c292c);
    expect(fnv1a32(bytes('foobar'))).toBe(0xbf9cf968);
  });

  // kafka-go balancer_test.go TestHashBalancer (the version that casts to int32, as sarama).
  const kafkaGoVectors: Array<[string, number, number]> = [
    ['blah', 2, 0],
    ['blah', 3, 1],
    ['boop', 3, 2],
    ['20', 16, 1], // hash with the sign bit set: int32 cast, truncating %, then abs
  ];
  for (const [key, partitions, expected] of kafkaGoVectors) {
    test(`"${key}" over ${partitions} partitions → ${expected}`, () => {
      expect(fnv1aPartition(bytes(key), partitions)).toBe(expected);
    });
  }

  test('the sign bit case differs from unsigned modulo, and int32 minimum stays in range', () => {
    const h = fnv1a32(bytes('20'));
    expect(h).toBeGreaterThanOrEqual(2 ** 31);
    expect(fnv1aPartition(bytes('20'), 16)).not.toBe(h % 16);
    // sarama PR #709: "1468509572224" hashes to 2^31, int32(-2^31) whose negation overflows in Go.
    expect(fnv1a32(bytes('1468509572224'))).toBe(2 ** 31);
    for (const n of [1, 3, 5, 16]) {
      const p = fnv1aPartition(bytes('1468509572224'), n);
      expect(p).toBe(2 ** 31 % n);
      expect(p).toBeGreaterThanOrEqual(0);
    }
  });

  test('the original key format', () => {
    // abs(int32(fnv1a) % n) for a key as the original sends it.
    const key = bytes('db1:shop:orders:insert');
    const signed = fnv1a32(key) | 0;
    expect(fnv1aPartition(key, 3)).toBe(Math.abs(signed % 3));
  });
});

test('partitionerFor picks the scheme', () => {
  expect(partitionerFor('murmur2')).toBe(murmur2Partition);
  expect(partitionerFor('fnv1a')).toBe(fnv1aPartition);
});
