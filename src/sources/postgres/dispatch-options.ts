/**
 * What the PostgreSQL source's dispatch (dispatch.ts) is built from and reads from: its names, the
 * connection for catalog lookups, the position tracker, the WAL watch, metrics and the session
 * callbacks; and the replication session as a reader it can pause.
 */
import type { Logger } from '../../core/logger.ts';
import type { ConnectOptions } from '../../pg/connection.ts';
import type { PositionTracker } from './position-tracker.ts';
import type { PostgresSourceMetrics } from './source-metrics.ts';
import type { WalWatch } from './wal-watch.ts';

/** What the dispatch reads from: the replication session (pausing stops reading the socket). */
export interface StreamReader {
  pause(): void;
  resume(): void;
}

export interface DispatchOptions {
  name: string;
  sourceType: string;
  eventHost: string;
  eventDatabase: string;
  /** For catalog lookups (catalog.ts). */
  connection: ConnectOptions;
  log: Logger;
  tracker: PositionTracker;
  wal: WalWatch;
  metrics: PostgresSourceMetrics;
  /** The server asked for a status update. */
  sendStatus(): void;
  /** A payload could not be used: close the session (`failure` says why). */
  closeSession(): void;
}
