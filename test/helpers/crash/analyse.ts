/**
 * The delivery contract checked on the crash test's output file (docs/delivery.md), run by run:
 * nothing lost, per-row commit order, whole transactions under one CommitLSN, no replay before the
 * persisted position, at every kill the persisted position behind the file and the slot's
 * confirmed position behind the persisted one, and every replayed change with its first delivery's
 * UUID and JSON (identity.ts). Per event only numbers are kept (the soak writes millions).
 */
import type { EventIdentity } from '../../../src/event/identity.ts';
import { IdentityCheck } from './identity.ts';
import { fileSize, forEachLine, parseLine } from './output.ts';

/** What was seen of one start → run → SIGKILL cycle. */
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

/**
 * Checks the file against what was committed, one run's segment at a time (the soak's file holds
 * millions of events: nothing is kept per event, only per row and per transaction).
 */
export function analyse(input: {
  outFile: string;
  cycles: CrashCycle[];
  committed: Map<number, number>;
  /** Transaction number → number of changes. */
  sizes: readonly number[];
  slotStart: bigint;
  /** The stream's event identity (cluster and slot): every UUID is recomputed from it. */
  identity?: EventIdentity;
  problem: (text: string) => void;
}): { eventsInFile: number; distinctEvents: number; duplicates: number; sameIdentityDuplicates: number; tornLines: number } {
  const { cycles, committed, sizes, problem } = input;
  const identities = new IdentityCheck(sizes, input.identity, problem);
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
      // A replay carries its first delivery's UUID and JSON (but Timestamp); other changes other UUIDs.
      identities.see(e, line);
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
  // Every duplicate (a row version seen before) was found to be a redelivery of the same change.
  const duplicates = eventsInFile - distinctEvents;
  if (identities.redelivered !== duplicates) problem(`${duplicates} duplicate row versions, but ${identities.redelivered} redeliveries of the same (CommitLSN, TxIndex) with equal JSON`);

  return { eventsInFile, distinctEvents, duplicates, sameIdentityDuplicates: identities.redelivered, tornLines };
}

