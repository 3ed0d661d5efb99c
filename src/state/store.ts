/**
 * Durable positions per source (the original kept them in BoltDB; we use SQLite), and beside each
 * the identity of the cluster it was read from, so a position is never used against another
 * cluster (docs/operations.md "Positions the server must agree with").
 */

/** The PostgreSQL cluster a source's position belongs to (IDENTIFY_SYSTEM's systemid and timeline). */
export interface ServerIdentity {
  systemId: string;
  timeline: number;
}

/** One snapshot's record: its id and the runner's JSON. */
export interface StoredSnapshotRecord {
  id: string;
  body: string;
}

export interface StateStore {
  /**
   * Last persisted position of a source, or undefined when it never persisted one. Throws a
   * non-retryable StreamerError('STATE_STORE') naming the file and the source when the stored value
   * is not a position.
   */
  getPosition(source: string): bigint | undefined;
  /**
   * Resolves once the position is on disk (survives a crash and a power loss); rejects with a
   * StreamerError('STATE_STORE') when it cannot be written. The event loop is not blocked meanwhile.
   * A position below the stored one leaves it unchanged: the stored position never goes back, even
   * when two instances share the file (a warm standby taking over, docs/operations.md).
   */
  setPosition(source: string, position: bigint): Promise<void>;
  /** The cluster a source's position was read from; undefined when not recorded (first start, or a v1 state file). */
  getServerIdentity(source: string): ServerIdentity | undefined;
  /** Records the cluster of a source (before its first position from that cluster is persisted). */
  setServerIdentity(source: string, identity: ServerIdentity): void;
  /**
   * The snapshot records of a source (docs/snapshots.md: progress of each snapshot, as JSON text
   * the snapshot runner wrote), in the order they were first saved.
   */
  getSnapshots(source: string): StoredSnapshotRecord[];
  /** Stores or replaces one snapshot record; resolves once it is on disk, as setPosition does. */
  saveSnapshot(source: string, id: string, body: string): Promise<void>;
  /** Forgets one snapshot record (old finished ones are pruned); false when there was none. */
  deleteSnapshot(source: string, id: string): boolean;
  /** Forgets a source's position and identity (`psql-streamer reset-position`); false when there was none. */
  resetSource(source: string): boolean;
  close(): void;
}
