/**
 * The crash test's check of event identity (docs/kafka.md, "Event identity (UUID)"): a change
 * delivered again after a kill -9 carries the UUID of its first delivery and the same JSON but for
 * `Timestamp`; distinct changes carry distinct UUIDs; and each UUID is the documented function of
 * the stream (cluster, slot), CommitLSN and TxIndex. A change is named by its writer transaction
 * and TxIndex (one CommitLSN per transaction is checked by analyse.ts). Per event only a 52-bit
 * fingerprint is kept (the soak writes millions).
 */
import type { EventIdentity } from '../../../src/event/identity.ts';
import type { SeenEvent } from './output.ts';

/** The line without its `Timestamp` (the processing time, the one field a redelivery may change). */
export function withoutTimestamp(line: string): string {
  return line.replace(/,"Timestamp":"[^"]*"/, '');
}

/** 52 bits of a hash of the line without its Timestamp: equal lines, equal fingerprints. */
export function fingerprint(line: string): number {
  return Number(BigInt.asUintN(52, BigInt(Bun.hash(withoutTimestamp(line)))));
}

const uuidFingerprint = (uuid: string): number => Number(BigInt.asUintN(52, BigInt(Bun.hash(uuid))));

export class IdentityCheck {
  /** Start of each transaction's changes in `seen` (transaction numbers from 1). */
  private readonly offsets: Float64Array;
  /** Fingerprint of each change's first delivery; NaN before it. */
  private readonly seen: Float64Array;
  private readonly uuids = new Set<number>();
  /** Deliveries after the first, each found equal to the first (but Timestamp). */
  redelivered = 0;
  private reported = 0;

  constructor(
    private readonly sizes: readonly number[],
    /** The stream's identity, to recompute each UUID (undefined: not recomputed). */
    private readonly identity: EventIdentity | undefined,
    private readonly report: (text: string) => void,
  ) {
    this.offsets = new Float64Array(sizes.length + 1);
    for (let txn = 1; txn < sizes.length; txn++) this.offsets[txn + 1] = this.offsets[txn]! + sizes[txn]!;
    this.seen = new Float64Array(this.offsets[sizes.length]!).fill(Number.NaN);
  }

  private problem(text: string): void {
    if (++this.reported <= 5) this.report(text);
    else if (this.reported === 6) this.report('... more event identity problems');
  }

  /** One delivered event of a committed transaction, with its line as written. */
  see(e: SeenEvent, line: string): void {
    const name = `transaction ${e.txn} (CommitLSN ${e.commitLsn}) change #${e.txIndex}`;
    if (!(Number.isInteger(e.txIndex) && e.txIndex >= 0 && e.txIndex < this.sizes[e.txn]!)) {
      this.problem(`run ${e.segment}: ${name}: TxIndex outside 0..${this.sizes[e.txn]! - 1}`);
      return;
    }
    if (this.identity !== undefined && e.uuid !== this.identity.stream(e.commitLsn, e.txIndex)) {
      this.problem(`run ${e.segment}: ${name}: UUID ${e.uuid}, not ${this.identity.stream(e.commitLsn, e.txIndex)} as docs/kafka.md derives it`);
    }
    const at = this.offsets[e.txn]! + e.txIndex;
    const print = fingerprint(line);
    const first = this.seen[at]!;
    if (Number.isNaN(first)) {
      this.seen[at] = print;
      const uuid = uuidFingerprint(e.uuid);
      if (this.uuids.has(uuid)) this.problem(`run ${e.segment}: ${name}: UUID ${e.uuid} was already another change's`);
      this.uuids.add(uuid);
    } else if (first !== print) {
      this.problem(`run ${e.segment}: ${name} delivered again with other JSON than its first delivery (Timestamp aside): ${withoutTimestamp(line).slice(0, 300)}`);
    } else {
      this.redelivered++;
    }
  }
}
