/**
 * The snapshot progress a streamer persisted in its SQLite state file (table `snapshots`: one JSON
 * record per snapshot, docs/snapshots.md "Resuming"), read from a copy so that a killed streamer's
 * next start still recovers the file itself.
 */
import { readStateCopy } from '../streamer.ts';

/** What the tests read of one table's progress in a record. */
export interface StoredTableProgress {
  table: string;
  state: string;
  rowsDone: number;
  chunks: number;
  /** Text of the key columns of the last delivered row; null before the first chunk. */
  lastKey: string[] | null;
}

export interface StoredSnapshot {
  id: string;
  kind: string;
  state: string;
  tables: StoredTableProgress[];
}

/** Every snapshot record of `source` (empty when the file, the table or the row does not exist yet). */
export function readSnapshotRecords(stateFile: string, source: string): StoredSnapshot[] {
  return readStateCopy(stateFile, [], (db) => {
    const rows = db.query('SELECT body FROM snapshots WHERE source = ? ORDER BY rowid').all(source) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as StoredSnapshot);
  });
}

/** The initial snapshot's progress on its (only) table, or undefined when none is recorded yet. */
export function initialProgress(stateFile: string, source: string): (StoredTableProgress & { snapshotState: string }) | undefined {
  const initial = readSnapshotRecords(stateFile, source).find((r) => r.kind === 'initial');
  const table = initial?.tables[0];
  return initial === undefined || table === undefined ? undefined : { ...table, snapshotState: initial.state };
}
