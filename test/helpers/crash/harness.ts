/**
 * Crash-safety harness shared by crash.test.ts and scripts/soak-crash: runs psql-streamer as a
 * child process (PostgreSQL source → file sink, SQLite state), kills it with SIGKILL at random
 * moments while a writer commits transactions, restarts it, and checks the delivery contract of
 * docs/delivery.md on the file it wrote:
 *
 * - every committed (row id, version) is in the file at least once (nothing lost);
 * - per row, the first occurrences of its versions are in commit order (replays may repeat);
 * - every transaction arrives whole (all its changes, under one CommitLSN), CommitLSNs follow the
 *   writer's commit order, events of one run are in commit order, and after a crash only
 *   transactions after the persisted position are replayed (duplicates only for what was in flight);
 * - at every kill, the persisted position (state file) never runs ahead of the file, and the slot's
 *   confirmed_flush_lsn never runs ahead of the persisted position (persist first, then confirm);
 * - no start refuses (exit code 3, docs/operations.md "Positions the server must agree with"): after
 *   a kill -9 the slot is at or behind the saved position, never ahead of it.
 *
 * Each run's output is a segment of the file (its byte range is known from the file size at each
 * kill), so a line torn by the kill is recognised as such and not mistaken for corruption.
 */
import { Database } from 'bun:sqlite';
import { copyFileSync, existsSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { dropSlot, pgClient, uniqueName, type PgServer } from '../pg.ts';
import { startStreamer, waitFor, type StreamerProcess } from '../streamer.ts';

const SOURCE = 'crash';

/** One event line of the file sink, reduced to what the checks need. */
export interface SeenEvent {
  id: number;
  version: number;
  /** The writer's transaction number (1, 2, ...: commit order, since the writer is sequential). */
  txn: number;
  commitLsn: bigint;
  segment: number;
}

export interface CrashCycle {
  /** 'streaming': killed a random time after it logged "Streaming from"; 'startup': counted from spawn. */
  phase: 'streaming' | 'startup';
  runMs: number;
  /** The streamer had exited by itself before the kill (a bug: its log is in problems). */
  diedEarly: boolean;
  /** File size after the process was gone: the end of this run's segment. */
  fileSize: number;
  /** Position in the state file after the kill (0 when none yet). */
  persisted: bigint;
  /** The slot's confirmed_flush_lsn after the kill. */
  confirmed: bigint;
  /** What this run's start check logged: the slot's distance behind the saved position (0 when at it or not reached). */
  slotBehind: bigint;
  /** The run logged "Refusing to stream" (a false refusal: a kill -9 must never cause one). */
  refused: boolean;
}

export interface CrashOptions {
  server: PgServer;
  /** Temp dir for config, state and output files. */
  dir: string;
  /** Number of start → run → SIGKILL cycles before the final run. */
  cycles: number;
  minRunMs?: number;
  maxRunMs?: number;
  /** Share of cycles killed a random time after spawn (often during startup) instead of after streaming began. */
  startupKillShare?: number;
  /** Row changes per transaction (inserts and updates); every transaction has exactly this many events. */
  changesPerTxn?: number;
  /** Probability that a change inserts a new row rather than updating an existing one. */
  insertShare?: number;
  /** Pause of the writer between transactions (0 = as fast as it can). */
  writerPauseMs?: number;
  /** Every this many transactions, one large transaction inserting bigTxnRows rows (0 = never). */
  bigTxnEvery?: number;
  bigTxnRows?: number;
  batchSize?: number;
  batchFlushInterval?: string;
  catchUpTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface CrashReport {
  cycles: CrashCycle[];
  transactions: number;
  /** Committed row versions (one per insert or update). */
  committedChanges: number;
  bigTransactions: number;
  rows: number;
  eventsInFile: number;
  distinctEvents: number;
  duplicates: number;
  /** Lines cut short by a kill (their events were replayed by the next run). */
  tornLines: number;
  /** Time from the final start until every committed change was in the file. */
  catchUpMs: number;
  /** Runs (the final one included) whose start check refused to stream. */
  refusals: number;
  finalExitCode: number;
  /** Everything that broke the contract; empty when the run passed. */
  problems: string[];
  totalMs: number;
}

const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/**
 * Commits transactions of inserts and updates and remembers what was committed (only once COMMIT
 * returned). Every row carries its version and the number of the transaction that wrote it.
 */
class Writer {
  /** Row id → highest committed version; versions of a row are 1..max, committed in that order. */
  readonly committed = new Map<number, number>();
  /** Transaction number → its number of row changes (index 0 unused). */
  readonly sizes: number[] = [0];
  private readonly ids: number[] = [];
  private nextId = 1;
  changes = 0;
  bigTransactions = 0;
  error: unknown;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly sql: postgres.Sql,
    private readonly table: string,
    private readonly options: { changesPerTxn: number; insertShare: number; pauseMs: number; bigTxnEvery: number; bigTxnRows: number },
  ) {}

  get transactions(): number {
    return this.sizes.length - 1;
  }

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    if (this.error !== undefined) throw this.error;
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped) {
        const txn = this.sizes.length;
        const { bigTxnEvery } = this.options;
        if (bigTxnEvery > 0 && txn % bigTxnEvery === 0) await this.bigTransaction(txn);
        else await this.transaction(txn);
        if (this.options.pauseMs > 0) await Bun.sleep(this.options.pauseMs);
      }
    } catch (err) {
      this.error = err;
    }
  }

  private async transaction(txn: number): Promise<void> {
    const pending = new Map<number, number>();
    const fresh: number[] = [];
    const table = this.table;
    await this.sql.begin(async (tx) => {
      for (let i = 0; i < this.options.changesPerTxn; i++) {
        const candidates = this.ids.length + fresh.length;
        const payload = 'p'.repeat(randomBetween(1, 120));
        if (candidates === 0 || Math.random() < this.options.insertShare) {
          const id = this.nextId++;
          await tx`insert into ${tx(table)} (id, version, txn, payload) values (${id}, 1, ${txn}, ${payload})`;
          pending.set(id, 1);
          fresh.push(id);
        } else {
          // Also rows inserted or updated earlier in this transaction: several versions in one commit.
          const pick = Math.floor(Math.random() * candidates);
          const id = (pick < this.ids.length ? this.ids[pick] : fresh[pick - this.ids.length]) as number;
          const version = (pending.get(id) ?? this.committed.get(id) ?? 0) + 1;
          await tx`update ${tx(table)} set version = ${version}, txn = ${txn}, payload = ${payload} where id = ${id}`;
          pending.set(id, version);
        }
      }
    });
    this.committed_(txn, pending, fresh, this.options.changesPerTxn);
  }

  private async bigTransaction(txn: number): Promise<void> {
    const rows = this.options.bigTxnRows;
    const first = this.nextId;
    this.nextId += rows;
    await this.sql.unsafe(
      `insert into ${this.table} (id, version, txn, payload) select g, 1, ${txn}, repeat('b', 100) from generate_series(${first}, ${first + rows - 1}) g`,
    );
    const pending = new Map<number, number>();
    const fresh: number[] = [];
    for (let id = first; id < first + rows; id++) {
      pending.set(id, 1);
      fresh.push(id);
    }
    this.committed_(txn, pending, fresh, rows);
    this.bigTransactions++;
  }

  /** COMMIT returned: only now are these versions promised to be delivered. */
  private committed_(txn: number, pending: Map<number, number>, fresh: number[], changes: number): void {
    for (const [id, version] of pending) this.committed.set(id, version);
    for (const id of fresh) this.ids.push(id);
    this.sizes.push(changes);
    if (this.sizes.length - 1 !== txn) throw new Error(`writer: transaction ${txn} recorded out of order`);
    this.changes += changes;
  }
}

/** Reads bytes [from, to) of a file. */
function readRange(path: string, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(Math.max(0, to - from));
  if (to <= from) return buffer;
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < buffer.length) {
      const n = readSync(fd, buffer, done, buffer.length - done, from + done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

const CHUNK = 16 * 1024 * 1024;

/**
 * Calls `onLine` for every complete line in bytes [from, to) of a file, reading it in chunks (the
 * soak's file grows past a gigabyte). Returns the bytes after the last newline: a line the range
 * cuts short (empty when the range ends with a newline).
 */
function forEachLine(path: string, from: number, to: number, onLine: (line: string) => void): Buffer {
  let carry: Buffer = Buffer.alloc(0);
  for (let at = from; at < to; at += CHUNK) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, readRange(path, at, Math.min(to, at + CHUNK))]) : readRange(path, at, Math.min(to, at + CHUNK));
    const end = bytes.lastIndexOf(10);
    if (end < 0) {
      carry = bytes;
      continue;
    }
    const text = bytes.toString('utf8', 0, end);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
      if (line !== '') onLine(line);
      if (nl < 0) break;
      start = nl + 1;
    }
    carry = bytes.subarray(end + 1);
  }
  return carry;
}

export const fileSize = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

/** One line of the file sink as an event of the crash table; undefined when it is not valid JSON of one. */
export function parseLine(line: string, segment: number): SeenEvent | undefined {
  try {
    const parsed = JSON.parse(line) as { Columns: { id: number; version: number; txn: number } };
    // CommitLSN is an exact integer in the JSON; re-read it as text so a large LSN keeps every digit.
    const commitLsn = BigInt(/"CommitLSN":(\d+)/.exec(line)?.[1] ?? '-1');
    return { id: parsed.Columns.id, version: parsed.Columns.version, txn: parsed.Columns.txn, commitLsn, segment };
  } catch {
    return undefined;
  }
}

/** Complete lines of one run's output; a last line without newline was cut by the kill. */
export function parseSegment(bytes: Buffer, segment: number): { events: SeenEvent[]; torn: number; bad: string[] } {
  const lines = bytes.toString('utf8').split('\n');
  const tail = lines.pop() ?? '';
  const events: SeenEvent[] = [];
  const bad: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const event = parseLine(line, segment);
    if (event === undefined) bad.push(line.slice(0, 200));
    else events.push(event);
  }
  return { events, torn: tail === '' ? 0 : 1, bad };
}

/** The persisted position, read from a copy of the state file so the next start still recovers it itself. */
export function readPersisted(stateFile: string, source = SOURCE): bigint {
  if (!existsSync(stateFile)) return 0n;
  const scratch = mkdtempSync(join(stateFile, '..', 'state-copy-'));
  try {
    const copy = join(scratch, 'state.db');
    copyFileSync(stateFile, copy);
    if (existsSync(`${stateFile}-wal`)) copyFileSync(`${stateFile}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      const row = db.query('SELECT position FROM positions WHERE source = ?').get(source) as { position: string } | null;
      return BigInt(row?.position ?? 0);
    } catch {
      return 0n; // not created yet (killed during its first start)
    } finally {
      db.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function slotConfirmed(sql: postgres.Sql, slot: string): Promise<bigint> {
  const [row] = await sql<{ lsn: string | null }[]>`
    select (confirmed_flush_lsn - '0/0')::text as lsn from pg_replication_slots where slot_name = ${slot}`;
  return BigInt(row?.lsn ?? 0);
}

/** Creates table, publication and slot (before any data, so everything committed later is in the slot). */
export async function createStream(sql: postgres.Sql, prefix: string, columns: string): Promise<{ table: string; publication: string; slot: string; slotStart: bigint }> {
  const table = uniqueName(`${prefix}_t`);
  const publication = uniqueName(`${prefix}_pub`);
  const slot = uniqueName(`${prefix}_slot`);
  await sql.unsafe(`create table ${table} (${columns})`);
  await sql.unsafe(`create publication ${publication} for table ${table}`);
  const [row] = await sql<{ lsn: string }[]>`
    select (lsn - '0/0')::text as lsn from pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
  return { table, publication, slot, slotStart: BigInt(row?.lsn ?? 0) };
}

export function streamerConfig(options: {
  server: PgServer;
  stateFile: string;
  outFile: string;
  publication: string;
  slot: string;
  batchSize: number;
  batchFlushInterval: string;
}): string {
  const { server } = options;
  return `
http = "127.0.0.1:0"
boltdb = "${options.stateFile}"
shutdownTimeout = "20s"

[source.${SOURCE}]
type = "postgres"
dsn = "host=${server.host} port=${server.port} dbname=${server.database} user=${server.user}"
publication = "${options.publication}"
replicationSlot = "${options.slot}"
startRetryInterval = "100ms"
statusInterval = "1s"
batchSize = ${options.batchSize}
batchFlushInterval = "${options.batchFlushInterval}"

[sink.out]
type = "file"
sources = ["${SOURCE}"]
path = "${options.outFile}"
`;
}

/** What a run's start check said (see CrashCycle.slotBehind and .refused). */
export function startCheckOutcome(stderr: string): { slotBehind: bigint; refused: boolean } {
  const behind = /is (\d+) bytes behind the resume position/.exec(stderr)?.[1];
  return { slotBehind: BigInt(behind ?? 0), refused: stderr.includes('Refusing to stream') };
}

/** SIGKILL and wait until the process is gone. */
async function kill9(streamer: StreamerProcess): Promise<void> {
  streamer.proc.kill('SIGKILL');
  await streamer.exited;
}

/**
 * The crash run: `cycles` × (start, run a random 150–800 ms while the writer commits, SIGKILL),
 * then the writer stops, a last start must deliver everything and exit 0 on SIGTERM.
 */
export async function runCrashCycles(options: CrashOptions): Promise<CrashReport> {
  const began = performance.now();
  const minRunMs = options.minRunMs ?? 150;
  const maxRunMs = options.maxRunMs ?? 800;
  const startupKillShare = options.startupKillShare ?? 0.2;
  const changesPerTxn = options.changesPerTxn ?? 5;
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };

  const sql = pgClient(options.server, { max: 2 });
  const stateFile = join(options.dir, 'state.db');
  const outFile = join(options.dir, 'out.jsonl');
  let slot: string | undefined;
  try {
    const stream = await createStream(sql, 'crash', 'id int primary key, version int not null, txn int not null, payload text');
    slot = stream.slot;
    const config = streamerConfig({
      server: options.server,
      stateFile,
      outFile,
      publication: stream.publication,
      slot: stream.slot,
      batchSize: options.batchSize ?? 100,
      batchFlushInterval: options.batchFlushInterval ?? '20ms',
    });
    const writer = new Writer(sql, stream.table, {
      changesPerTxn,
      insertShare: options.insertShare ?? 0.3,
      pauseMs: options.writerPauseMs ?? 0,
      bigTxnEvery: options.bigTxnEvery ?? 0,
      bigTxnRows: options.bigTxnRows ?? 5000,
    });
    writer.start();

    const cycles: CrashCycle[] = [];
    for (let i = 0; i < options.cycles; i++) {
      const phase = Math.random() < startupKillShare ? 'startup' : 'streaming';
      const runMs = randomBetween(minRunMs, maxRunMs);
      const streamer = startStreamer(options.dir, config, `run-${i}`);
      let diedEarly = false;
      try {
        if (phase === 'streaming') await streamer.waitForLog('Streaming from', 30_000);
        await Promise.race([Bun.sleep(runMs), streamer.exited]);
        diedEarly = streamer.proc.exitCode !== null || streamer.proc.signalCode !== null;
      } catch (err) {
        diedEarly = streamer.proc.exitCode !== null;
        if (!diedEarly) problem(`cycle ${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (diedEarly) problem(`cycle ${i}: the streamer exited by itself (code ${streamer.proc.exitCode}) before the kill:\n${streamer.stderr()}`);
      await kill9(streamer);
      if (writer.error !== undefined) throw writer.error;
      const cycle: CrashCycle = {
        phase,
        runMs,
        diedEarly,
        fileSize: fileSize(outFile),
        persisted: readPersisted(stateFile),
        confirmed: await slotConfirmed(sql, stream.slot),
        ...startCheckOutcome(streamer.stderr()),
      };
      cycles.push(cycle);
      if (cycle.refused) problem(`cycle ${i}: the start check refused after a kill -9 (a false refusal):\n${streamer.stderr()}`);
      log(`cycle ${i + 1}/${options.cycles}: killed ${cycle.phase === 'streaming' ? `${runMs} ms after streaming began` : `${runMs} ms after spawn`}; ` +
        `file ${cycle.fileSize} bytes, persisted ${cycle.persisted}, confirmed ${cycle.confirmed}` +
        `${cycle.slotBehind > 0n ? ` (started with the slot ${cycle.slotBehind} bytes behind)` : ''}${cycle.refused ? ', REFUSED' : ''}; writer ${writer.transactions} txns`);
    }

    await writer.stop();
    log(`writer stopped: ${writer.transactions} transactions, ${writer.changes} changes, ${writer.committed.size} rows`);

    // The final run: everything committed must arrive; then a graceful stop.
    const finalStart = performance.now();
    const streamer = startStreamer(options.dir, config, 'final');
    const remaining = new Map(writer.committed);
    let offset = 0;
    const absorb = () => {
      const size = Math.min(fileSize(outFile), offset + CHUNK);
      if (size <= offset) return;
      const tail = forEachLine(outFile, offset, size, (line) => {
        const event = parseLine(line, -1);
        // Versions of a row arrive in order, so the highest one tells how far it got (the full check follows).
        if (event !== undefined && remaining.get(event.id) === event.version) remaining.delete(event.id);
      });
      offset = size - tail.length;
    };
    try {
      await waitFor('every committed change in the file', () => {
        absorb();
        return remaining.size === 0 || streamer.proc.exitCode !== null;
      }, options.catchUpTimeoutMs ?? 30_000, () => `${remaining.size} rows incomplete\n${streamer.stderr()}`);
    } catch (err) {
      problem(err instanceof Error ? err.message : String(err));
    }
    const catchUpMs = performance.now() - finalStart;
    streamer.proc.kill('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finalExitCode = await Promise.race([streamer.exited, new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 25_000)))]);
    clearTimeout(timer);
    if (finalExitCode === -1) await kill9(streamer);
    if (finalExitCode !== 0) problem(`final run: exit code ${finalExitCode} after SIGTERM (expected 0)\n${streamer.stderr()}`);
    const finalRefused = startCheckOutcome(streamer.stderr()).refused;
    if (finalRefused) problem(`final run: the start check refused after the kills (a false refusal):\n${streamer.stderr()}`);

    const analysis = analyse({
      outFile,
      cycles,
      committed: writer.committed,
      sizes: writer.sizes,
      slotStart: stream.slotStart,
      problem,
    });
    return {
      cycles,
      transactions: writer.transactions,
      committedChanges: writer.changes,
      bigTransactions: writer.bigTransactions,
      rows: writer.committed.size,
      ...analysis,
      catchUpMs,
      refusals: cycles.filter((c) => c.refused).length + (finalRefused ? 1 : 0),
      finalExitCode,
      problems,
      totalMs: performance.now() - began,
    };
  } finally {
    if (slot !== undefined) await dropSlot(sql, slot).catch(() => {});
    await sql.end({ timeout: 5 });
  }
}

/**
 * Checks the file against what was committed, one run's segment at a time (the soak's file holds
 * millions of events: nothing is kept per event, only per row and per transaction).
 */
function analyse(input: {
  outFile: string;
  cycles: CrashCycle[];
  committed: Map<number, number>;
  /** Transaction number → number of changes. */
  sizes: readonly number[];
  slotStart: bigint;
  problem: (text: string) => void;
}): { eventsInFile: number; distinctEvents: number; duplicates: number; tornLines: number } {
  const { cycles, committed, sizes, problem } = input;
  const txns = sizes.length;
  /** Row id → its versions in order of first appearance. */
  const versionsById = new Map<number, number[]>();
  /** Per transaction: distinct changes seen so far, and its CommitLSN (-1 = none seen). */
  const txnSeen = new Int32Array(txns);
  const txnLsn: bigint[] = new Array<bigint>(txns).fill(-1n);
  /** Transactions seen but not yet complete. */
  const incomplete = new Set<number>();
  let eventsInFile = 0;
  let distinctEvents = 0;
  let tornLines = 0;
  let outOfOrder = 0;
  let previousPersisted = 0n;
  let from = 0;
  const ends = [...cycles.map((c) => c.fileSize), fileSize(input.outFile)];

  ends.forEach((to, segment) => {
    let lastTxn = 0;
    let replayed = 0;
    let bad = 0;
    const tail = forEachLine(input.outFile, from, to, (line) => {
      const e = parseLine(line, segment);
      if (e === undefined) {
        if (++bad <= 3) problem(`run ${segment}: unparsable complete line: ${line.slice(0, 200)}`);
        return;
      }
      eventsInFile++;
      // Per run, in commit order; after a crash nothing before the persisted position again.
      if (e.txn < lastTxn) problem(`run ${segment}: transaction ${e.txn} after ${lastTxn} (not in commit order)`);
      lastTxn = e.txn;
      if (e.commitLsn < previousPersisted && ++replayed <= 3) {
        problem(`run ${segment}: replayed transaction ${e.txn} (CommitLSN ${e.commitLsn}) although position ${previousPersisted} was persisted before the crash`);
      }
      if (!(e.txn >= 1 && e.txn < txns)) {
        problem(`transaction ${e.txn} is in the file but was never committed`);
        return;
      }
      // One CommitLSN per transaction.
      const lsn = txnLsn[e.txn] as bigint;
      if (lsn === -1n) txnLsn[e.txn] = e.commitLsn;
      else if (lsn !== e.commitLsn) problem(`transaction ${e.txn}: events with CommitLSN ${lsn} and ${e.commitLsn}`);
      // Per row: first occurrences in commit order, only committed versions.
      let versions = versionsById.get(e.id);
      if (versions === undefined) versionsById.set(e.id, (versions = []));
      if (versions.includes(e.version)) return; // a replay
      const last = versions.at(-1) ?? 0;
      if (e.version <= last && ++outOfOrder <= 5) problem(`row ${e.id}: version ${e.version} first appears after version ${last} (not in commit order)`);
      const max = committed.get(e.id);
      if (max === undefined || e.version < 1 || e.version > max) problem(`row ${e.id}: version ${e.version} was never committed (committed 1..${max ?? 0})`);
      versions.push(e.version);
      distinctEvents++;
      txnSeen[e.txn]!++;
      if (txnSeen[e.txn] === sizes[e.txn]) incomplete.delete(e.txn);
      else incomplete.add(e.txn);
    });
    if (bad > 3) problem(`run ${segment}: ${bad} unparsable lines in all`);
    if (tail.length > 0) {
      tornLines++;
      if (segment === ends.length - 1) problem('the final run (graceful stop) left a torn last line');
    }
    from = Math.max(from, to);

    const cycle = cycles[segment];
    if (cycle === undefined) return; // the final run
    if (cycle.persisted < previousPersisted) problem(`run ${segment}: persisted position went back from ${previousPersisted} to ${cycle.persisted}`);
    if (cycle.confirmed > cycle.persisted && cycle.confirmed > input.slotStart) {
      problem(`run ${segment}: slot confirmed_flush_lsn ${cycle.confirmed} is ahead of the persisted position ${cycle.persisted}`);
    }
    // The persisted position never runs ahead of the file: every transaction before it is whole.
    for (const txn of incomplete) {
      if ((txnLsn[txn] as bigint) < cycle.persisted) {
        problem(`run ${segment}: position ${cycle.persisted} persisted, but transaction ${txn} (CommitLSN ${txnLsn[txn]}) has only ${txnSeen[txn]} of ${sizes[txn]} changes in the file`);
      }
    }
    if (cycle.persisted > previousPersisted) previousPersisted = cycle.persisted;
  });

  // Nothing lost: every committed version of every row.
  let missing = 0;
  for (const [id, max] of committed) {
    const seen = versionsById.get(id)?.length ?? 0;
    if (seen !== max && ++missing <= 5) problem(`row ${id}: ${seen} of its ${max} committed versions in the file (${versionsById.get(id)?.join(',') ?? 'none'})`);
  }
  if (missing > 5) problem(`... ${missing} rows with missing versions in all`);
  if (outOfOrder > 5) problem(`... ${outOfOrder} row versions out of commit order in all`);
  for (const id of versionsById.keys()) if (!committed.has(id)) problem(`row ${id} is in the file but was never committed`);
  // Whole transactions, with CommitLSNs in the writer's commit order.
  let partial = 0;
  let previous = -1n;
  for (let txn = 1; txn < txns; txn++) {
    if (txnSeen[txn] !== sizes[txn] && ++partial <= 5) problem(`transaction ${txn}: ${txnSeen[txn]} of its ${sizes[txn]} changes in the file`);
    const lsn = txnLsn[txn] as bigint;
    if (lsn === -1n) continue;
    if (lsn <= previous) problem(`transaction ${txn} has CommitLSN ${lsn}, not after its predecessor's ${previous}`);
    previous = lsn;
  }
  if (partial > 5) problem(`... ${partial} incomplete transactions in all`);

  return { eventsInFile, distinctEvents, duplicates: eventsInFile - distinctEvents, tornLines };
}

/** Human-readable summary of a report. */
export function summarize(report: CrashReport): string {
  const streaming = report.cycles.filter((c) => c.phase === 'streaming').length;
  const behind = report.cycles.filter((c) => c.slotBehind > 0n);
  const maxBehind = behind.reduce((max, c) => (c.slotBehind > max ? c.slotBehind : max), 0n);
  return [
    `${report.cycles.length} kill -9 cycles (${streaming} while streaming, ${report.cycles.length - streaming} counted from spawn), then a final run`,
    `${report.transactions} transactions (${report.bigTransactions} large), ${report.committedChanges} committed changes on ${report.rows} rows`,
    `${report.eventsInFile} events in the file: ${report.distinctEvents} distinct, ${report.duplicates} duplicates (replays after kills), ${report.tornLines} torn lines`,
    `start checks: ${report.refusals} refused (exit 3); ${behind.length} of ${report.cycles.length} killed runs started with the slot behind the saved position (at most ${maxBehind} bytes), the others at it or killed before the check`,
    `final run caught up in ${Math.round(report.catchUpMs)} ms, exit code ${report.finalExitCode} after SIGTERM; total ${(report.totalMs / 1000).toFixed(1)} s`,
    report.problems.length === 0 ? 'contract held: nothing lost, per-row commit order, whole transactions, no replay before the persisted position' : `${report.problems.length} problem(s):\n${report.problems.join('\n')}`,
  ].join('\n');
}
