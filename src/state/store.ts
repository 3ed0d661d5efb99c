/**
 * Durable positions per source (the original kept them in BoltDB; we use SQLite).
 */
export interface StateStore {
  /** Last persisted position of a source, or undefined when it never persisted one. */
  getPosition(source: string): bigint | undefined;
  /**
   * Resolves once the position is on disk (survives a crash and a power loss); rejects with a
   * StreamerError('STATE_STORE') when it cannot be written. The event loop is not blocked meanwhile.
   */
  setPosition(source: string, position: bigint): Promise<void>;
  close(): void;
}
