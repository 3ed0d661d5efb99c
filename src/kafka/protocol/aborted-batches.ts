/**
 * Which fetched record batches of a read_committed Fetch belong to aborted transactions, pure
 * (docs/kafka.md, "Isolation"). The algorithm is the Java consumer's: walk a partition's batches in
 * offset order; every aborted transaction the brokers listed whose first offset is at or before the
 * batch's last offset marks its producer as aborting; a transactional data batch of an aborting
 * producer is aborted; that producer's abort marker (a control batch) ends it. Used by the Kafka
 * source's fetch filter (sources/kafka/read-committed.ts) and by the exactly-once sink's read of
 * its position records (sinks/kafka/position-log.ts).
 */

/** Attribute bit 4: the batch belongs to a transaction. */
export const IS_TRANSACTIONAL = 1 << 4;
/** Attribute bit 5: a control batch (a transaction's commit or abort marker). */
export const IS_CONTROL = 1 << 5;
/** Control record type of an abort marker (the key is int16 version, int16 type). */
const ABORT_MARKER = 0;

/** The parts of a fetched record batch this filter reads. */
export interface FetchedBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  producerId: bigint;
  attributes: number;
  records: { key?: Uint8Array | null }[];
}

/** The data batches of one partition's fetched batches (in offset order) that belong to aborted transactions. */
export function abortedBatches<B extends FetchedBatch>(
  batches: readonly B[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
): B[] {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const aborting = new Set<bigint>();
  const aborted: B[] = [];
  for (const batch of batches) {
    if ((batch.attributes & IS_TRANSACTIONAL) === 0) continue;
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    while (next < pending.length && (pending[next] as { firstOffset: bigint }).firstOffset <= lastOffset) aborting.add((pending[next++] as { producerId: bigint }).producerId);
    if ((batch.attributes & IS_CONTROL) !== 0) {
      if (isAbortMarker(batch)) aborting.delete(batch.producerId);
    } else if (aborting.has(batch.producerId)) {
      aborted.push(batch);
    }
  }
  return aborted;
}

function isAbortMarker(batch: FetchedBatch): boolean {
  const key = batch.records[0]?.key;
  if (!key || key.length < 4) return false;
  return ((key[2] as number) << 8 | (key[3] as number)) === ABORT_MARKER;
}
