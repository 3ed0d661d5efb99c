/**
 * Whether the Kafka source's fetching is healthy, once the brokers first answered (source.ts
 * status()): unhealthy while fetching has failed (or no group was joined) for `limit` (a rebalance
 * or a leader moving heals by itself), or while the brokers have not answered a fetch for that long
 * (a hung broker or connection: the request times out only after REQUEST_TIMEOUT_MS, consumer.ts).
 * Waiting for pipeline room is not a problem of the source. Pure.
 */

/** Fetches failing (or no group joined) for this long make the source unhealthy in /status. */
export const UNHEALTHY_AFTER_MS = 10_000;

/** What the source knows of its fetching, at `now` (ms). */
export interface FetchState {
  now: number;
  /** Unhealthy after this long (unhealthyAfterMs). */
  limit: number;
  /** Since when fetching has not worked (undefined: the last fetch worked), and why. */
  failingSince: number | undefined;
  failure: string;
  /** A fetch stream runs and is not paused for pipeline room: its fetches should be answered. */
  awaitingFetch: boolean;
  /** When the running stream last got an answer to a fetch (or started, or resumed). */
  lastFetchAt: number;
  brokers: readonly string[];
}

/** The problem /status shows, or null while fetching is healthy. */
export function fetchProblem(state: FetchState): string | null {
  const { now, limit, failingSince } = state;
  if (failingSince !== undefined) {
    if (now - failingSince < limit) return null;
    return `not fetching for ${((now - failingSince) / 1000).toFixed(0)} s: ${state.failure}`;
  }
  if (state.awaitingFetch && now - state.lastFetchAt >= limit) {
    return `no answer to a fetch from the brokers for ${((now - state.lastFetchAt) / 1000).toFixed(0)} s (${state.brokers.join(',')})`;
  }
  return null;
}
