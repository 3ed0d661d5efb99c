/**
 * Partition of a message key, pure. Two schemes (the sink's `partitioner` key):
 *
 * - `murmur2` (default): the Java client's default partitioner, `toPositive(murmur2(key)) % n` with
 *   `toPositive(x) = x & 0x7fffffff` (Kafka `Utils.murmur2`, `BuiltInPartitioner.partitionForKey`).
 *   Keys written by us land where a Java producer (Kafka Streams, Connect, ...) would put them.
 * - `fnv1a`: the original psql-streamer's kafka-go `Hash` balancer (sarama's hash partitioner):
 *   FNV-1a 32 of the key, cast to int32, Go's truncating `% n`, then the absolute value.
 *   `int32(-2^31) % n` is in `(-n, 0]`, so the result is always a valid partition.
 */

/** Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`) of data[start, end): a signed 32-bit integer. */
export function murmur2(data: Uint8Array, start = 0, end = data.length): number {
  const length = end - start;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = start + (length & ~3);
  for (let i = start; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[length4 + 2]! << 16;
  if (tail >= 2) h ^= data[length4 + 1]! << 8;
  if (tail >= 1) {
    h ^= data[length4]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** FNV-1a 32-bit (Go `hash/fnv.New32a`) of data[start, end): an unsigned 32-bit integer. */
export function fnv1a32(data: Uint8Array, start = 0, end = data.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Java client's partition of a key (key[start, end)): `(murmur2(key) & 0x7fffffff) % partitions`. */
export function murmur2Partition(key: Uint8Array, partitions: number, start = 0, end = key.length): number {
  return (murmur2(key, start, end) & 0x7fffffff) % partitions;
}

/** kafka-go `Hash` (and sarama) partition of a key (key[start, end)): `abs(int32(fnv1a(key)) % partitions)`. */
export function fnv1aPartition(key: Uint8Array, partitions: number, start = 0, end = key.length): number {
  const signed = fnv1a32(key, start, end) | 0;
  return Math.abs(signed % partitions);
}

export type PartitionerName = 'murmur2' | 'fnv1a';

/** Partition function of a configured `partitioner`. */
export function partitionerFor(name: PartitionerName): (key: Uint8Array, partitions: number, start?: number, end?: number) => number {
  return name === 'fnv1a' ? fnv1aPartition : murmur2Partition;
}
