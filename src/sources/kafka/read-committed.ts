/**
 * Read-committed filtering of a Fetch response, done right (docs/kafka.md, "Isolation").
 * @platformatic/kafka 2.12.1's own filter is wrong both ways: it keeps one aborted range per
 * producer id per response, so when a producer aborted two transactions within one fetch the
 * records of all but the last were handed out as if committed; and it ends that range at the
 * producer's last abort marker in the response, which can remove committed transactions (see
 * `filterAbortedFetches`). Both are tested in test/integration/kafka/source-transactions.test.ts.
 * This filter replaces it: it runs on the response as the broker sent it and empties aborted
 * batches rather than removing them, because the client's message stream takes the next fetch
 * offset from the last batch of a response. Removed, an aborted batch at the end of a response cut
 * short by its size limit (its abort marker in the next one) would send the stream back to the
 * same offset, fetching the same response for ever.
 *
 * Which batches are aborted is decided by kafka/protocol/aborted-batches.ts (the Java consumer's
 * algorithm, pure); `filterAbortedFetches` puts it into a consumer's fetch.
 */

import { abortedBatches, type FetchedBatch } from '../../kafka/protocol/aborted-batches.ts';

/** The parts of a fetched partition this filter reads and changes. */
export interface FetchedPartition {
  abortedTransactions?: { producerId: bigint; firstOffset: bigint }[] | null;
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

/** The library's request function of one API version (`createAPI` in @platformatic/kafka): callback last; `version` and `async` read by callers. */
export type RequestFunction = ((...args: unknown[]) => void) & { version: number; key: number; async: unknown };
export type GetApi = (name: string, callback: (error: unknown, api?: RequestFunction) => void) => void;

/** The description of the library's private "request function for an API" method (clients/base/base.js). */
export const GET_API = 'plt.kafka.base.getApi';
const wrappedFetches = new WeakMap<RequestFunction, RequestFunction>();

/**
 * Makes a READ_COMMITTED consumer drop the batches of aborted transactions correctly. The client's
 * own filter (2.12.1, `#filterUncommittedMessages`) is not just incomplete but loses data: it keeps
 * one range per producer id, from the first offset of the last aborted transaction the broker
 * listed to the LAST abort marker of that producer in the response, and removes every batch in it.
 * An abort marker of a later transaction that wrote nothing to this partition (a transaction killed
 * before it produced here) is not listed, so the range then covers committed transactions in
 * between, which the consumer never sees (found by the exactly-once kill test: thousands of
 * committed changes missing while the log held them all; test/integration/kafka/source-transactions.test.ts
 * has the regression test).
 *
 * So the filter runs on the Fetch response as it comes from the broker, before the client's: it
 * empties the aborted batches (dropAbortedBatches) and then clears the response's list of aborted
 * transactions, which leaves the client's filter nothing to do. It hooks the client's lookup of its
 * Fetch request function, a private method found by its symbol's description; if a later client
 * version renames it, this throws at once instead of reading wrongly.
 */
export function filterAbortedFetches(consumer: object): void {
  const key = privateMethod(consumer, GET_API);
  const target = consumer as Record<symbol, GetApi>;
  const getApi = target[key]!.bind(consumer);
  target[key] = (name, callback) => getApi(name, (error, api) => callback(error, error || name !== 'Fetch' || api === undefined ? api : readCommittedFetch(api)));
}

/** The Fetch request function with the correct filter applied to its responses (one wrapper per version). */
function readCommittedFetch(api: RequestFunction): RequestFunction {
  let wrapped = wrappedFetches.get(api);
  if (wrapped !== undefined) return wrapped;
  const fetch = (...args: unknown[]): void => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      args[args.length - 1] = (error: { response?: FetchedResponse } | null | undefined, response?: FetchedResponse) => {
        if (response) settleAborted(response);
        if (error?.response) settleAborted(error.response);
        callback(error, response);
      };
    }
    api(...args);
  };
  wrapped = Object.assign(fetch, { version: api.version, key: api.key, async: api.async });
  wrappedFetches.set(api, wrapped);
  return wrapped;
}

/** Empties the aborted batches, then clears the lists of aborted transactions the client would misread. */
function settleAborted(response: FetchedResponse): void {
  dropAbortedBatches(response);
  for (const topic of response.responses) for (const partition of topic.partitions) if (partition.abortedTransactions) partition.abortedTransactions = [];
}

/** The symbol of a method on `object` or its prototypes, by the symbol's description. */
export function privateMethod(object: object, description: string): symbol {
  for (let proto: object | null = object; proto !== null; proto = Object.getPrototypeOf(proto)) {
    for (const symbol of Object.getOwnPropertySymbols(proto)) {
      if (symbol.description === description && typeof (proto as Record<symbol, unknown>)[symbol] === 'function') return symbol;
    }
  }
  throw new Error(`@platformatic/kafka: no method "${description}" on the consumer; the hooks of src/sources/kafka/read-committed.ts and stable-offsets.ts must be adapted to this client version`);
}
