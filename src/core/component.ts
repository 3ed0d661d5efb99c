/**
 * What every source and sink exposes to operations (HTTP `/status`, `/stats`, `/debug`, ticker).
 * Mirrors the original's `Common` interface, plus optional structured details for the status page
 * and `psql-streamer status` (docs/operations.md, "Status page and `status` command").
 */

/** Facts a component knows that its metrics do not carry; nothing secret (no password, no token). */
export interface ComponentDetails {
  /** Where it reads or writes, without credentials: `app@db1:5432/shop, slot s1`, a file path, brokers. */
  endpoint?: string;
  /** The last position delivered to every sink (and persisted), as text: an LSN, offsets. */
  delivered?: string;
}

export interface Component {
  /** Config name, case preserved (`db1` in `[source.db1]`). */
  readonly name: string;
  /** Type string used in logs, stats and metric labels: `Source-PSQL`, `Sink-Kafka`, `Sink-Stub`, ... */
  readonly type: string;
  /** One-line statistics, as in the original's `/stats` lines. */
  stats(): string;
  /** `null` when healthy, otherwise the reason it is not. */
  status(): string | null;
  /**
   * Optional: a degraded state while healthy (e.g. a WAL budget exceeded), or `null`. `/status`
   * prints `WARNING: <text>` instead of `OK` and still answers 200; `status()` decides health.
   */
  warning?(): string | null;
  /** Optional: facts `/status` appends to the line after `; ` (e.g. a source's lag), or `null`. */
  statusDetails?(): string | null;
  /** Optional: facts for the status page and the `status` command (the rest comes from the metrics). */
  details?(): ComponentDetails;
  setDebug(on: boolean): void;
}
