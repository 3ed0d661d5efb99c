/**
 * The PostgreSQL source's counters and position gauges (defined in metrics/catalogue.ts), one
 * method per thing that happened, so the source's modules name events rather than series.
 * Per-event counts and times are in event-metrics.ts (kept off prom-client on the hot path).
 */
import type { Metrics } from '../../metrics/catalogue.ts';
import type { Lsn } from '../../replication/lsn.ts';

export class PostgresSourceMetrics {
  private readonly labels: { sourceName: string };

  /** @param catalogue the program's metrics (handed to the source by the composition root) */
  constructor(readonly catalogue: Metrics, private readonly sourceName: string, private readonly sourceType: string) {
    this.labels = { sourceName };
    // Exposed from the start (at 0): increase() misses the first increment of a series it never saw.
    catalogue.replicationReconnects.inc(this.labels, 0);
    catalogue.sourceGapsAccepted.inc(this.labels, 0);
  }

  /** A message or lookup the source could not use (`source_errors`). */
  error(): void {
    this.catalogue.sourceErrors.inc({ sourceName: this.sourceName, sourceType: this.sourceType, table: '' });
  }

  /** A replication session failed and is retried. */
  reconnect(): void {
    this.catalogue.replicationReconnects.inc(this.labels);
  }

  /** `--accept-gap` let the source go on past a gap. */
  gapAccepted(): void {
    this.catalogue.sourceGapsAccepted.inc(this.labels);
  }

  /** The source refused to go on (the app exits with 3). */
  refused(reason: string): void {
    this.catalogue.sourceRefused.set({ sourceName: this.sourceName, reason }, 1);
  }

  /** A pgoutput message that is not an event (heartbeat, origin, unknown, not requested). */
  skipped(kind: string): void {
    this.catalogue.pgoutputSkipped.inc({ sourceName: this.sourceName, kind });
  }

  /** The WAL position gauges: received, persisted, confirmed and the lag between received and persisted. */
  positions(received: Lsn, persisted: Lsn, confirmed: Lsn): void {
    const labels = this.labels;
    this.catalogue.walReceivedLsn.set(labels, Number(received));
    this.catalogue.walPersistedLsn.set(labels, Number(persisted));
    this.catalogue.walConfirmedLsn.set(labels, Number(confirmed));
    this.catalogue.walLagBytes.set(labels, received > persisted ? Number(received - persisted) : 0);
  }
}
