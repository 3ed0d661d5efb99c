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
