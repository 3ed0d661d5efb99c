/**
 * When records of a partition became visible to read_committed consumers (docs/benchmarks.md,
 * "Exactly-once latency"). Pure. A transactional record is visible once its producer's commit
 * marker is in the log: the marker's control batch carries, on a LogAppendTime topic, the time the
 * coordinator's marker was appended; an abort marker means the records never become visible (the
 * sink writes them again in a later transaction). A record outside a transaction is visible when
 * appended.
 */

/** What a record batch of a fetch says, as far as visibility goes. */
export interface VisibilityBatch {
  producerId: bigint;
  transactional: boolean;
  /** A control batch: `commit` true for a commit marker, false for an abort. */
  control?: { commit: boolean };
  /** Append time of the batch (LogAppendTime). */
  appendMs: number;
  /** Records of a data batch that are measured (their ids, in offset order). */
  records: number[];
}

/**
 * Visible time per measured record id, in batch (offset) order of one partition; NaN for records
 * whose transaction was aborted or has no marker yet.
 */
export function visibleTimes(batches: Iterable<VisibilityBatch>): Map<number, number> {
  const visible = new Map<number, number>();
  const open = new Map<bigint, number[]>();
  for (const batch of batches) {
    if (batch.control !== undefined) {
      const ids = open.get(batch.producerId) ?? [];
      open.delete(batch.producerId);
      for (const id of ids) visible.set(id, batch.control.commit ? batch.appendMs : NaN);
      continue;
    }
    if (!batch.transactional) {
      for (const id of batch.records) visible.set(id, batch.appendMs);
      continue;
    }
    let ids = open.get(batch.producerId);
    if (ids === undefined) open.set(batch.producerId, (ids = []));
    ids.push(...batch.records);
  }
  for (const ids of open.values()) for (const id of ids) visible.set(id, NaN);
  return visible;
}
