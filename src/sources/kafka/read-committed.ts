/**
 * Read-committed filtering of a Fetch response, done right (docs/kafka.md, "Isolation"):
 * @platformatic/kafka 2.12 keeps one aborted range per producer id per response, so when a
 * producer aborted two transactions within one fetch, the records of all but the last were handed
 * out as if committed (tested in test/integration/kafka/source-transactions.test.ts). This filter
 * runs on what the client leaves (it only ever removes aborted batches) and removes the rest.
 *
 * The algorithm is the Java consumer's: walk a partition's batches in offset order; every aborted
 * transaction the brokers listed whose first offset is at or before the batch's last offset marks
 * its producer as aborting; a transactional data batch of an aborting producer is dropped; that
 * producer's abort marker (a control batch) ends it. Control batches stay (the client's message
 * stream needs them to move its fetch offset past the transaction markers). Pure, apart from
 * `filterAbortedFetches`, which puts it into a consumer's fetch.
 */

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
/** Control record type of an abort marker (the key is int16 version, int16 type). */
const ABORT_MARKER = 0;

/** The parts of a fetched record batch this filter reads. */
export interface FetchedBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  producerId: bigint;
  attributes: number;
  records: readonly { key?: Uint8Array | null }[];
}

/** The parts of a fetched partition this filter reads and changes. */
export interface FetchedPartition {
  abortedTransactions?: readonly { producerId: bigint; firstOffset: bigint }[] | null;
  records?: FetchedBatch[] | null;
}

export interface FetchedResponse {
  responses: readonly { partitions: readonly FetchedPartition[] }[];
}

/** Removes, in place, every batch of an aborted transaction from a read_committed Fetch response. */
export function dropAbortedBatches(response: FetchedResponse): void {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const aborted = partition.abortedTransactions;
      if (partition.records && aborted && aborted.length > 0) partition.records = keepCommitted(partition.records, aborted);
    }
  }
}

/** The batches of one partition without those of aborted transactions. */
export function keepCommitted(
  batches: readonly FetchedBatch[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
): FetchedBatch[] {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const aborting = new Set<bigint>();
  const kept: FetchedBatch[] = [];
  for (const batch of batches) {
    if ((batch.attributes & IS_TRANSACTIONAL) !== 0) {
      const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
      while (next < pending.length && (pending[next] as { firstOffset: bigint }).firstOffset <= lastOffset) aborting.add((pending[next++] as { producerId: bigint }).producerId);
      if ((batch.attributes & IS_CONTROL) !== 0) {
        if (isAbortMarker(batch)) aborting.delete(batch.producerId);
      } else if (aborting.has(batch.producerId)) {
        continue;
      }
    }
    kept.push(batch);
  }
  return kept;
}

function isAbortMarker(batch: FetchedBatch): boolean {
  const key = batch.records[0]?.key;
  if (!key || key.length < 4) return false;
  return ((key[2] as number) << 8 | (key[3] as number)) === ABORT_MARKER;
}

type FetchCallback = (error: unknown, response?: FetchedResponse) => void;

/**
 * Makes `consumer.fetch` (what the client's message stream calls for every fetch) drop the batches
 * of aborted transactions the client let through. For consumers with isolation READ_COMMITTED.
 */
export function filterAbortedFetches<C extends { fetch: (...args: never[]) => unknown }>(consumer: C): void {
  const original = (consumer.fetch as unknown as (options: unknown, callback?: FetchCallback) => unknown).bind(consumer);
  const fetch = (options: unknown, callback?: FetchCallback): unknown => {
    if (callback === undefined) {
      return (original(options) as Promise<FetchedResponse>).then((response) => {
        dropAbortedBatches(response);
        return response;
      });
    }
    return original(options, (error, response) => {
      if (!error && response) dropAbortedBatches(response);
      callback(error, response);
    });
  };
  consumer.fetch = fetch as unknown as C['fetch'];
}
