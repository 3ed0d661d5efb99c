/**
 * What the snapshot tests check on the delivered events, as they arrive and at the end: the shape
 * of every snapshot row, snapshot positions in order, event identities (a change delivered again
 * has the UUID and JSON but Timestamp of its first delivery, a row copied again by the one snapshot
 * its first UUID, no UUID names two things: docs/kafka.md, "Event identity (UUID)"), the
 * consumer's copy (replica.ts) against the table's final contents, and that every pre-filled row
 * was either copied or changed by the stream.
 */
import type postgres from 'postgres';
import { fingerprint } from '../crash/identity.ts';
import { parseEventLine, snapshotShapeProblems } from './events.ts';
import { compareRows, expectedRows, Replica } from './replica.ts';
import { COLUMNS, endMark, tableRows } from './table.ts';

/** Per run of the streamer (between kills): what it delivered of the snapshot. */
export interface RunSnapshot {
  snapshotRows: number;
  /** Key of its first snapshot row (undefined when it delivered none). */
  firstKey: number | undefined;
  lastKey: number | undefined;
}

export class SnapshotObserver {
  readonly replica: Replica;
  readonly problems: string[] = [];
  readonly runs: RunSnapshot[] = [];
  /** The snapshot row of the end mark arrived (keyset order: the copy is complete). */
  endSeen = false;
  /** Keys of stream events seen (to wait for a sentinel row). */
  private readonly streamKeys = new Set<number>();
  /** Per lane (a Kafka partition; one lane for a file): snapshot rows come in WAL order only within one. */
  private readonly lastSnapshotPosition = new Map<number, bigint>();
  private shapeProblems = 0;
  /** Change (`lsn #index`) or snapshot row (`row key`) → what its first delivery had: UUID, and for a change the JSON fingerprint. */
  private readonly firstDelivery = new Map<string, string>();
  /** UUID → the change or row it names. */
  private readonly uuidOwner = new Map<string, string>();
  private identityProblems = 0;
  /** Row key → what was delivered for it, in order (run/lane, kind, position), for the report of a differing row. */
  private readonly history = new Map<string, string[]>();

  /** `partitioned`: events are read from Kafka partitions (see Replica). */
  constructor(readonly table: string, readonly rows: number, partitioned = false) {
    this.replica = new Replica(table, COLUMNS, 'id', partitioned);
  }

  private problem(text: string): void {
    if (this.problems.length < 30) this.problems.push(text);
  }

  /**
   * One delivered event's JSON; `run` numbers the streamer's runs (0 without restarts); `lane` is
   * the Kafka partition it was read from (order holds within a partition only).
   */
  onEvent(text: string, run = 0, lane = 0): void {
    let event;
    try {
      event = parseEventLine(text);
    } catch (err) {
      this.problem(`run ${run}: unparsable event (${(err as Error).message}): ${text.slice(0, 200)}`);
      return;
    }
    if (event.table !== this.table) return;
    const key = Number(event.columns.get('id'));
    this.remember(event, run, lane);
    this.checkIdentity(event.snapshot ? `snapshot row ${key}` : `change ${event.commitLsn} #${event.txIndex}`,
      event.uuid, event.snapshot ? event.uuid : `${event.uuid} ${fingerprint(text)}`, run, event.snapshot || (event.commitLsn !== '' && event.txIndex !== ''));
    if (event.snapshot) {
      const shape = snapshotShapeProblems(event);
      if (shape.length > 0 && ++this.shapeProblems <= 3) this.problem(`run ${run}: snapshot row ${key}: ${shape.join('; ')}`);
      const position = BigInt(event.walPosition || '0');
      const last = this.lastSnapshotPosition.get(lane) ?? 0n;
      if (position < last) this.problem(`run ${run}: snapshot row ${key} has WALPosition ${position}, before the previous snapshot row's ${last}${lane === 0 ? '' : ` (partition ${lane})`}`);
      this.lastSnapshotPosition.set(lane, position);
      while (this.runs.length <= run) this.runs.push({ snapshotRows: 0, firstKey: undefined, lastKey: undefined });
      const r = this.runs[run]!;
      r.snapshotRows++;
      r.firstKey ??= key;
      r.lastKey = key;
      if (key === endMark(this.rows)) this.endSeen = true;
    } else {
      this.streamKeys.add(key);
    }
    try {
      this.replica.apply(event);
    } catch (err) {
      this.problem(`run ${run}: cannot apply ${text.slice(0, 200)}: ${(err as Error).message}`);
    }
  }

  /**
   * `what` (a change or a snapshot row) delivered with `uuid`: the same `first` as its first
   * delivery (a snapshot row copied again may carry newer values: only its UUID must match), and
   * the UUID named nothing else.
   */
  private checkIdentity(what: string, uuid: string, first: string, run: number, named: boolean): void {
    const problem = (text: string) => {
      if (++this.identityProblems <= 3) this.problem(`run ${run}: ${text}`);
    };
    if (!named) return problem(`${what}: no CommitLSN or TxIndex`);
    const seen = this.firstDelivery.get(what);
    if (seen === undefined) this.firstDelivery.set(what, first);
    else if (seen !== first) problem(`${what} delivered again with another UUID or other JSON (Timestamp aside) than the first time`);
    const owner = this.uuidOwner.get(uuid);
    if (owner === undefined) this.uuidOwner.set(uuid, what);
    else if (owner !== what) problem(`UUID ${uuid} of ${what} already named ${owner}`);
  }

  private remember(event: ReturnType<typeof parseEventLine>, run: number, lane: number): void {
    const at = event.snapshot ? `snapshot row @${event.walPosition}` : `${event.action} @${event.commitLsn}#${event.txIndex}`;
    const note = `${run}/${lane} ${at}`;
    const keys = new Set([event.columns.get('id'), event.old?.get('id')]);
    for (const key of keys) {
      if (key === undefined) continue;
      let list = this.history.get(key);
      if (list === undefined) this.history.set(key, (list = []));
      list.push(key === event.columns.get('id') ? note : `${note} (moved to ${event.columns.get('id')})`);
    }
  }

  /** A new run starts: the snapshot positions may begin again from an earlier chunk (a replay). */
  newRun(): void {
    this.lastSnapshotPosition.clear();
  }

  sawStreamKey(key: number): boolean {
    return this.streamKeys.has(key);
  }

  /**
   * The end checks: the copy equals the table row by row; every pre-filled row (even ids 2..2N and
   * the end mark) came as a snapshot row or was named by a stream event.
   */
  async finalProblems(sql: postgres.Sql): Promise<{ problems: string[]; differences: number; tableRows: number }> {
    const expected = expectedRows(COLUMNS, await tableRows(sql, this.table));
    const diff = compareRows(this.replica.rows, expected, COLUMNS);
    // Each differing row with what was delivered for it (run/partition, kind @position): the first thing to read in a failure.
    const problems = [...this.problems, ...diff.examples.map((text) => {
      const key = /^row (-?\d+):/.exec(text)?.[1];
      const history = key === undefined ? undefined : this.history.get(key);
      return history === undefined ? text : `${text} [delivered: ${history.slice(-12).join(', ')}]`;
    })];
    if (diff.count > diff.examples.length) problems.push(`... ${diff.count} differing rows in all`);
    const { snapshotIds, streamIds } = this.replica.stats;
    let uncovered = 0;
    for (let id = 2; id <= endMark(this.rows); id += 2) {
      const key = String(id);
      if (!snapshotIds.has(key) && !streamIds.has(key) && ++uncovered <= 5) problems.push(`pre-filled row ${id}: neither a snapshot row nor a stream event`);
    }
    if (uncovered > 5) problems.push(`... ${uncovered} pre-filled rows neither copied nor changed in all`);
    return { problems, differences: diff.count, tableRows: expected.size };
  }

  summary(): string {
    const s = this.replica.stats;
    return `${s.events} events of the table: ${s.snapshotRows} snapshot rows (${s.snapshotIds.size} distinct keys), ${s.streamEvents} stream events; ` +
      `${s.unchanged} Unchanged values (${s.unknownUnchanged} of rows not copied yet); ${this.replica.rows.size} rows in the copy`;
  }
}
