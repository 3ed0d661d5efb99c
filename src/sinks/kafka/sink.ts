/**
 * The Kafka sink (docs/kafka.md): events → passthrough JSON messages (or Debezium's records,
 * docs/debezium.md) → topics, acknowledged by the brokers before `write` resolves. Loaded lazily
 * by spec.ts, so @platformatic/kafka is only imported when a Kafka sink is configured.
 *
 * One `write(batch)`:
 * 1. route and encode every event once (encode-batch.ts; cached per batch, so a retry of the same
 *    batch re-encodes nothing and skips what the brokers already acknowledged: batch-state.ts);
 * 2. look up each topic's partition count (the client's metadata cache, refreshed every
 *    `rebalanceInterval`) and assign partitions by key (murmur2 or fnv1a; round-robin without key:
 *    partitions.ts);
 * 3. send produce requests of at most `batchSize` messages / 1 MiB per partition, one after the other
 *    (usually a single request; chunk-send.ts), each resolving only when the brokers acknowledged per
 *    `requiredAcks`;
 * 4. messages that can never be written (too large, unknown or invalid topic, refused record) go to
 *    `deadLetterTopic` with error headers, or fail the batch with a non-retryable error that stops the
 *    pipeline (dead-letter.ts); anything else (broker down, leader moving, timeouts) fails it with
 *    a retryable error, and the pipeline retries the same batch with backoff (outcome.ts sorts
 *    one from the other).
 */
import type { ComponentDeps } from '../../component/type.ts';
import { StreamerError, permanentError } from '../../core/errors.ts';
import type { ChangeEvent } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import type { Sink } from '../sink.ts';
import { describeKafkaError } from '../../kafka/client-options.ts';
import { partitionerFor, type PartitionerName } from '../../kafka/protocol/partitioner.ts';
import { TopicRouter } from './routing.ts';
import { isProgressOf, settleChunk, type BatchProgress } from './batch-state.ts';
import { BatchMemory } from './record-batches.ts';
import { withDeadline } from '../../core/deadline.ts';
import { ConnectStatus } from '../../core/connect-status.ts';
import { clientDeadlineMs, compressorFor, newProducer, retryDelayMs, type KafkaProducer } from './client.ts';
import { DeadLetters } from './dead-letter.ts';
import { KeyEncoder } from './key-bytes.ts';
import { takeChunk, type OutMessage } from './message.ts';
import { KafkaSinkMetrics } from './metrics.ts';
import { debeziumOptions } from '../../event/debezium/format.ts';
import { PartitionAssigner } from './partitions.ts';
import type { KafkaSinkOptions } from './spec.ts';
import { ExactlyOnceDelivery } from './exactly-once.ts';
import type { TransactionalProducer } from './transaction.ts';
import { prepareBatch, type BatchEncoding } from './encode-batch.ts';
import { sendBatches, sendThroughLibrary, type ChunkSender } from './chunk-send.ts';
import { ASYNC_MAX_QUEUED_BYTES, EXACTLY_ONCE_MERGE_EVENTS, MAX_PARTITION_REQUEST_BYTES, PROBE_INTERVAL_MS, sinkSettings, type Settings } from './sink-settings.ts';

export type { KafkaProducer } from './client.ts';

const SINK_TYPE = 'Sink-Kafka';

/** Writes change events to Kafka topics: routing, encoding, delivery with partial retries, health. */
export class KafkaSink implements Sink {
  readonly type = SINK_TYPE;
  /** Exactly once: a transaction costs three round trips more than a write, so fewer, larger ones (docs/benchmarks.md). */
  readonly mergeEvents: number | undefined;

  private readonly producer: KafkaProducer;
  private readonly settings: Settings;
  /** Longest a client call may take before the sink gives up on it (deadline()). */
  private readonly deadlineMs: number;
  private readonly metrics: KafkaSinkMetrics;
  private readonly deadLetters: DeadLetters;
  private readonly partitions: PartitionAssigner;
  private readonly progress = new WeakMap<readonly ChangeEvent[], BatchProgress>();
  private readonly inflight = new Set<Promise<void>>();
  /** Set with `exactlyOnce`: batches go in transactions (exactly-once.ts). */
  private readonly exactlyOnce: ExactlyOnceDelivery | undefined;

  /** Why the last write failed (retryable); cleared by the next success. */
  private problem: string | null = null;
  /** Why the sink stopped for good. */
  private fatal: string | null = null;
  /** "connecting: ..." until the brokers first answer (a probe or a write; docs/operations.md, "Status: connecting"). */
  private readonly connect = new ConnectStatus();
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  private asyncQueue: OutMessage[] = [];
  private asyncBytes = 0;
  private asyncTimer: ReturnType<typeof setTimeout> | undefined;
  private asyncChain: Promise<void> = Promise.resolve();
  /** Routing and encoding of a batch's events (encode-batch.ts). */
  private readonly encoding: BatchEncoding;
  /** Sending one chunk in a produce request (chunk-send.ts). */
  private readonly sender: ChunkSender;

  /** @param testing a client to use instead of a new @platformatic/kafka Producer, a shorter deadline (tests). */
  constructor(
    readonly name: string,
    options: KafkaSinkOptions,
    private readonly log: Logger,
    metrics: Metrics,
    testing: { producer?: KafkaProducer; deadlineMs?: number } = {},
  ) {
    const router = new TopicRouter(options.tableTopicMapping, options.topicFallback);
    const debezium = options.handlers.includes('debezium') ? debeziumOptions(options) : undefined;
    this.metrics = new KafkaSinkMetrics(metrics, name, SINK_TYPE);
    this.settings = sinkSettings(options);
    this.encoding = {
      router,
      debezium,
      debeziumTopics: options.debeziumTopics,
      keys: new KeyEncoder(this.settings.keyMode),
      keyMode: this.settings.keyMode,
      metrics: this.metrics,
      log,
    };
    const compressor = compressorFor(options.compression);
    this.deadlineMs = testing.deadlineMs ?? clientDeadlineMs(options);
    this.producer = testing.producer ?? newProducer(options);
    this.sender = {
      producer: this.producer,
      acks: this.settings.acks,
      batchMemory: new BatchMemory(),
      compressor,
      component: this.component,
      deadline: (call, what) => this.deadline(call, what),
    };
    this.deadLetters = new DeadLetters(options.deadLetterTopic, log, this.component);
    this.partitions = new PartitionAssigner({
      hosts: this.settings.hosts,
      component: this.component,
      producer: this.producer,
      partitionOf: partitionerFor(options.partitioner as PartitionerName),
      deadLetters: this.deadLetters,
      deadline: (call, what) => this.deadline(call, what),
      onMetadataError: () => this.metrics.recordMetadataError(),
    });
    this.mergeEvents = options.exactlyOnce ? EXACTLY_ONCE_MERGE_EVENTS : undefined;
    if (options.exactlyOnce) {
      this.exactlyOnce = new ExactlyOnceDelivery({
        sinkName: name,
        component: this.component,
        log,
        producer: this.producer,
        metrics: this.metrics,
        transactionalId: options.transactionalId,
        positionTopic: options.positionTopic,
        transactionTimeoutMs: options.transactionTimeout,
        maxAttempts: this.settings.maxAttempts,
        chunkLimits: { maxMessages: this.settings.batchSize, maxBytes: MAX_PARTITION_REQUEST_BYTES },
        isClosed: () => this.closed,
        assign: (pending) => this.partitions.assign(pending),
        produce: (p, chunk, txn, replaced) => this.produce(p, chunk, txn, replaced),
        deadline: (call, what) => this.deadline(call, what),
      });
    }
  }

  /** Logs the setup and checks in the background that the brokers answer (status shows it if not). */
  start(): void {
    const s = this.settings;
    this.log.info(
      `Writing to Kafka ${s.hosts} (requiredAcks ${s.acks}, key ${s.keyMode}, ` +
        `${s.async ? 'ASYNC: delivery is not confirmed, data can be lost' : this.exactlyOnce ? 'exactly once, in transactions' : 'synchronous'}` +
        `${s.deadLetterTopic ? `, dead-letter topic "${s.deadLetterTopic}"` : ''})`,
    );
    this.connect.start(`asking the brokers ${s.hosts} for metadata`);
    void this.probe();
  }

  /** See Sink.prepareFor: an exactly-once sink initialises `source`'s transactional producers. */
  async prepareFor(source: string): Promise<void> {
    if (this.exactlyOnce === undefined || this.closed) return;
    try {
      if (await this.exactlyOnce.prepareFor(source)) this.log.info(`Exactly once: producers of source "${source}" initialised before it reads (an earlier run's open transaction is ended)`);
    } catch (err) {
      this.log.warn(`Exactly once: cannot initialise the producers of source "${source}" yet (the first write tries again): ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  write(batch: readonly ChangeEvent[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new StreamerError('SINK_WRITE', 'the Kafka sink is closed', { component: this.component, retryable: false }));
    const work = this.settings.async ? this.enqueue(batch) : this.writeSync(batch);
    this.inflight.add(work);
    const untrack = () => void this.inflight.delete(work);
    work.then(untrack, untrack);
    return work;
  }

  stats(): string {
    return this.metrics.summary(this.encoding.debezium === undefined ? 'passthrough' : 'debezium');
  }

  /** The permanent failure, else the last write's failure, else "connecting: ..." until the brokers first answered. */
  status(): string | null {
    return this.fatal ?? this.problem ?? this.connect.problem();
  }

  details(): { endpoint: string } {
    return { endpoint: `Kafka ${this.settings.hosts}${this.exactlyOnce ? ', exactly once' : ''}` };
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    await Promise.allSettled([...this.inflight]);
    await this.exactlyOnce?.close();
    if (this.settings.async) {
      clearTimeout(this.asyncTimer);
      await this.flushAsync();
    }
    await this.producer.close().catch((err: unknown) => this.log.warn(`Closing the Kafka producer: ${describeKafkaError(err)}`));
  }

  private get component(): string {
    return `${SINK_TYPE} (${this.name})`;
  }

  // ---- synchronous delivery ----

  private async writeSync(batch: readonly ChangeEvent[]): Promise<void> {
    let progress = this.progress.get(batch);
    if (progress === undefined || !isProgressOf(progress, batch)) {
      progress = prepareBatch(this.encoding, batch);
      this.progress.set(batch, progress);
    }
    try {
      if (this.exactlyOnce !== undefined) await this.exactlyOnce.deliver(progress, batch);
      else await this.deliver(progress);
    } catch (err) {
      this.metrics.counts.errors++;
      const failure = this.asStreamerError(err);
      if (!failure.retryable) {
        this.progress.delete(batch);
        this.fatal = failure.message;
        this.metrics.countFailedEvents(progress.pending);
      } else {
        this.problem = failure.message;
      }
      throw failure;
    }
    this.progress.delete(batch);
    this.metrics.recordDelivered(progress.routed);
    this.healthy();
  }

  /**
   * Sends every pending message of a batch, or throws (retryable or permanent) with the rest still
   * pending. A retryable failure is tried again up to `maxAttempts` times (100 ms, 200 ms, ... 1 s
   * apart, as the original), re-sending only the partitions that were not acknowledged.
   */
  private async deliver(p: BatchProgress): Promise<void> {
    let attempt = 1;
    for (;;) {
      try {
        await this.partitions.assign(p.pending);
        if (p.pending.length === 0) return;
        const chunk = takeChunk(p.pending, { maxMessages: this.settings.batchSize, maxBytes: MAX_PARTITION_REQUEST_BYTES, single: p.single });
        const before = p.pending.length;
        await this.produce(p, chunk);
        if (p.pending.length < before) attempt = 1;
      } catch (err) {
        if (!(err instanceof StreamerError) || !err.retryable || attempt >= this.settings.maxAttempts || this.closed) throw err;
        this.log.debug(`Attempt ${attempt} of ${this.settings.maxAttempts} failed, retrying: ${err.message}`);
        // Leaders may have moved: ask the brokers again rather than trust the cached metadata.
        this.producer.clearMetadata();
        await Bun.sleep(retryDelayMs(attempt));
        attempt++;
      }
    }
  }

  /**
   * One produce request (one per partition leader); acknowledged messages leave `p.pending`, failures
   * are sorted out. In a transaction (`txn`), the batches carry its producer fields, and messages
   * replaced by dead-letter copies are noted in `replaced`.
   */
  private async produce(p: BatchProgress, chunk: OutMessage[], txn?: TransactionalProducer, replaced?: Map<OutMessage, OutMessage>): Promise<void> {
    const started = performance.now();
    const failed = this.settings.idempotent && txn === undefined ? await sendThroughLibrary(this.sender, chunk) : await sendBatches(this.sender, chunk, txn);
    this.metrics.recordProduce(started, failed === undefined ? [] : new Set([...failed.values()].map((f) => f.code)));
    const { acked, diverted, retry, fatal } = settleChunk(p, chunk, failed);
    this.metrics.recordAcked(acked);
    if (fatal !== undefined) {
      throw permanentError(`the brokers refuse this sink's settings: ${fatal.message}; check compression and requiredAcks`, { component: this.component });
    }
    for (const [message, reason] of diverted) {
      const copy = this.deadLetters.divert(p.pending, message, reason);
      replaced?.set(message, copy);
    }
    if (retry !== undefined) {
      throw new StreamerError('SINK_WRITE', `cannot write ${p.pending.length} message(s) to Kafka ${this.settings.hosts}: ${retry.message}`, {
        component: this.component, cause: retry, explainsCause: true,
      });
    }
    // In a transaction a partial failure aborts the whole of it (exactly-once.ts sends it again).
    if (txn !== undefined && diverted.length > 0) {
      throw new StreamerError('SINK_WRITE', `${diverted.length} message(s) go to the dead-letter topic: the transaction starts again`, { component: this.component });
    }
  }

  // ---- asynchronous delivery (fire and forget) ----

  private async enqueue(batch: readonly ChangeEvent[]): Promise<void> {
    const { pending } = prepareBatch(this.encoding, batch);
    for (const message of pending) {
      this.asyncQueue.push(message);
      this.asyncBytes += message.bytes;
    }
    if (this.asyncBytes >= ASYNC_MAX_QUEUED_BYTES) {
      await this.flushAsync(); // back-pressure: memory stays bounded even when the brokers are slow
    } else if (this.asyncQueue.length >= this.settings.batchSize) {
      void this.flushAsync();
    } else {
      this.asyncTimer ??= setTimeout(() => {
        this.asyncTimer = undefined;
        void this.flushAsync();
      }, this.settings.batchTimeoutMs);
    }
  }

  /** Sends what is queued; flushes run one after another, so order is kept. Never rejects. */
  private flushAsync(): Promise<void> {
    this.asyncChain = this.asyncChain.then(async () => {
      if (this.asyncQueue.length === 0) return;
      clearTimeout(this.asyncTimer);
      this.asyncTimer = undefined;
      const messages = this.asyncQueue;
      this.asyncQueue = [];
      this.asyncBytes = 0;
      const progress: BatchProgress = { pending: messages, routed: [], single: new Set(), size: messages.length, firstUuid: undefined };
      try {
        await this.deliver(progress);
        this.metrics.recordDelivered(messages.map((m) => m.event));
        this.healthy();
      } catch (err) {
        this.metrics.counts.errors++;
        const lost = progress.pending;
        this.metrics.countFailedEvents(lost);
        this.problem = `async mode: ${lost.length} message(s) lost: ${this.asStreamerError(err).message}`;
        this.log.error(`${this.problem} (async = true does not retry; set async = false to never lose data)`);
      }
    });
    return this.asyncChain;
  }

  // ---- health ----

  private healthy(): void {
    if (this.problem !== null) this.log.info('Writing to Kafka works again');
    this.problem = null;
    this.connect.succeeded();
    clearTimeout(this.probeTimer);
  }

  /** Startup check that the brokers answer; repeated while they do not. */
  private async probe(): Promise<void> {
    if (this.closed) return;
    try {
      const metadata = await this.deadline(this.producer.metadata({ topics: [] }), 'metadata');
      if (this.connect.failedAttempts > 0) this.log.info(`Kafka brokers ${this.settings.hosts} reachable again`);
      this.log.debug(`Connected to Kafka cluster ${metadata.id} (${metadata.brokers.size} broker(s))`);
      this.connect.succeeded();
    } catch (err) {
      // A write that worked meanwhile proved more than this probe can.
      if (this.closed || this.connect.isConnected) return;
      const reason = describeKafkaError(err);
      // "cannot reach broker H:P: ..." already names the broker; anything else gets the brokers asked.
      const problem = /^cannot reach broker /.test(reason) || reason.includes(this.settings.hosts) ? reason : `no metadata from the Kafka brokers ${this.settings.hosts}: ${reason}`;
      if (this.connect.failedAttempts === 0) this.log.error(`${problem}; retrying every ${PROBE_INTERVAL_MS / 1000}s`);
      this.connect.failed(problem, PROBE_INTERVAL_MS);
      this.probeTimer = setTimeout(() => void this.probe(), PROBE_INTERVAL_MS);
    }
  }

  /** A client call that settles within deadlineMs: one that never answers fails as a retryable timeout (withDeadline()). */
  private deadline<T>(call: Promise<T>, what: string): Promise<T> {
    return withDeadline(call, this.deadlineMs, () =>
      new StreamerError('SINK_WRITE', `no answer from Kafka ${this.settings.hosts} for ${what} within ${this.deadlineMs / 1000}s`, { component: this.component }));
  }

  private asStreamerError(err: unknown): StreamerError {
    if (err instanceof StreamerError) return err;
    return new StreamerError('SINK_WRITE', `cannot write to Kafka ${this.settings.hosts}: ${describeKafkaError(err)}`, { component: this.component, cause: err, explainsCause: true });
  }
}

/** Builds and starts a Kafka sink (called by spec.ts's `create`). */
export async function createKafkaSink(name: string, options: KafkaSinkOptions, deps: Pick<ComponentDeps, 'log' | 'metrics'>): Promise<Sink> {
  const sink = new KafkaSink(name, options, deps.log, deps.metrics);
  sink.start();
  return sink;
}
