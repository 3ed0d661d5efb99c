/**
 * The crash test's writer: commits transactions of inserts and updates (and now and then a large
 * one) as fast as it can while the streamer is killed, remembering only what COMMIT confirmed.
 */
import type postgres from 'postgres';

export const randomBetween = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/**
 * Commits transactions of inserts and updates and remembers what was committed (only once COMMIT
 * returned). Every row carries its version and the number of the transaction that wrote it.
 */
export class Writer {
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

