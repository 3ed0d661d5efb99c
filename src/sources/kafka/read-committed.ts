/**
 * Read-committed filtering of a Fetch response, done right (docs/kafka.md, "Isolation"):
 * @platformatic/kafka 2.12 keeps one aborted range per producer id per response, so when a
 * producer aborted two transactions within one fetch, the records of all but the last were handed
 * out as if committed (tested in test/integration/kafka/source-transactions.test.ts). This filter
 * runs on what the client leaves (it only ever removes aborted batches) and empties the rest: an
 * aborted batch keeps its place with no records, because the client's message stream takes the next
 * fetch offset from the last batch of a response. Removed, an aborted batch at the end of a response
 * cut short by its size limit (its abort marker in the next one) would send the stream back to the
 * same offset, fetching the same response for ever (seen in the exactly-once soak: a read_committed
 * reader stuck 60,000 records short on two of three partitions).
 *
 * The algorithm is the Java consumer's: walk a partition's batches in offset order; every aborted
 * transaction the brokers listed whose first offset is at or before the batch's last offset marks
 * its producer as aborting; a transactional data batch of an aborting producer is aborted; that
 * producer's abort marker (a control batch) ends it. Pure, apart from
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
  records: { key?: Uint8Array | null }[];
}

/** The parts of a fetched partition this filter reads and changes. */
export interface FetchedPartition {
  abortedTransactions?: readonly { producerId: bigint; firstOffset: bigint }[] | null;
  records?: FetchedBatch[] | null;
}

export interface FetchedResponse {
  responses: readonly { partitions: readonly FetchedPartition[] }[];
}

/** Empties, in place, every batch of an aborted transaction of a read_committed Fetch response. */
export function dropAbortedBatches(response: FetchedResponse): void {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const aborted = partition.abortedTransactions;
      if (!partition.records || !aborted || aborted.length === 0) continue;
      for (const batch of abortedBatches(partition.records, aborted)) batch.records = [];
    }
  }
}

/** The data batches of one partition's fetched batches (in offset order) that belong to aborted transactions. */
export function abortedBatches(
  batches: readonly FetchedBatch[],
  abortedTransactions: readonly { producerId: bigint; firstOffset: bigint }[],
): FetchedBatch[] {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const aborting = new Set<bigint>();
  const aborted: FetchedBatch[] = [];
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
