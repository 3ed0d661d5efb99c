/**
 * The original's stub sinks: `stub_log` logs "N events dumped" per batch, `stub_discard` drops
 * events silently. Both always succeed, count events, and (unlike the original) take a logger, so
 * `/debug/on` does not crash on them (docs/compatibility.md).
 */
import { defineSection } from '../config/fields.ts';
import { defineComponentType } from '../component/type.ts';
import type { ChangeEvent } from '../event/event.ts';
import type { Logger } from '../core/logger.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import { SinkEventCounter } from './count-events.ts';
import type { Sink } from './sink.ts';

const STUB_TYPE = 'Sink-Stub';

class StubSink implements Sink {
  readonly type = STUB_TYPE;
  private events = 0;

  private readonly delivered: SinkEventCounter;

  constructor(readonly name: string, private readonly log: Logger, metrics: Metrics, private readonly dump: boolean) {
    this.delivered = new SinkEventCounter(metrics, name, STUB_TYPE);
  }

  async write(batch: readonly ChangeEvent[]): Promise<void> {
    if (batch.length === 0) return;
    this.events += batch.length;
    this.delivered.count(batch);
    if (this.dump) this.log.info(`${batch.length} events dumped`);
  }

  stats(): string {
    return `events: ${this.events}`;
  }

  status(): string | null {
    return null;
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  async close(): Promise<void> {}
}

/** `type = "stub_log"`: logs the size of every batch. */
export const stubLogSinkType = defineComponentType({
  type: 'stub_log',
  componentType: STUB_TYPE,
  options: defineSection({}),
  create: async (name, _options, deps): Promise<Sink> => new StubSink(name, deps.log, deps.metrics, true),
});

/** `type = "stub_discard"`: counts and drops events. */
export const stubDiscardSinkType = defineComponentType({
  type: 'stub_discard',
  componentType: STUB_TYPE,
  options: defineSection({}),
  create: async (name, _options, deps): Promise<Sink> => new StubSink(name, deps.log, deps.metrics, false),
});
