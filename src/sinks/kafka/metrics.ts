/**
 * The Kafka sink's counts (its `stats()` line) and Prometheus metrics: messages and bytes per topic,
 * dead-lettered messages, failed events per table, encoding time per table.
 */
import {
  kafkaSinkBytes,
  kafkaSinkDeadLettered,
  kafkaSinkMessages,
  sinkErrors,
  sinkEventProcessingTime,
} from '../../metrics/catalogue.ts';
import type { OutMessage } from './message.ts';

type EncodeTimer = ReturnType<typeof sinkEventProcessingTime.labels>;

/** One Kafka sink's counts and metrics. */
export class KafkaSinkMetrics {
  /** Counted by the sink as it goes; `sent` and `deadLettered` by recordAcked(). */
  readonly counts = { total: 0, noTopic: 0, skipped: 0, errors: 0, sent: 0, handled: 0, deadLettered: 0 };
  private readonly encodeTimers = new Map<string, EncodeTimer>();
  private lastTimerTable: string | undefined;
  private lastTimer: EncodeTimer | undefined;

  constructor(private readonly sinkName: string, private readonly sinkType: string) {}

  /** The sink's `stats()` line. */
  summary(): string {
    const c = this.counts;
    return `total: ${c.total}, no topic: ${c.noTopic}, skipped: ${c.skipped}, errors: ${c.errors}, kafka msgs sent: ${c.sent}, ` +
      `handlers: [passthrough: events: ${c.handled}], dead-lettered: ${c.deadLettered}`;
  }

  /** Counts messages the brokers acknowledged: per topic, and dead-letter copies per original topic and reason. */
  recordAcked(acked: readonly OutMessage[]): void {
    if (acked.length === 0) return;
    this.counts.sent += acked.length;
    const perTopic = new Map<string, { messages: number; bytes: number }>();
    // Consecutive messages nearly always share their topic: counted as runs, one map update per run.
    let runTopic = '';
    let runMessages = 0;
    let runBytes = 0;
    const addRun = () => {
      if (runMessages === 0) return;
      const t = perTopic.get(runTopic);
      if (t === undefined) perTopic.set(runTopic, { messages: runMessages, bytes: runBytes });
      else {
        t.messages += runMessages;
        t.bytes += runBytes;
      }
    };
    for (const message of acked) {
      if (message.topic !== runTopic) {
        addRun();
        runTopic = message.topic;
        runMessages = 0;
        runBytes = 0;
      }
      runMessages++;
      runBytes += message.bytes;
      const original = message.deadLetterOf;
      if (original !== undefined) {
        this.counts.deadLettered++;
        kafkaSinkDeadLettered.inc({ sinkName: this.sinkName, topic: original.topic, reason: original.deadLetterReason?.code ?? 'UNKNOWN' });
      }
    }
    addRun();
    for (const [topic, t] of perTopic) {
      kafkaSinkMessages.inc({ sinkName: this.sinkName, topic }, t.messages);
      kafkaSinkBytes.inc({ sinkName: this.sinkName, topic }, t.bytes);
    }
  }

  /** Counts the events of messages that will never be written (sink_errors, per table). */
  countFailedEvents(messages: readonly OutMessage[]): void {
    const perTable = new Map<string, number>();
    for (const m of messages) perTable.set(m.event.table, (perTable.get(m.event.table) ?? 0) + 1);
    for (const [table, n] of perTable) sinkErrors.inc({ sinkName: this.sinkName, sinkType: this.sinkType, table }, n);
  }

  /** The encoding-time histogram of a table; consecutive events nearly always share it, so the last one is kept at hand. */
  encodeTimer(table: string): EncodeTimer {
    if (table === this.lastTimerTable && this.lastTimer !== undefined) return this.lastTimer;
    let timer = this.encodeTimers.get(table);
    if (timer === undefined) {
      timer = sinkEventProcessingTime.labels({ sinkName: this.sinkName, sinkType: this.sinkType, table });
      this.encodeTimers.set(table, timer);
    }
    this.lastTimerTable = table;
    this.lastTimer = timer;
    return timer;
  }
}
