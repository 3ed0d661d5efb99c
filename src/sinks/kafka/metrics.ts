/**
 * The Kafka sink's counts (its `stats()` line) and Prometheus metrics: messages and bytes per topic,
 * dead-lettered and unrouted messages, failed events per table, encoding time per table, produce
 * requests. Nothing here calls prom-client per event or per batch (metrics/tally.ts,
 * metrics/histogram-series.ts): counts and produce times are added when the metrics are collected,
 * and the encoding time is observed for a sample of the events.
 */
import type { ChangeEvent } from '../../event/event.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { HistogramSeries } from '../../metrics/histogram-series.ts';
import { SampledTimer, Tally } from '../../metrics/tally.ts';
import { SinkEventCounter } from '../count-events.ts';
import type { OutMessage } from './message.ts';

/** The stages of an exactly-once transaction timed by `kafka_sink_transaction_stage_seconds` (docs/kafka.md, "Exactly once"). */
export type TransactionStage = 'begin' | 'produce' | 'offsets' | 'end' | 'transaction';
const TRANSACTION_STAGES: readonly TransactionStage[] = ['begin', 'produce', 'offsets', 'end', 'transaction'];

/** One Kafka sink's counts and metrics. */
export class KafkaSinkMetrics {
  /** Counted by the sink as it goes; `sent` and `deadLettered` by recordAcked(). */
  readonly counts = { total: 0, noTopic: 0, skipped: 0, errors: 0, sent: 0, handled: 0, deadLettered: 0 };
  private readonly encodeTimes: SampledTimer<'sinkName' | 'sinkType' | 'table'>;
  private readonly unrouted: Tally<'sinkName' | 'table'>;
  private readonly delivered: SinkEventCounter;
  /** Made on the first transaction (with the exactly-once counters at 0): sinks without exactlyOnce expose none. */
  private stages: Map<TransactionStage, HistogramSeries<'sinkName' | 'stage'>> | undefined;
  /** Per produce request and per batch: in plain numbers, added when the metrics are collected. */
  private readonly produceSeconds: HistogramSeries<'sinkName'>;
  private readonly messages: Tally<'sinkName' | 'topic'>;
  private readonly bytes: Tally<'sinkName' | 'topic'>;

  constructor(private readonly metrics: Metrics, private readonly sinkName: string, private readonly sinkType: string) {
    this.encodeTimes = new SampledTimer(metrics.sinkEventProcessingTime, (table) => ({ sinkName, sinkType, table }));
    this.unrouted = new Tally(metrics, metrics.kafkaSinkUnroutedEvents, (table) => ({ sinkName, table }));
    this.delivered = new SinkEventCounter(metrics, sinkName, sinkType);
    this.produceSeconds = new HistogramSeries(metrics, metrics.kafkaSinkProduceSeconds, { sinkName });
    this.messages = new Tally(metrics, metrics.kafkaSinkMessages, (topic) => ({ sinkName, topic }));
    this.bytes = new Tally(metrics, metrics.kafkaSinkBytes, (topic) => ({ sinkName, topic }));
  }

  /** The sink's `stats()` line. */
  summary(handler = 'passthrough'): string {
    const c = this.counts;
    return `total: ${c.total}, no topic: ${c.noTopic}, skipped: ${c.skipped}, errors: ${c.errors}, kafka msgs sent: ${c.sent}, ` +
      `handlers: [${handler}: events: ${c.handled}], dead-lettered: ${c.deadLettered}`;
  }

  /** One event encoded, whose encoding started at `started` (performance.now()). */
  recordEncoded(table: string, started: number): void {
    this.encodeTimes.time(table, started);
  }

  /** Counts one event of `table` to be encoded; true when its encoding time is to be observed (observeEncoded()). */
  encodeSampled(table: string): boolean {
    return this.encodeTimes.next(table);
  }

  /** The encoding time of an event encodeSampled() chose, started at `started` (performance.now()). */
  observeEncoded(table: string, started: number): void {
    this.encodeTimes.observe(table, started);
  }

  /** One event dropped: neither the mapping nor the fallback gives its table a topic. */
  recordUnrouted(table: string): void {
    this.counts.noTopic++;
    this.unrouted.add(table);
  }

  /** One produce request, started at `started` (performance.now()), and the error codes it failed with. */
  recordProduce(started: number, errorCodes: Iterable<string>): void {
    for (const error of errorCodes) this.metrics.kafkaSinkProduceErrors.inc({ sinkName: this.sinkName, error });
    this.produceSeconds.observe((performance.now() - started) / 1000);
  }

  /** A transaction of an exactly-once sink ended: committed, or aborted to be tried again. */
  recordTransaction(committed: boolean): void {
    this.metrics.kafkaSinkTransactions.inc({ sinkName: this.sinkName, result: committed ? 'committed' : 'aborted' });
  }

  /** One stage of an exactly-once transaction, started at `started` (performance.now()), just ended. */
  recordTransactionStage(stage: TransactionStage, started: number): void {
    this.stages ??= this.exactlyOnceSeries();
    this.stages.get(stage)?.observe((performance.now() - started) / 1000);
  }

  /** The stage histograms, and the counters a dashboard shows at 0 until something happens. */
  private exactlyOnceSeries(): Map<TransactionStage, HistogramSeries<'sinkName' | 'stage'>> {
    const sinkName = this.sinkName;
    this.metrics.kafkaSinkAlreadyDelivered.inc({ sinkName }, 0);
    this.metrics.kafkaSinkRelayLeftOut.inc({ sinkName }, 0);
    return new Map(TRANSACTION_STAGES.map((s) => [s, new HistogramSeries(this.metrics, this.metrics.kafkaSinkTransactionStageSeconds, { sinkName, stage: s })]));
  }

  /** Messages an exactly-once sink did not write again: Kafka had them already (after a restart or an ambiguous commit). */
  recordAlreadyDelivered(messages: number): void {
    this.counts.skipped += messages;
    this.metrics.kafkaSinkAlreadyDelivered.inc({ sinkName: this.sinkName }, messages);
  }

  /** Relayed events an exactly-once sink left out because their source partition moved to another group member (relay-ownership.ts). */
  recordRelayLeftOut(events: number): void {
    this.metrics.kafkaSinkRelayLeftOut.inc({ sinkName: this.sinkName }, events);
  }

  /** Events delivered (`sink_events`, per table). */
  recordDelivered(events: readonly ChangeEvent[]): void {
    this.delivered.count(events);
  }

  /** Counts messages the brokers acknowledged: per topic, and dead-letter copies per original topic and reason. */
  recordAcked(acked: readonly OutMessage[]): void {
    if (acked.length === 0) return;
    this.counts.sent += acked.length;
    let deadLettered: Map<string, { topic: string; reason: string; count: number }> | undefined;
    // Consecutive messages nearly always share their topic: counted as runs, one addition per run.
    let runTopic = '';
    let runMessages = 0;
    let runBytes = 0;
    for (const message of acked) {
      if (message.topic !== runTopic) {
        if (runMessages > 0) this.addRun(runTopic, runMessages, runBytes);
        runTopic = message.topic;
        runMessages = 0;
        runBytes = 0;
      }
      runMessages++;
      runBytes += message.bytes;
      const original = message.deadLetterOf;
      if (original !== undefined) {
        this.counts.deadLettered++;
        const reason = original.deadLetterReason?.code ?? 'UNKNOWN';
        const key = `${original.topic}\u0000${reason}`;
        deadLettered ??= new Map();
        const d = deadLettered.get(key);
        if (d === undefined) deadLettered.set(key, { topic: original.topic, reason, count: 1 });
        else d.count++;
      }
    }
    if (runMessages > 0) this.addRun(runTopic, runMessages, runBytes);
    if (deadLettered === undefined) return;
    for (const d of deadLettered.values()) {
      this.metrics.kafkaSinkDeadLettered.inc({ sinkName: this.sinkName, topic: d.topic, reason: d.reason }, d.count);
    }
  }

  private addRun(topic: string, messages: number, bytes: number): void {
    this.messages.add(topic, messages);
    this.bytes.add(topic, bytes);
  }

  /** Counts the events of messages that will never be written (sink_errors, per table). */
  countFailedEvents(messages: readonly OutMessage[]): void {
    const perTable = new Map<string, number>();
    for (const m of messages) perTable.set(m.event.table, (perTable.get(m.event.table) ?? 0) + 1);
    for (const [table, n] of perTable) this.metrics.sinkErrors.inc({ sinkName: this.sinkName, sinkType: this.sinkType, table }, n);
  }

  /** A metadata request failed (`kafka_sink_produce_errors_total{error="METADATA"}`). */
  recordMetadataError(): void {
    this.metrics.kafkaSinkProduceErrors.inc({ sinkName: this.sinkName, error: 'METADATA' });
  }
}
