/**
 * The snapshot metrics of one PostgreSQL source (src/metrics/catalogue.ts, docs/operations.md
 * "Metrics"), read from its SnapshotControl when the metrics are collected: nothing is counted on
 * the snapshot's own path. The counters grow by the difference since the last collection of each
 * snapshot's per-table rows and chunks (so two snapshots of one table add up, and a snapshot pruned
 * from the list takes nothing back); the gauges are recomputed from the snapshots not finished.
 */
import type { Metrics } from '../../../metrics/catalogue.ts';
import type { SnapshotControl, SnapshotInfo, TableProgress } from './types.ts';

const unfinished = (state: SnapshotInfo['state'] | TableProgress['state']) => state === 'pending' || state === 'running';

/** Counts seen at the last collection, per snapshot and table. */
interface Seen {
  rows: number;
  chunks: number;
  failed: boolean;
}

/** Updates the `snapshot_*` metrics of `source` from `control.list()` at each collection. */
export function registerSnapshotMetrics(metrics: Metrics, source: string, control: SnapshotControl): void {
  const seen = new Map<string, Map<string, Seen>>();
  const estimatedTables = new Set<string>();
  // Every per-source series exists from the start, so rate() and alerts have a first sample.
  metrics.snapshotRunning.set({ source }, 0);
  metrics.snapshotRowsPerSecond.set({ source }, 0);
  metrics.snapshotEtaSeconds.set({ source }, 0);
  metrics.snapshotFailedTables.inc({ source }, 0);

  metrics.onCollect(() => {
    const snapshots = control.list();
    const estimated = new Map<string, number>();
    let running = 0;
    let rate = 0;
    let eta = 0;
    let etaKnown = true;
    for (const info of snapshots) {
      const tables = seen.get(info.id) ?? new Map<string, Seen>();
      seen.set(info.id, tables);
      for (const table of info.tables) {
        const last = tables.get(table.table) ?? { rows: 0, chunks: 0, failed: false };
        const labels = { source, table: table.table };
        // A count that went back (not expected) is taken as the new base rather than subtracted.
        if (table.rowsDone > last.rows) metrics.snapshotRows.inc(labels, table.rowsDone - last.rows);
        else metrics.snapshotRows.inc(labels, 0);
        if (table.chunks > last.chunks) metrics.snapshotChunks.inc(labels, table.chunks - last.chunks);
        else metrics.snapshotChunks.inc(labels, 0);
        const failed = table.state === 'failed';
        if (failed && !last.failed) metrics.snapshotFailedTables.inc({ source });
        tables.set(table.table, { rows: table.rowsDone, chunks: table.chunks, failed: last.failed || failed });
        const expected = unfinished(info.state) && unfinished(table.state) ? Math.max(table.rowsEstimated, table.rowsDone) : 0;
        estimated.set(table.table, (estimated.get(table.table) ?? 0) + expected);
      }
      if (!unfinished(info.state)) continue;
      running++;
      rate += info.rowsPerSecond;
      if (info.etaSeconds === null) etaKnown = false;
      else eta = Math.max(eta, info.etaSeconds);
    }
    // Forget snapshots the control no longer lists.
    const ids = new Set(snapshots.map((s) => s.id));
    for (const id of seen.keys()) if (!ids.has(id)) seen.delete(id);
    // A table no snapshot copies any more goes back to 0 (its series stays).
    for (const table of estimatedTables) if (!estimated.has(table)) estimated.set(table, 0);
    for (const [table, rows] of estimated) {
      metrics.snapshotRowsEstimated.set({ source, table }, rows);
      estimatedTables.add(table);
    }
    metrics.snapshotRunning.set({ source }, running);
    metrics.snapshotRowsPerSecond.set({ source }, rate);
    metrics.snapshotEtaSeconds.set({ source }, running === 0 ? 0 : etaKnown ? eta : -1);
  });
}
