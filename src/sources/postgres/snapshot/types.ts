/**
 * Snapshots and backfills as the rest of the program sees them (docs/snapshots.md): the modes of
 * the `snapshot` source key, a request for an ad-hoc backfill, the state and progress of one
 * snapshot, and the control surface the HTTP API and the `snapshot` command use. No logic here.
 */

/** The `snapshot` key of a PostgreSQL source. */
export type SnapshotMode = 'never' | 'initial' | 'initial_only';

/** An ad-hoc backfill (POST /sources/{source}/snapshots). */
export interface SnapshotRequest {
  /** `schema.table` or `table` (schema `public`), as the publication publishes them; at least one. */
  tables: string[];
  /** An SQL condition on the table's columns (`WHERE` without the keyword), or undefined for every row. */
  where?: string;
}

export type SnapshotState = 'pending' | 'running' | 'done' | 'cancelled' | 'failed';
export type TableState = 'pending' | 'running' | 'done' | 'cancelled' | 'failed';

export interface TableProgress {
  /** `schema.table`. */
  table: string;
  state: TableState;
  /** Rows delivered to every sink (a chunk counts once delivered). */
  rowsDone: number;
  /** pg_class.reltuples when the table was planned (0 when never analyzed: unknown). */
  rowsEstimated: number;
  /** Chunks delivered. */
  chunks: number;
  /** Why the table failed, when it did. */
  error?: string;
}

export interface SnapshotInfo {
  /** Unique within the source, e.g. `s-20261207-021700-3f2a`; `initial` for the initial snapshot. */
  id: string;
  source: string;
  kind: 'initial' | 'backfill';
  state: SnapshotState;
  where?: string;
  /** RFC 3339 UTC. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  tables: TableProgress[];
  /** Sums over the tables. */
  rowsDone: number;
  rowsEstimated: number;
  /** Rows per second over the last minute of work (0 before the first chunk). */
  rowsPerSecond: number;
  /** Seconds left at that rate, or null when unknown (no estimate, or no rate yet). */
  etaSeconds: number | null;
}

/** A request the snapshot service refuses: HTTP answers `status` with `message`. */
export class SnapshotRequestError extends Error {
  constructor(message: string, readonly status: 400 | 404 | 409) {
    super(message);
    this.name = 'SnapshotRequestError';
  }
}

/** What one PostgreSQL source offers to operators (HTTP, CLI, /status). */
export interface SnapshotControl {
  /** Every snapshot of the source, newest last (finished ones too, until the process restarts or they are pruned). */
  list(): SnapshotInfo[];
  /** One snapshot by id, or undefined. */
  get(id: string): SnapshotInfo | undefined;
  /** Queues a backfill; rejects with SnapshotRequestError (400 bad table/where, 404 not in the publication). */
  start(request: SnapshotRequest): Promise<SnapshotInfo>;
  /** Cancels a pending or running snapshot; undefined when there is no such id; a finished one is returned unchanged. */
  cancel(id: string): Promise<SnapshotInfo | undefined>;
}
