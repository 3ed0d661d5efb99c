/**
 * Where the stream meets the snapshot chunk in flight (docs/snapshots.md, "How a chunk joins the
 * stream"): the dispatch reports transactions, changes of the chunk's table and the positions it
 * passes; this hands them to the open window and emits the chunk's rows when the stream reached
 * its target. Also remembers the transactions delivered, for the window's race check (delivered-xids.ts).
 */
import type { ChangeEvent } from '../../../event/event.ts';
import { rowKey, rowKeyBytes } from '../../../event/key.ts';
import type { Lsn } from '../../../replication/lsn.ts';
import { DeliveredXids } from './delivered-xids.ts';
import { ChunkMark } from './mark.ts';
import { visibleIn } from './pg-snapshot.ts';
import { ChunkWindow } from './window.ts';

const utf8 = new TextDecoder();

/** The row key an event is matched on (the same bytes as its Kafka row key). */
export function rowKeyText(event: ChangeEvent): string {
  return utf8.decode(rowKeyBytes(event));
}

/** Keys a change touches: its row key, and the old row's when an update changed the key. */
function changedKeys(event: ChangeEvent): string[] {
  const key = rowKeyText(event);
  if (event.action !== 'update' || event.old === undefined) return [key];
  const old = rowKey({ action: 'update', schema: event.schema, table: event.table, key: event.key, columns: event.old } as ChangeEvent);
  return old === key ? [key] : [key, old];
}

interface Pending {
  window: ChunkWindow;
  mark: ChunkMark;
}

export class StreamJoin {
  /** True while any chunk window is open. */
  active = false;
  /** True while a window is open or a table is watched: the dispatch then reports changes (row, truncated). */
  busy = false;
  /** Tables a snapshot is copying (`schema\0table`): key moves that left Unchanged values are reported. */
  private readonly watched = new Map<string, Set<(event: ChangeEvent) => void>>();
  /** Open windows in the order their chunks were read (a runner may read the next chunk while one waits). */
  private readonly pending: Pending[] = [];
  private readonly delivered = new DeliveredXids();

  /** `emit` pushes the chunk's rows, then the mark, into the pipeline. */
  constructor(private readonly emit: (events: ChangeEvent[], mark: ChunkMark) => void) {}

  /**
   * Opens a window on a table; `runningXid` is the transaction the stream is in the middle of, if
   * any. Returns the window and the mark that follows its rows. Windows go out in opening order.
   */
  open(schema: string, table: string, runningXid: number | undefined): Pending {
    const delivered = this.delivered;
    const before = delivered.mark();
    // The running transaction's changes before this point are not noted: like a transaction
    // delivered before, it must be visible in the chunk's snapshot, or the chunk is read again
    // (its commit was decoded before the server showed it committed; seen under heavy load).
    const window = new ChunkWindow(schema, table, (snapshot) =>
      delivered.unseenBefore(before, snapshot) || (runningXid !== undefined && !visibleIn(snapshot, runningXid)), rowKeyText);
    if (runningXid !== undefined) window.begin(runningXid);
    const entry = { window, mark: new ChunkMark() };
    this.pending.push(entry);
    this.active = true;
    this.busy = true;
    void window.ended.then(() => this.forget(entry));
    return entry;
  }

  /** A transaction begins; its commit record is at `commitLsn`. */
  begin(xid: number, commitLsn: Lsn): void {
    if (!this.active) return;
    this.emitDue(commitLsn);
    for (const { window } of this.pending) window.begin(xid);
  }

  /** A transaction was pushed whole; the next record starts at `endLsn`. */
  committed(xid: number, endLsn: Lsn): void {
    this.delivered.add(xid);
    if (this.active) this.emitDue(endLsn);
  }

  /** Between transactions, everything before `walEnd` was streamed (a keepalive). */
  idle(walEnd: Lsn): void {
    if (this.active) this.emitDue(walEnd);
  }

  /** A change of the stream (only called while a window is open). */
  row(event: ChangeEvent): void {
    let keys: string[] | undefined;
    for (const { window } of this.pending) {
      if (event.table !== window.table || event.schema !== window.schema) continue;
      keys ??= changedKeys(event);
      // An update listing Unchanged TOAST values is merged into the chunk's row (window.ts), not dropping it.
      const patch = event.action === 'update' && keys.length === 1 && (event.unchanged?.length ?? 0) > 0 ? event : undefined;
      window.change(keys, patch);
    }
    if (this.watched.size === 0 || event.action !== 'update' || event.old === undefined || (event.unchanged?.length ?? 0) === 0) return;
    const listeners = this.watched.get(event.schema + '\0' + event.table);
    if (listeners !== undefined && (keys ?? changedKeys(event)).length === 2) for (const moved of listeners) moved(event);
  }

  /**
   * While a snapshot copies `schema.table`: `moved` hears of every update that moved a row to
   * another key and left values Unchanged (a consumer that never had the row cannot fill them in;
   * runner.ts reads the row again). Returns the function that ends the watch.
   */
  watch(schema: string, table: string, moved: (event: ChangeEvent) => void): () => void {
    const name = schema + '\0' + table;
    let listeners = this.watched.get(name);
    if (listeners === undefined) this.watched.set(name, (listeners = new Set()));
    // Two snapshots of one table (an initial one and a backfill) each hear every move.
    listeners.add(moved);
    this.busy = true;
    return () => {
      listeners.delete(moved);
      if (listeners.size === 0 && this.watched.get(name) === listeners) this.watched.delete(name);
      this.busy = this.active || this.watched.size > 0;
    };
  }

  /** A truncate of the stream (only called while a window is open). */
  truncated(schema: string, table: string): void {
    for (const { window } of this.pending) if (table === window.table && schema === window.schema) window.truncate();
  }

  /** The session ended: the windows in flight are given up (their runner reads the chunks again). */
  end(): void {
    for (const { window } of this.pending.splice(0)) window.close();
    this.active = false;
    this.busy = this.watched.size > 0;
  }

  /** Emits, in order, every window the stream at `position` has passed; stops at the first that is not due. */
  private emitDue(position: Lsn): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      if (!head.window.due(position)) return;
      this.pending.shift();
      this.active = this.pending.length > 0;
      this.busy = this.active || this.watched.size > 0;
      this.emit(head.window.take(), head.mark);
    }
  }

  private forget(entry: Pending): void {
    const at = this.pending.indexOf(entry);
    if (at >= 0) this.pending.splice(at, 1);
    this.active = this.pending.length > 0;
    this.busy = this.active || this.watched.size > 0;
  }
}
