/** Which version of a Kafka API to send: the highest both the brokers (ApiVersions) and our encoders speak. Pure. */

/** One API of the brokers' ApiVersions answer. */
export interface BrokerApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The highest of `ours` within the brokers' range for `apiKey`; undefined when none is (or the brokers lack the API). */
export function highestCommonVersion(apis: readonly BrokerApi[], apiKey: number, ours: Iterable<number>): number | undefined {
  const theirs = apis.find((api) => api.apiKey === apiKey);
  if (theirs === undefined) return undefined;
  let best: number | undefined;
  for (const v of ours) if (v >= theirs.minVersion && v <= theirs.maxVersion && (best === undefined || v > best)) best = v;
  return best;
}

/**
 * The highest version of `api` (request functions by version) the brokers speak too; throws naming
 * `what` when there is none (the exactly-once requests need Kafka 2.5 or later).
 */
export function commonVersionOf(apis: readonly BrokerApi[], api: { key: number; versions: Readonly<Record<number, unknown>> }, what: string): number {
  const ours = Object.keys(api.versions).map(Number);
  const version = highestCommonVersion(apis, api.key, ours);
  if (version === undefined) {
    throw new Error(`the brokers do not speak a version of ${what} this client has (${Math.min(...ours)}-${Math.max(...ours)}); exactly-once needs Kafka 2.5 or later`);
  }
  return version;
}
