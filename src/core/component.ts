/**
 * What every source and sink exposes to operations (HTTP `/status`, `/stats`, `/debug`, ticker).
 * Mirrors the original's `Common` interface.
 */
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
  setDebug(on: boolean): void;
}
