/**
 * The exactly-once check, pure (no I/O): the records a read_committed consumer read from the data
 * topics, against what the writer committed. Each committed (row id, version) must be there exactly
 * once (0 lost, 0 duplicates) and the versions of a row in commit order (a row's changes share one
 * key, so one partition, and are read in offset order). Used by harness.ts; unit-tested on its own.
 *
 * Kept per row (the soak reads millions of records): the versions seen, in the order first read.
 */

/** One record of a data topic, reduced to what the check needs. */
export interface ReadRecord {
  id: number;
  version: number;
  partition: number;
  offset: bigint;
}

/** What the check found. */
export interface ExactlyOnceReport {
  /** Records read (duplicates included). */
  records: number;
  /** Distinct committed (id, version) read. */
  distinct: number;
  /** Records of an (id, version) read before (a second delivery). */
  duplicates: number;
  /** Committed (id, version) never read. */
  lost: number;
  /** First readings of a row's version after a later version of the row (not in commit order). */
  reordered: number;
  /** Records of a version that was never committed (or of an unknown row). */
  unknown: number;
  /** Rows whose records are in more than one partition (their order is then not defined). */
  split: number;
  /** Records read per partition (index = partition). */
  perPartition: number[];
  /** Examples of each kind of problem (at most a few per kind), for the failure message. */
  problems: string[];
}

const EXAMPLES_PER_KIND = 5;

/** Feed it the records in the order a consumer read them (per partition: offset order), then `finish`. */
export class ExactlyOnceCheck {
  /** Row id → versions in order of first reading. */
  private readonly versions = new Map<number, number[]>();
  /** Row id → partition of its first record. */
  private readonly partitions = new Map<number, number>();
  private readonly examples = new Map<string, number>();
  private readonly problems: string[] = [];
  private records = 0;
  private duplicates = 0;
  private reordered = 0;
  private split = 0;
  private readonly perPartition: number[] = [];
  /** Committed (id, version) in all, and how many of them were read so far (complete() is polled often). */
  private readonly expected: number;
  private readCommitted = 0;

  /**
   * @param committed row id → highest committed version (versions 1..max, committed in that order),
   *   as the writer knows it once it stopped.
   */
  constructor(private readonly committed: ReadonlyMap<number, number>) {
    let expected = 0;
    for (const max of committed.values()) expected += max;
    this.expected = expected;
  }

  add(record: ReadRecord): void {
    this.records++;
    this.perPartition[record.partition] = (this.perPartition[record.partition] ?? 0) + 1;
    const { id, version } = record;
    const partition = this.partitions.get(id);
    if (partition === undefined) this.partitions.set(id, record.partition);
    else if (partition !== record.partition) {
      this.split++;
      this.example('split', `row ${id}: records in partitions ${partition} and ${record.partition} (offset ${record.offset})`);
    }
    let seen = this.versions.get(id);
    if (seen === undefined) this.versions.set(id, (seen = []));
    if (seen.includes(version)) {
      this.duplicates++;
      this.example('duplicate', `row ${id} version ${version}: read again at partition ${record.partition} offset ${record.offset}`);
      return;
    }
    const last = seen.at(-1) ?? 0;
    if (version < last) {
      this.reordered++;
      this.example('reordered', `row ${id}: version ${version} at partition ${record.partition} offset ${record.offset} after version ${last}`);
    }
    seen.push(version);
    if (version >= 1 && version <= (this.committed.get(id) ?? 0)) this.readCommitted++;
  }

  /** True when every committed (id, version) was read (the final run caught up). */
  complete(): boolean {
    return this.readCommitted === this.expected;
  }

  /** The verdict: what was lost, duplicated, out of order or never committed. */
  finish(): ExactlyOnceReport {
    let distinct = 0;
    let lost = 0;
    let unknown = 0;
    for (const [id, seen] of this.versions) {
      const max = this.committed.get(id) ?? 0;
      for (const version of seen) {
        if (version >= 1 && version <= max) distinct++;
        else {
          unknown++;
          this.example('unknown', `row ${id}: version ${version} read, but only versions 1..${max} were committed`);
        }
      }
    }
    for (const [id, max] of this.committed) {
      const seen = this.versions.get(id) ?? [];
      const missing = max - countCommitted(seen, max);
      if (missing > 0) {
        lost += missing;
        const absent = [];
        for (let v = 1; v <= max && absent.length < 5; v++) if (!seen.includes(v)) absent.push(v);
        this.example('lost', `row ${id}: ${missing} of its ${max} committed versions never read (e.g. ${absent.join(', ')})`);
      }
    }
    return {
      records: this.records,
      distinct,
      duplicates: this.duplicates,
      lost,
      reordered: this.reordered,
      unknown,
      split: this.split,
      perPartition: Array.from(this.perPartition, (n) => n ?? 0),
      problems: [...this.problems, ...this.overflow()],
    };
  }

  private example(kind: string, text: string): void {
    const n = (this.examples.get(kind) ?? 0) + 1;
    this.examples.set(kind, n);
    if (n <= EXAMPLES_PER_KIND) this.problems.push(`${kind}: ${text}`);
  }

  private overflow(): string[] {
    return [...this.examples].filter(([, n]) => n > EXAMPLES_PER_KIND).map(([kind, n]) => `${kind}: ... ${n} in all`);
  }
}

/** How many of `seen` are committed versions (1..max); `seen` holds each version once. */
function countCommitted(seen: readonly number[], max: number): number {
  let n = 0;
  for (const v of seen) if (v >= 1 && v <= max) n++;
  return n;
}

/** Runs the check on a whole list of records (for tests and small runs). */
export function checkExactlyOnce(committed: ReadonlyMap<number, number>, records: Iterable<ReadRecord>): ExactlyOnceReport {
  const check = new ExactlyOnceCheck(committed);
  for (const record of records) check.add(record);
  return check.finish();
}
