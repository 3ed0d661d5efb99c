/**
 * Durable positions per source (the original kept them in BoltDB; we use SQLite).
 * `setPosition` returns only after the write is committed to disk (synchronous=FULL).
 */
export interface StateStore {
  /** Last persisted position of a source, or undefined when it never persisted one. */
  getPosition(source: string): bigint | undefined;
  setPosition(source: string, position: bigint): void;
  close(): void;
}
