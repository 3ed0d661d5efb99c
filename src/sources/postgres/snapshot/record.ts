/**
 * A snapshot's record: what is persisted in the state store after each delivered chunk (so a
 * restart resumes from the last one, docs/snapshots.md "Resuming"), and its public view
 * (SnapshotInfo) with rate and ETA. Pure.
 */
import type { SnapshotInfo, TableProgress, TableState } from './types.ts';

/** Bumped when the record's shape changes incompatibly. */
const RECORD_VERSION = 1;

export interface TableRecord {
  table: string;
  state: TableState;
  rowsDone: number;
  rowsEstimated: number;
  chunks: number;
  /** Text of the key columns of the last delivered row; null before the first chunk. */
  lastKey: string[] | null;
  error?: string;
  /**
   * Keys (text of the key columns) to read again before the table is done: rows the stream moved
   * to another key while the table was copied, leaving values Unchanged (runner.ts).
   */
  refetch?: string[][];
}

/** What is persisted of a snapshot: its public fields, without the derived sums and rates. */
export interface SnapshotRecord extends Pick<SnapshotInfo, 'id' | 'kind' | 'state' | 'where' | 'createdAt' | 'startedAt' | 'finishedAt' | 'error'> {
  /** false until the tables of an initial snapshot (every published table) were listed. */
  planned: boolean;
  tables: TableRecord[];
}

export function encodeRecord(record: SnapshotRecord): string {
  return JSON.stringify({ v: RECORD_VERSION, ...record });
}

const STATES = new Set(['pending', 'running', 'done', 'cancelled', 'failed']);

/** Parses a stored record; throws a plain Error saying what is wrong (the caller names the file). */
export function decodeRecord(id: string, body: string): SnapshotRecord {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error(`snapshot ${id}: not JSON`);
  }
  const r = value as Partial<SnapshotRecord> & { v?: unknown };
  if (typeof r !== 'object' || r === null || r.v !== RECORD_VERSION) throw new Error(`snapshot ${id}: unknown record version ${JSON.stringify(r?.v)}`);
  if (r.id !== id || (r.kind !== 'initial' && r.kind !== 'backfill') || !STATES.has(r.state as string) || !Array.isArray(r.tables)) {
    throw new Error(`snapshot ${id}: malformed record`);
  }
  for (const t of r.tables) {
    const ok = typeof t?.table === 'string' && STATES.has(t.state) && Number.isFinite(t.rowsDone) && Number.isFinite(t.chunks) &&
      (t.lastKey === null || (Array.isArray(t.lastKey) && t.lastKey.every((k: unknown) => typeof k === 'string')));
    if (!ok) throw new Error(`snapshot ${id}: malformed table entry ${JSON.stringify(t).slice(0, 120)}`);
  }
  const { v: _version, ...record } = r;
  return record as SnapshotRecord;
}

/** Rows delivered over time, for the rate over the last minute. */
export class RateWindow {
  private readonly samples: { at: number; rows: number }[] = [];

  constructor(private readonly spanMs = 60_000) {}

  add(at: number, rows: number): void {
    this.samples.push({ at, rows });
    while (this.samples.length > 1 && this.samples[0]!.at < at - this.spanMs) this.samples.shift();
  }

  /** Rows per second over the samples kept (0 with fewer than two, or none recent). */
  perSecond(now: number): number {
    const samples = this.samples;
    if (samples.length < 2 || now - samples[samples.length - 1]!.at > this.spanMs) return 0;
    const first = samples[0]!;
    const seconds = (now - first.at) / 1000;
    if (seconds <= 0) return 0;
    let rows = 0;
    for (let i = 1; i < samples.length; i++) rows += samples[i]!.rows;
    return rows / seconds;
  }
}

/** The public view of a record. */
export function snapshotInfo(source: string, record: SnapshotRecord, rowsPerSecond: number): SnapshotInfo {
  const tables: TableProgress[] = record.tables.map((t) => ({
    table: t.table, state: t.state, rowsDone: t.rowsDone, rowsEstimated: t.rowsEstimated, chunks: t.chunks, ...(t.error === undefined ? {} : { error: t.error }),
  }));
  let rowsDone = 0;
  let rowsEstimated = 0;
  let rowsLeft = 0;
  for (const t of record.tables) {
    rowsDone += t.rowsDone;
    rowsEstimated += t.rowsEstimated;
    if (t.state === 'pending' || t.state === 'running') rowsLeft += Math.max(0, t.rowsEstimated - t.rowsDone);
  }
  const active = record.state === 'pending' || record.state === 'running';
  const rate = active ? rowsPerSecond : 0;
  return {
    id: record.id,
    source,
    kind: record.kind,
    state: record.state,
    ...(record.where === undefined ? {} : { where: record.where }),
    createdAt: record.createdAt,
    ...(record.startedAt === undefined ? {} : { startedAt: record.startedAt }),
    ...(record.finishedAt === undefined ? {} : { finishedAt: record.finishedAt }),
    ...(record.error === undefined ? {} : { error: record.error }),
    tables,
    rowsDone,
    rowsEstimated,
    rowsPerSecond: Math.round(rate),
    etaSeconds: !active ? 0 : rate > 0 && rowsEstimated > 0 ? Math.ceil(rowsLeft / rate) : null,
  };
}
