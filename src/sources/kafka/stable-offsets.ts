/**
 * Where a member starts reading a partition it was given (docs/kafka.md, "Consumer group, scale-out
 * and rebalances"): at the committed offset, as it stands once no transaction is about to move it.
 * Three gaps of @platformatic/kafka 2.12.1's consumer are closed here:
 *
 * - It asks OffsetFetch with require_stable = false: while an exactly-once relay's transaction
 *   holding offsets of the group is still open, the coordinator then answers the offset committed
 *   before it, and the partition's new owner would read again what that transaction is about to
 *   commit (duplicates). With require_stable = true the coordinator answers UNSTABLE_OFFSET_COMMIT
 *   (error 88) until the transaction ends; the client would retry that only `retries` times a second
 *   apart and then fail the fetch stream, so the request is asked again here, after a short wait,
 *   until the transaction ends (committed, aborted, or timed out by the brokers).
 * - A fetch sent before a rebalance and answered after it is still taken in: its records arrive as
 *   if read under the new assignment, and the client sets its next fetch offset past them, undoing
 *   the committed offset it has just fetched for the partition. Messages between the committed
 *   offset and that fetch's start were never read again (found by the relay-group test:
 *   108 committed changes lost). So the answer of a fetch sent before the latest assignment or
 *   committed-offset answer is emptied: the client then fetches again from the committed offset.
 * - A partition the group has no committed offset for is answered with the first offset this
 *   process read of it (when it read it before): the client would otherwise go on from its
 *   in-memory position, past messages an exactly-once relay left out when the partition moved
 *   (offsets.ts, firstPushed).
 *
 * Pure helpers, and `stableOffsetFetches`, which puts them into a consumer's OffsetFetch and Fetch
 * the way read-committed.ts puts its filter into Fetch.
 */
import { GET_API, privateMethod, type GetApi, type RequestFunction } from './read-committed.ts';

const UNSTABLE_OFFSET_COMMIT = 88;
/** Waits between attempts while a transaction holds the offsets: 50 ms doubling to 1 s. */
const FIRST_WAIT_MS = 50;
const MAX_WAIT_MS = 1_000;
/**
 * Attempts before the error goes to the client (its fetch stream fails, and the source starts a new
 * one after a backoff): with 1 s waits, longer than a default `transactionTimeout` (60 s) of a relay
 * killed mid-transaction with nobody to fence it.
 */
const MAX_ATTEMPTS = 200;

/** Wait before attempt `attempt + 1` (attempt counts from 1). */
export function unstableWaitMs(attempt: number): number {
  return Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.min(attempt - 1, 10));
}

/** Whether a failed request was refused with UNSTABLE_OFFSET_COMMIT (anywhere in the library's nested errors). */
export function isUnstableOffsetCommit(err: unknown, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as { apiCode?: unknown; apiId?: unknown; errors?: unknown; cause?: unknown };
  if (e.apiCode === UNSTABLE_OFFSET_COMMIT || e.apiId === 'UNSTABLE_OFFSET_COMMIT') return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnstableOffsetCommit(inner, depth + 1))) return true;
  return isUnstableOffsetCommit(e.cause, depth + 1);
}

/** The parts of an OffsetFetch response read here (v8+: per group; before: topics at the top). */
export interface OffsetFetchResponse {
  groups?: ReadonlyArray<{ topics: ReadonlyArray<FetchedTopicOffsets> }>;
  topics?: ReadonlyArray<FetchedTopicOffsets>;
}

interface FetchedTopicOffsets {
  name: string;
  partitions: Array<{ partitionIndex: number; committedOffset: bigint }>;
}

/** The parts of a Fetch response emptied when it is stale. */
export interface StaleFetchResponse {
  responses: ReadonlyArray<{ partitions: ReadonlyArray<{ records?: unknown }> }>;
}

/** Empties a fetch answer, in place: no records, and so no new fetch offsets, for any partition. */
export function emptyFetch(response: StaleFetchResponse): void {
  for (const topic of response.responses) for (const partition of topic.partitions) partition.records = null;
}

/** Puts `firstPushed` (when known) in place of "no committed offset" (-1), in place. */
export function fillMissingOffsets(response: OffsetFetchResponse, firstPushed: (topic: string, partition: number) => bigint | undefined): void {
  const topics = [...(response.topics ?? []), ...(response.groups ?? []).flatMap((g) => g.topics)];
  for (const topic of topics) {
    for (const partition of topic.partitions) {
      if (partition.committedOffset >= 0n) continue;
      const first = firstPushed(topic.name, partition.partitionIndex);
      if (first !== undefined) partition.committedOffset = first;
    }
  }
}

export interface StableOffsetOptions {
  firstPushed(topic: string, partition: number): bigint | undefined;
  /** Told before each wait for an open transaction (for a log line). */
  waiting?(attempt: number, waitMs: number): void;
}

/** What `stableOffsetFetches` gives its caller. */
export interface OffsetFetchHooks {
  /** The consumer was given a new assignment (call it from the group join listener, before the stream's). */
  assigned(): void;
}

/**
 * Makes `consumer` fetch committed offsets with require_stable, waiting out open transactions, drop
 * answers of fetches sent before the latest assignment or committed-offset answer, and fill in
 * missing offsets, as the opening comment says. Hooks the same private method as read-committed.ts
 * (throws at once if a client version renamed it).
 */
export function stableOffsetFetches(consumer: object, options: StableOffsetOptions): OffsetFetchHooks {
  const key = privateMethod(consumer, GET_API);
  const target = consumer as Record<symbol, GetApi>;
  const getApi = target[key]!.bind(consumer);
  const wrapped = new WeakMap<RequestFunction, RequestFunction>();
  /** Bumped at every assignment and committed-offset answer: a fetch sent under an older one is stale. */
  const epoch = { value: 0 };
  target[key] = (name, callback) => getApi(name, (error, api) => {
    if (error || (name !== 'OffsetFetch' && name !== 'Fetch') || api === undefined) {
      callback(error, api);
      return;
    }
    let hooked = wrapped.get(api);
    if (hooked === undefined) wrapped.set(api, (hooked = name === 'Fetch' ? currentFetch(api, epoch) : stableOffsetFetch(api, options, epoch)));
    callback(error, hooked);
  });
  return { assigned: () => void epoch.value++ };
}

/** The Fetch request function whose answers are emptied when a newer epoch began while they were under way. */
function currentFetch(api: RequestFunction, epoch: { value: number }): RequestFunction {
  const fetch = (...args: unknown[]): void => {
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      const sentIn = epoch.value;
      args[args.length - 1] = (error: unknown, response?: StaleFetchResponse) => {
        if (response && epoch.value !== sentIn) emptyFetch(response);
        callback(error, response);
      };
    }
    api(...args);
  };
  return Object.assign(fetch, { version: api.version, key: api.key, async: api.async });
}

/** The OffsetFetch request function (connection, groups, requireStable, callback) asked stable. */
function stableOffsetFetch(api: RequestFunction, options: StableOffsetOptions, epoch: { value: number }): RequestFunction {
  const fetch = (...args: unknown[]): void => {
    const callback = args.at(-1);
    if (typeof callback !== 'function' || args.length < 4) {
      api(...args);
      return;
    }
    const attempt = (n: number): void => {
      api(...args.slice(0, 2), true, (error: unknown, response?: OffsetFetchResponse) => {
        if (error && isUnstableOffsetCommit(error) && n < MAX_ATTEMPTS) {
          const waitMs = unstableWaitMs(n);
          options.waiting?.(n, waitMs);
          setTimeout(() => attempt(n + 1), waitMs);
          return;
        }
        if (!error && response) {
          fillMissingOffsets(response, options.firstPushed);
          epoch.value++;
        }
        callback(error, response);
      });
    };
    attempt(1);
  };
  return Object.assign(fetch, { version: api.version, key: api.key, async: api.async });
}
