/**
 * A real (not mocked) source for exercising the app end to end without a database: it produces
 * `count` numbered insert events, each carrying its number as the position, obeys back-pressure,
 * and persists acknowledged positions in the state store exactly as a production source must.
 */
import { defineSection } from '../../src/config/fields.ts';
import { defineComponentType } from '../../src/component/type.ts';
import type { ChangeEvent } from '../../src/event/event.ts';
import type { Source, SourceOutput } from '../../src/sources/source.ts';
import type { StateStore } from '../../src/state/store.ts';

const options = defineSection({
  count: { kind: 'int', default: 1000, doc: 'events to produce' },
});

class CountingSource implements Source<bigint> {
  readonly type = 'Source-Counting';
  private produced = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(readonly name: string, private readonly count: number, private readonly store: StateStore) {}

  async start(output: SourceOutput<bigint>): Promise<void> {
    // Resume after the persisted position, as a production source does after a restart.
    this.produced = Number(this.store.getPosition(this.name) ?? 0n);
    this.loop = this.produce(output);
  }

  private async produce(output: SourceOutput<bigint>): Promise<void> {
    while (!this.stopped && this.produced < this.count) {
      const n = ++this.produced;
      const event: ChangeEvent = {
        source: this.name, host: 'test', database: 'test', schema: 'public', table: 'numbers',
        action: 'insert', lsn: BigInt(n), commitLsn: BigInt(n), timestamp: '2026-01-01T00:00:00Z',
        uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, columns: { n },
      };
      if (!output.push({ event, position: BigInt(n) })) await output.drained();
      if (n % 100 === 0) await Bun.sleep(1); // let timers and signals run, as socket reads would
    }
  }

  async ack(positions: readonly bigint[]): Promise<void> {
    const last = positions[positions.length - 1];
    if (last !== undefined) await this.store.setPosition(this.name, last);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  async close(): Promise<void> {}

  stats(): string {
    return `produced: ${this.produced}`;
  }

  status(): string | null {
    return null;
  }

  setDebug(): void {}
}

export const countingSourceType = defineComponentType({
  type: 'counting',
  componentType: 'Source-Counting',
  options,
  async create(name, opts, deps) {
    return new CountingSource(name, opts.count, deps.store);
  },
});
