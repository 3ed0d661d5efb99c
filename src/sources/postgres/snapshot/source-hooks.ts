/**
 * What a source's snapshots need of it (SnapshotHooks: the stream's windows, event factory, types,
 * position and pipeline) and their settings (docs/snapshots.md); PostgresSource provides both to the
 * runner (runner.ts) and its table copies (table-copy.ts).
 */
import type { Logger } from '../../../core/logger.ts';
import type { ChangeEvent } from '../../../event/event.ts';
import type { ConnectOptions } from '../../../pg/options.ts';
import type { RelationInfo } from '../../../pgoutput/relations.ts';
import type { StateStore } from '../../../state/store.ts';
import type { EventFactory } from '../events.ts';
import type { ChunkMark } from './mark.ts';
import type { SnapshotMode } from './types.ts';
import type { ChunkWindow } from './window.ts';

/** What the runner needs of its source. */
export interface SnapshotHooks {
  /** Opens a chunk window in the stream (dispatch.ts openWindow). */
  openWindow(schema: string, table: string): { window: ChunkWindow; mark: ChunkMark };
  /** The stream's event factory: snapshot rows are converted by the same code. */
  readonly events: EventFactory;
  /** Looks up user-defined types before rows of them are converted. */
  learnTypes(typeOids: readonly number[]): Promise<void>;
  /** Reports key moves of a table that left values Unchanged (stream-join.ts watch); returns the unwatch. */
  watchMoves(schema: string, table: string, moved: (event: ChangeEvent) => void): () => void;
  /** The Relation the stream last sent for this OID, if any (a schema change shows there first). */
  streamRelation(relationId: number): RelationInfo | undefined;
  /** True while the replication session streams. */
  streaming(): boolean;
  /** Asks the server for a keepalive now (it says how far the stream got). */
  requestReply(): void;
  /** Bytes of WAL received but not yet delivered. */
  lagBytes(): number;
  /** Resolves when the pipeline has room. */
  drained(): Promise<void>;
  /** `initial_only`: the initial copy is done and delivered (false: some table failed); the app may stop. */
  finished?(ok: boolean): void;
}

export interface SnapshotSettings {
  source: string;
  /** e.g. "Source-PSQL (db1)". */
  component: string;
  mode: SnapshotMode;
  connection: ConnectOptions;
  publications: readonly string[];
  chunkRows: number;
  chunkBytes: number;
  maxLagBytes: number;
  store: StateStore;
  log: Logger;
}
