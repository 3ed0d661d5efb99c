/**
 * Snapshot unit tests' parts: SnapshotInfo values and an in-memory SnapshotControl (a test double
 * of our own interface, src/sources/postgres/snapshot/types.ts) that the HTTP routes, the metrics
 * and the `snapshot` command are tested against. It validates requests the way the engine promises
 * to (400 bad table name, 404 not published, 409 on demand) and lets the test move a snapshot on.
 */
import { SnapshotRequestError, type SnapshotControl, type SnapshotInfo, type SnapshotRequest, type TableProgress } from '../../src/sources/postgres/snapshot/types.ts';

/** A table's progress; running with an estimate of 1000 unless told. */
export function tableProgress(table: string, overrides: Partial<TableProgress> = {}): TableProgress {
  return { table, state: 'running', rowsDone: 0, rowsEstimated: 1000, chunks: 0, ...overrides };
}

/** A snapshot's info; the sums follow the tables unless given. */
export function snapshotInfo(overrides: Partial<SnapshotInfo> & { tables?: TableProgress[] } = {}): SnapshotInfo {
  const tables = overrides.tables ?? [tableProgress('public.orders')];
  return {
    id: 's-1',
    source: 'db1',
    kind: 'backfill',
    state: 'running',
    createdAt: '2026-12-07T02:00:00.000Z',
    startedAt: '2026-12-07T02:00:01.000Z',
    rowsDone: tables.reduce((sum, t) => sum + t.rowsDone, 0),
    rowsEstimated: tables.reduce((sum, t) => sum + t.rowsEstimated, 0),
    rowsPerSecond: 0,
    etaSeconds: null,
    ...overrides,
    tables,
  };
}

const NAME = /^(?:[a-z_][a-z0-9_$]*\.)?[a-z_][a-z0-9_$]*$/;

/** An in-memory SnapshotControl: `published` tables can be snapshotted; `advance` moves one on. */
export class MemorySnapshotControl implements SnapshotControl {
  readonly snapshots: SnapshotInfo[] = [];
  readonly requests: SnapshotRequest[] = [];
  /** When set, start() rejects with 409 and this message. */
  busy: string | undefined;
  private next = 1;

  constructor(readonly source: string, readonly published: readonly string[] = ['public.orders', 'public.items']) {}

  list(): SnapshotInfo[] {
    return this.snapshots.map((s) => structuredClone(s));
  }

  get(id: string): SnapshotInfo | undefined {
    const found = this.snapshots.find((s) => s.id === id);
    return found && structuredClone(found);
  }

  async start(request: SnapshotRequest): Promise<SnapshotInfo> {
    this.requests.push(request);
    if (this.busy !== undefined) throw new SnapshotRequestError(this.busy, 409);
    const tables = request.tables.map((name) => (name.includes('.') ? name : `public.${name}`));
    for (const table of tables) {
      if (!NAME.test(table)) throw new SnapshotRequestError(`"${table}" is not a table name (schema.table)`, 400);
      if (!this.published.includes(table)) throw new SnapshotRequestError(`table ${table} is not in the publication`, 404);
    }
    const info = snapshotInfo({
      id: `s-${this.next++}`,
      source: this.source,
      state: 'pending',
      startedAt: undefined,
      ...(request.where === undefined ? {} : { where: request.where }),
      tables: tables.map((t) => tableProgress(t, { state: 'pending' })),
    });
    this.snapshots.push(info);
    return structuredClone(info);
  }

  async cancel(id: string): Promise<SnapshotInfo | undefined> {
    const found = this.snapshots.find((s) => s.id === id);
    if (!found) return undefined;
    if (found.state === 'pending' || found.state === 'running') {
      found.state = 'cancelled';
      found.finishedAt = '2026-12-07T02:00:09.000Z';
      for (const t of found.tables) if (t.state === 'pending' || t.state === 'running') t.state = 'cancelled';
    }
    return structuredClone(found);
  }

  /** Replaces snapshot `id` with `change(current)` (a test moving it on). */
  update(id: string, change: (info: SnapshotInfo) => SnapshotInfo): void {
    const at = this.snapshots.findIndex((s) => s.id === id);
    if (at < 0) throw new Error(`no snapshot ${id}`);
    this.snapshots[at] = change(this.snapshots[at]!);
  }
}
