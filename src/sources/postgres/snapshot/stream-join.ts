/**
 * Where the stream meets the snapshot chunk in flight (docs/snapshots.md, "How a chunk joins the
 * stream"): the dispatch reports transactions, changes of the chunk's table and the positions it
 * passes; this hands them to the open window and emits the chunk's rows when the stream reached
 * its target. Also remembers the last transactions delivered, for the window's race check.
 */
import type { ChangeEvent } from '../../../event/event.ts';
import { rowKey, rowKeyBytes } from '../../../event/key.ts';
import type { Lsn } from '../../../replication/lsn.ts';
import { ChunkMark } from './mark.ts';
import { ChunkWindow } from './window.ts';

const RECENT = 64;
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

export class StreamJoin {
  /** The chunk window in flight, if any. */
  window: ChunkWindow | undefined;
  private mark: ChunkMark | undefined;
  private readonly recent = new Uint32Array(RECENT);
  private recentCount = 0;

  /** `emit` pushes the chunk's rows, then the mark, into the pipeline. */
  constructor(private readonly emit: (events: ChangeEvent[], mark: ChunkMark) => void) {}

  /**
   * Opens a window on a table; `runningXid` is the transaction the stream is in the middle of, if
   * any. Returns the window and the mark that follows its rows.
   */
  open(schema: string, table: string, runningXid: number | undefined): { window: ChunkWindow; mark: ChunkMark } {
    this.window?.close();
    const count = Math.min(this.recentCount, RECENT);
    const window = new ChunkWindow(schema, table, Array.from(this.recent.subarray(0, count)));
    if (runningXid !== undefined) window.begin(runningXid);
    const mark = new ChunkMark();
    this.window = window;
    this.mark = mark;
    return { window, mark };
  }

  /** A transaction begins; its commit record is at `commitLsn`. */
  begin(xid: number, commitLsn: Lsn): void {
    const window = this.window;
    if (window === undefined) return;
    if (window.due(commitLsn)) this.emitNow();
    else window.begin(xid);
  }

  /** A transaction was pushed whole; the next record starts at `endLsn`. */
  committed(xid: number, endLsn: Lsn): void {
    this.recent[this.recentCount++ % RECENT] = xid;
    if (this.window?.due(endLsn)) this.emitNow();
  }

  /** Between transactions, everything before `walEnd` was streamed (a keepalive). */
  idle(walEnd: Lsn): void {
    if (this.window?.due(walEnd)) this.emitNow();
  }

  /** A change of the stream (only called while a window is open). */
  row(event: ChangeEvent): void {
    const window = this.window!;
    if (event.table === window.table && event.schema === window.schema) window.change(changedKeys(event));
  }

  /** A truncate of the stream (only called while a window is open). */
  truncated(schema: string, table: string): void {
    const window = this.window!;
    if (table === window.table && schema === window.schema) window.truncate();
  }

  /** The session ended: the window in flight is given up (its runner reads the chunk again). */
  end(): void {
    this.window?.close();
    this.window = undefined;
    this.mark = undefined;
  }

  private emitNow(): void {
    const window = this.window!;
    const mark = this.mark!;
    this.window = undefined;
    this.mark = undefined;
    this.emit(window.take(), mark);
  }
}
