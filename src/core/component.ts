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
  setDebug(on: boolean): void;
}
