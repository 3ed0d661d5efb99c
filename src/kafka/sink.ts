/**
 * The Kafka sink (docs/kafka.md): events → passthrough JSON messages → topics, acknowledged by the
 * brokers before `write` resolves. Loaded lazily by sink-spec.ts, so @platformatic/kafka is only
 * imported when a Kafka sink is configured.
 *
 * One `write(batch)`:
 * 1. route and encode every event once (cached per batch, so a retry of the same batch re-encodes
 *    nothing and skips what the brokers already acknowledged);
 * 2. look up each topic's partition count (the client's metadata cache, refreshed every
 *    `rebalanceInterval`) and assign partitions by key (murmur2 or fnv1a; round-robin without key);
 * 3. send produce requests of at most `batchSize` messages / 1 MB per partition, one after the other
 *    (usually a single request), each resolving only when the brokers acknowledged per `requiredAcks`;
 * 4. messages that can never be written (too large, unknown or invalid topic, refused record) go to
 *    `deadLetterTopic` with error headers, or fail the batch with a non-retryable error that stops the
 *    pipeline; anything else (broker down, leader moving, timeouts) fails it with a retryable error,
 *    and the pipeline retries the same batch with backoff.
 */
import { Producer } from '@platformatic/kafka';
import type { ComponentDeps } from '../core/component-type.ts';
import { StreamerError, describeError, permanentError } from '../core/errors.ts';
import type { ChangeEvent } from '../core/event.ts';
import type { Logger } from '../core/logger.ts';
import { encodePassthrough } from '../core/passthrough.ts';
import {
  kafkaSinkBytes,
  kafkaSinkDeadLettered,
  kafkaSinkMessages,
  kafkaSinkProduceErrors,
  kafkaSinkProduceSeconds,
  kafkaSinkUnroutedEvents,
  sinkErrors,
  sinkEventProcessingTime,
} from '../http/metrics.ts';
import { countSinkEvents } from '../sinks/count-events.ts';
import type { Sink } from '../sinks/sink.ts';
import { describeKafkaError, kafkaConnectionOptions } from './client-options.ts';
import { eventHeaders, lsnText } from './headers.ts';
import { originalKey, qualifiedTable, rowKey, type KeyMode } from './message-key.ts';
import { partitionerFor, type PartitionerName } from './partitioner.ts';
import { TopicRouter, invalidTopicReason } from './routing.ts';
import type { KafkaSinkOptions } from './sink-spec.ts';
import {
  deadLetterMessage,
  dropValue,
  outMessage,
  partitionKey,
  takeChunk,
  type OutMessage,
  type Undeliverable,
} from './sink-message.ts';
import { produceOutcome, type PartitionFailure } from './sink-outcome.ts';

const SINK_TYPE = 'Sink-Kafka';

/** Bytes per partition in one produce request: below the brokers' default message.max.bytes (1 MiB + 12). */
const MAX_PARTITION_REQUEST_BYTES = 1_000_000;
/** A topic the brokers keep calling unknown for this long is treated as missing for good (auto-create off). */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;
/** How long a "missing topic" verdict is kept before the brokers are asked again. */
const MISSING_TOPIC_RECHECK_MS = 15_000;
/** Async mode: queued bytes above which `write` waits for a flush (memory stays bounded). */
const ASYNC_MAX_QUEUED_BYTES = 32 * 2 ** 20;
/** While the brokers cannot be reached at startup, how often to try again. */
const PROBE_INTERVAL_MS = 5_000;

/** What the sink uses of the Kafka client. */
export type KafkaProducer = Pick<Producer<Buffer, Buffer, Buffer, Buffer>, 'send' | 'metadata' | 'clearMetadata' | 'close'>;

/** What one batch has left to do; kept between retries of the same batch. */
interface BatchProgress {
  /** Messages not yet acknowledged, in batch order (dead-letter copies take their original's place). */
  pending: OutMessage[];
  /** Events that had a topic (for sink_events once delivered). */
  routed: ChangeEvent[];
  /** Partitions whose messages go one per request, to find the one the broker refuses. */
  single: Set<string>;
  /** To recognise the same batch again: its length and first UUID. */
  size: number;
  firstUuid: string | undefined;
}

interface TopicVerdict {
  missing: Undeliverable;
  until: number;
}

/** The sink's knobs, from its resolved config keys. */
interface Settings {
  acks: number;
  async: boolean;
  batchSize: number;
  batchTimeoutMs: number;
  keyMode: KeyMode;
  maxAttempts: number;
  deadLetterTopic: string | undefined;
  hosts: string;
}

export class KafkaSink implements Sink {
  readonly type = SINK_TYPE;

  private readonly producer: KafkaProducer;
  private readonly router: TopicRouter;
  private readonly partitionOf: (key: Uint8Array, partitions: number) => number;
  private readonly settings: Settings;
  /** Longest a client call may take before the sink gives up on it (deadline()). */
  private readonly deadlineMs: number;
  private readonly progress = new WeakMap<readonly ChangeEvent[], BatchProgress>();
  private readonly unknownSince = new Map<string, number>();
  private readonly missingTopics = new Map<string, TopicVerdict>();
  private readonly roundRobin = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly encodeTimers = new Map<string, ReturnType<typeof sinkEventProcessingTime.labels>>();
  private readonly produceSeconds: ReturnType<typeof kafkaSinkProduceSeconds.labels>;
  private lastOriginalKey = '';
  private lastOriginalKeyBytes: Buffer | undefined;
  private lastTimerTable: string | undefined;
  private lastTimer: ReturnType<typeof sinkEventProcessingTime.labels> | undefined;
  /** Per topic, `partitionKey(topic, p)` for every partition p (grown as partition counts grow). */
  private readonly partitionKeys = new Map<string, string[]>();

  private readonly counts = { total: 0, noTopic: 0, skipped: 0, errors: 0, sent: 0, handled: 0, deadLettered: 0 };
  /** Why the last write failed (retryable); cleared by the next success. */
  private problem: string | null = null;
  /** Why the sink stopped for good. */
  private fatal: string | null = null;
  /** Startup connectivity problem; cleared once the brokers answer. */
  private probeProblem: string | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  private asyncQueue: OutMessage[] = [];
  private asyncBytes = 0;
  private asyncTimer: ReturnType<typeof setTimeout> | undefined;
  private asyncChain: Promise<void> = Promise.resolve();

  /** @param testing a client to use instead of a new @platformatic/kafka Producer, a shorter deadline (tests). */
  constructor(readonly name: string, options: KafkaSinkOptions, private readonly log: Logger, testing: { producer?: KafkaProducer; deadlineMs?: number } = {}) {
    this.router = new TopicRouter(options.tableTopicMapping, options.topicFallback);
    this.produceSeconds = kafkaSinkProduceSeconds.labels({ sinkName: name });
    this.partitionOf = partitionerFor(options.partitioner as PartitionerName);
    this.settings = {
      acks: options.requiredAcks,
      async: options.async,
      batchSize: options.batchSize,
      batchTimeoutMs: options.batchTimeout,
      keyMode: options.key as KeyMode,
      maxAttempts: options.maxAttempts,
      deadLetterTopic: options.deadLetterTopic,
      hosts: options.hosts.join(','),
    };
    const requestTimeoutMs = Math.max(2 * options.timeout, options.timeout + 1000);
    const clientRetries = options.idempotent ? Math.max(2, options.maxAttempts - 1) : 0;
    // Each attempt: connect, metadata, produce; plus the client's retry delays and some slack.
    this.deadlineMs = testing.deadlineMs ?? (clientRetries + 1) * (options.timeout + 2 * requestTimeoutMs) + clientRetries * 1000 + 5000;
    this.producer = testing.producer ?? new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...kafkaConnectionOptions(options, { connectTimeoutMs: options.timeout, requestTimeoutMs }),
      timeout: options.timeout,
      // The client's own retries re-send a whole broker request, partitions already acknowledged
      // included (duplicates); the sink retries only the partitions that failed (deliver()). An
      // idempotent producer's re-sends are deduplicated by the broker, so it may retry inside.
      retries: clientRetries,
      retryDelay: (_client, _operation, attempt) => retryDelayMs(attempt),
      repeatOnStaleMetadata: false,
      metadataMaxAge: options.rebalanceInterval,
      autocreateTopics: true,
      acks: options.requiredAcks,
      compression: options.compression as 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd',
      idempotent: options.idempotent,
    });
  }

  /** Logs the setup and checks in the background that the brokers answer (status shows it if not). */
  start(): void {
    const s = this.settings;
    this.log.info(
      `Writing to Kafka ${s.hosts} (requiredAcks ${s.acks}, key ${s.keyMode}, ${s.async ? 'ASYNC: delivery is not confirmed, data can be lost' : 'synchronous'}` +
        `${s.deadLetterTopic ? `, dead-letter topic "${s.deadLetterTopic}"` : ''})`,
    );
    void this.probe();
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
    const c = this.counts;
    return `total: ${c.total}, no topic: ${c.noTopic}, skipped: ${c.skipped}, errors: ${c.errors}, kafka msgs sent: ${c.sent}, ` +
      `handlers: [passthrough: events: ${c.handled}], dead-lettered: ${c.deadLettered}`;
  }

  status(): string | null {
    return this.fatal ?? this.problem ?? this.probeProblem;
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    await Promise.allSettled([...this.inflight]);
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
    if (progress === undefined || progress.size !== batch.length || progress.firstUuid !== batch[0]?.uuid) {
      progress = this.prepare(batch);
      this.progress.set(batch, progress);
    }
    try {
      await this.deliver(progress);
    } catch (err) {
      this.counts.errors++;
      const failure = this.asStreamerError(err);
      if (!failure.retryable) {
        this.progress.delete(batch);
        this.fatal = failure.message;
        this.countFailedEvents(progress.pending);
      } else {
        this.problem = failure.message;
      }
      throw failure;
    }
    this.progress.delete(batch);
    countSinkEvents(this.name, SINK_TYPE, progress.routed);
    this.healthy();
  }

  /** Routes and encodes a batch: one message per event that has a topic. */
  private prepare(batch: readonly ChangeEvent[]): BatchProgress {
    const pending: OutMessage[] = [];
    const routed: ChangeEvent[] = [];
    for (const event of batch) {
      this.counts.total++;
      const topic = this.router.topicFor(event.schema, event.table);
      if (topic === undefined) {
        this.counts.noTopic++;
        kafkaSinkUnroutedEvents.inc({ sinkName: this.name, table: event.table });
        if (this.log.debugEnabled) this.log.debug(`[${event.uuid}]: No topic found for ${qualifiedTable(event)}, skipping`);
        continue;
      }
      pending.push(this.encode(event, topic));
      routed.push(event);
    }
    return { pending, routed, single: new Set(), size: batch.length, firstUuid: batch[0]?.uuid };
  }

  private encode(event: ChangeEvent, topic: string): OutMessage {
    const started = performance.now();
    let message: OutMessage;
    try {
      message = outMessage(event, topic, this.keyBytes(event), utf8(encodePassthrough(event)), eventHeaders(event));
      this.counts.handled++;
    } catch (err) {
      message = outMessage(event, topic, undefined, undefined, eventHeaders(event), {
        code: 'ENCODING_FAILED', message: `the event cannot be encoded: ${describeError(err)}`,
      });
    }
    const seconds = (performance.now() - started) / 1000;
    this.encodeTimer(event.table).observe(seconds);
    if (this.log.verboseEnabled) {
      this.log.verboseEvent(event.uuid, `Event (${qualifiedTable(event)} ${event.action} → ${topic}): ${seconds.toFixed(4)}`);
    }
    return message;
  }

  /** The UTF-8 key of an event's message; `original` keys repeat from event to event, so their bytes are shared. */
  private keyBytes(event: ChangeEvent): Buffer | undefined {
    const mode = this.settings.keyMode;
    if (mode === 'row') return utf8(rowKey(event));
    if (mode === 'none') return undefined;
    const key = originalKey(event);
    if (key !== this.lastOriginalKey) {
      this.lastOriginalKey = key;
      this.lastOriginalKeyBytes = utf8(key);
    }
    return this.lastOriginalKeyBytes;
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
        await this.assignPartitions(p);
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

  /** Gives every unassigned pending message its partition, or its dead-letter copy when its topic can never take it. */
  private async assignPartitions(p: BatchProgress): Promise<void> {
    const byTopic = new Map<string, OutMessage[]>();
    for (const message of p.pending) {
      if (message.partition >= 0) continue;
      if (message.undeliverable) {
        this.divert(p, message, message.undeliverable);
        continue;
      }
      const list = byTopic.get(message.topic);
      if (list === undefined) byTopic.set(message.topic, [message]);
      else list.push(message);
    }
    for (const [topic, messages] of byTopic) {
      const partitions = await this.partitionCount(topic);
      if (typeof partitions !== 'number') {
        for (const message of messages) this.divert(p, message, partitions);
        continue;
      }
      const keys = this.partitionKeysOf(topic, partitions);
      const partitionOf = this.partitionOf;
      let next = this.roundRobin.get(topic) ?? 0;
      for (const message of messages) {
        let partition: number;
        if (message.key !== undefined) {
          partition = partitionOf(message.key, partitions);
        } else {
          partition = next % partitions;
          next = (next + 1) % partitions;
        }
        message.partition = partition;
        message.partitionKey = keys[partition] as string;
      }
      this.roundRobin.set(topic, next);
    }
    // Dead-letter copies created above still need a partition.
    if (p.pending.some((m) => m.partition < 0)) await this.assignPartitions(p);
  }

  /** `partitionKey(topic, p)` for p in 0 .. partitions - 1. */
  private partitionKeysOf(topic: string, partitions: number): string[] {
    let keys = this.partitionKeys.get(topic);
    if (keys === undefined) this.partitionKeys.set(topic, (keys = []));
    for (let p = keys.length; p < partitions; p++) keys.push(partitionKey(topic, p));
    return keys;
  }

  /** Partition count of a topic, or why it can never be written to. Throws a retryable error while unsure. */
  private async partitionCount(topic: string): Promise<number | Undeliverable> {
    const invalid = invalidTopicReason(topic);
    if (invalid !== undefined) return { code: 'INVALID_TOPIC', message: invalid };
    const verdict = this.missingTopics.get(topic);
    if (verdict !== undefined && verdict.until > Date.now()) return verdict.missing;
    try {
      const metadata = await this.deadline(this.producer.metadata({ topics: [topic] }), `metadata of topic "${topic}"`);
      const described = metadata.topics.get(topic);
      if (described === undefined || described.partitionsCount === 0) {
        throw new StreamerError('SINK_WRITE', `the brokers returned no partitions for topic "${topic}"`, { component: this.component });
      }
      this.unknownSince.delete(topic);
      this.missingTopics.delete(topic);
      return described.partitionsCount;
    } catch (err) {
      if (err instanceof StreamerError) throw err;
      if (findKafkaError(err, (e) => e.apiId === 'INVALID_TOPIC_EXCEPTION')) {
        return { code: 'INVALID_TOPIC', message: `the brokers refuse the topic name "${topic}" [INVALID_TOPIC_EXCEPTION]` };
      }
      if (findKafkaError(err, (e) => e.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' || /^Unknown topic/.test(e.message ?? ''))) {
        const now = Date.now();
        const since = this.unknownSince.get(topic) ?? now;
        this.unknownSince.set(topic, since);
        if (now - since >= UNKNOWN_TOPIC_GRACE_MS) {
          const missing = { code: 'UNKNOWN_TOPIC', message: `topic "${topic}" does not exist and the brokers do not create it` };
          this.missingTopics.set(topic, { missing, until: now + MISSING_TOPIC_RECHECK_MS });
          return missing;
        }
        throw new StreamerError('SINK_WRITE', `topic "${topic}" does not exist (yet); still missing after ${UNKNOWN_TOPIC_GRACE_MS / 1000}s it counts as undeliverable`, {
          component: this.component, cause: err,
        });
      }
      kafkaSinkProduceErrors.inc({ sinkName: this.name, error: 'METADATA' });
      throw new StreamerError('SINK_WRITE', `cannot get metadata of topic "${topic}" from ${this.settings.hosts}: ${describeKafkaError(err)}`, {
        component: this.component, cause: err,
      });
    }
  }

  /**
   * Replaces a message that can never be written to its topic by its dead-letter copy (in place, so
   * order is kept), or throws the permanent error that stops the pipeline.
   */
  private divert(p: BatchProgress, message: OutMessage, reason: Undeliverable): void {
    const dlq = this.settings.deadLetterTopic;
    const original = message.deadLetterOf;
    if (original !== undefined) {
      if (reason.code === 'MESSAGE_TOO_LARGE' && message.value !== undefined) {
        this.log.warn(`Dead-letter topic "${message.topic}" refuses the ${message.value.length}-byte value too; writing the dead-letter message without value`);
        dropValue(message);
        return;
      }
      throw permanentError(
        `cannot write to the dead-letter topic "${message.topic}": ${reason.message}; the message for ${describeMessage(original)} ` +
          `was diverted from topic "${original.topic}" because ${original.deadLetterReason?.message ?? 'it could not be written'}`,
        { component: this.component },
      );
    }
    if (dlq === undefined) throw permanentError(explainUndeliverable(message, reason), { component: this.component });
    const copy = deadLetterMessage(message, reason, dlq);
    message.deadLetterReason = reason;
    const index = p.pending.indexOf(message);
    if (index >= 0) p.pending[index] = copy;
    this.log.warn(`Message for ${describeMessage(message)} goes to dead-letter topic "${dlq}" instead of "${message.topic}": ${reason.message}`);
  }

  /** One produce request; acknowledged messages leave `p.pending`, failures are sorted out. */
  private async produce(p: BatchProgress, chunk: OutMessage[]): Promise<void> {
    const started = performance.now();
    let failed: Map<string, PartitionFailure> | undefined;
    try {
      await this.deadline(this.producer.send({
        // The messages as they are: the client reads topic, partition, key, value and headers (and
        // timestamp and metadata, which they lack) and copies them into its own records.
        messages: chunk,
        // Per send: @platformatic/kafka 2.12 ignores the producer-level `acks` and defaults to 1 (leader only).
        acks: this.settings.acks,
        repeatOnStaleMetadata: false,
      }), `a produce request of ${chunk.length} message(s)`);
    } catch (err) {
      const partitions = new Set(chunk.map((m) => m.partitionKey));
      failed = produceOutcome(err, partitions).failed;
      const codes = new Set([...failed.values()].map((f) => f.code));
      for (const code of codes) kafkaSinkProduceErrors.inc({ sinkName: this.name, error: code });
    }
    this.produceSeconds.observe((performance.now() - started) / 1000);
    if (failed === undefined && chunk.length === p.pending.length) {
      // The usual case: the whole batch in one request, acknowledged.
      p.pending = [];
      this.recordAcked(chunk);
      return;
    }
    if (failed === undefined) {
      // All acknowledged, the batch sent in several requests: the chunk is taken from the pending
      // messages in order (takeChunk), so one walk leaves the rest.
      const rest: OutMessage[] = [];
      let next = 0;
      for (const message of p.pending) {
        if (message === chunk[next]) next++;
        else rest.push(message);
      }
      if (next === chunk.length) {
        p.pending = rest;
        this.recordAcked(chunk);
        return;
      }
    }

    const inChunk = new Set(chunk);
    const perPartition = new Map<string, number>();
    for (const m of chunk) {
      const key = m.partitionKey;
      perPartition.set(key, (perPartition.get(key) ?? 0) + 1);
    }
    const acked: OutMessage[] = [];
    const stillPending: OutMessage[] = [];
    const diverted: Array<[OutMessage, Undeliverable]> = [];
    let retry: PartitionFailure | undefined;
    let fatal: PartitionFailure | undefined;
    for (const message of p.pending) {
      if (!inChunk.has(message)) {
        stillPending.push(message);
        continue;
      }
      const key = message.partitionKey;
      const failure = failed?.get(key);
      if (failure === undefined) {
        acked.push(message);
        continue;
      }
      stillPending.push(message);
      if (failure.kind === 'tooLarge' && (perPartition.get(key) ?? 0) > 1) {
        p.single.add(key); // several messages: find the one the broker refuses, one request each
      } else if (failure.kind === 'tooLarge') {
        diverted.push([message, { code: 'MESSAGE_TOO_LARGE', message: `${message.bytes} bytes is too large for topic "${message.topic}": ${failure.message}` }]);
      } else if (failure.kind === 'undeliverable') {
        diverted.push([message, { code: failure.code, message: failure.message }]);
      } else if (failure.kind === 'fatal') {
        fatal ??= failure;
      } else {
        retry ??= failure;
      }
    }
    p.pending = stillPending;
    this.recordAcked(acked);
    if (fatal !== undefined) {
      throw permanentError(`the brokers refuse this sink's settings: ${fatal.message}; check compression and requiredAcks`, { component: this.component });
    }
    for (const [message, reason] of diverted) this.divert(p, message, reason);
    if (retry !== undefined) {
      throw new StreamerError('SINK_WRITE', `cannot write ${p.pending.length} message(s) to Kafka ${this.settings.hosts}: ${retry.message}`, {
        component: this.component,
      });
    }
  }

  private recordAcked(acked: readonly OutMessage[]): void {
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
        kafkaSinkDeadLettered.inc({ sinkName: this.name, topic: original.topic, reason: original.deadLetterReason?.code ?? 'UNKNOWN' });
      }
    }
    addRun();
    for (const [topic, t] of perTopic) {
      kafkaSinkMessages.inc({ sinkName: this.name, topic }, t.messages);
      kafkaSinkBytes.inc({ sinkName: this.name, topic }, t.bytes);
    }
  }

  // ---- asynchronous delivery (fire and forget) ----

  private async enqueue(batch: readonly ChangeEvent[]): Promise<void> {
    const { pending } = this.prepare(batch);
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
        countSinkEvents(this.name, SINK_TYPE, messages.map((m) => m.event));
        this.healthy();
      } catch (err) {
        this.counts.errors++;
        const lost = progress.pending;
        this.countFailedEvents(lost);
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
    this.probeProblem = null;
    clearTimeout(this.probeTimer);
  }

  /** Startup check that the brokers answer; repeated while they do not. */
  private async probe(): Promise<void> {
    if (this.closed) return;
    try {
      const metadata = await this.deadline(this.producer.metadata({ topics: [] }), 'metadata');
      if (this.probeProblem !== null) this.log.info(`Kafka brokers ${this.settings.hosts} reachable again`);
      this.log.debug(`Connected to Kafka cluster ${metadata.id} (${metadata.brokers.size} broker(s))`);
      this.probeProblem = null;
    } catch (err) {
      if (this.closed) return;
      const problem = `cannot reach the Kafka brokers ${this.settings.hosts}: ${describeKafkaError(err)}`;
      if (this.probeProblem === null) this.log.error(`${problem}; retrying every ${PROBE_INTERVAL_MS / 1000}s`);
      this.probeProblem = problem;
      this.probeTimer = setTimeout(() => void this.probe(), PROBE_INTERVAL_MS);
    }
  }

  /**
   * Settles within deadlineMs, whatever the client does: a call the client never settles (it happens
   * when a connection fails in an unexpected way) fails as a timeout instead of holding the pipeline
   * forever without a word. The abandoned call may still complete: at worst a duplicate.
   */
  private deadline<T>(call: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new StreamerError('SINK_WRITE', `no answer from Kafka ${this.settings.hosts} for ${what} within ${this.deadlineMs / 1000}s`, { component: this.component }));
      }, this.deadlineMs);
    });
    return Promise.race([call, expired]).finally(() => clearTimeout(timer));
  }

  private asStreamerError(err: unknown): StreamerError {
    if (err instanceof StreamerError) return err;
    return new StreamerError('SINK_WRITE', `cannot write to Kafka ${this.settings.hosts}: ${describeKafkaError(err)}`, { component: this.component, cause: err });
  }

  private countFailedEvents(messages: readonly OutMessage[]): void {
    const perTable = new Map<string, number>();
    for (const m of messages) perTable.set(m.event.table, (perTable.get(m.event.table) ?? 0) + 1);
    for (const [table, n] of perTable) sinkErrors.inc({ sinkName: this.name, sinkType: SINK_TYPE, table }, n);
  }

  private encodeTimer(table: string) {
    if (table === this.lastTimerTable && this.lastTimer !== undefined) return this.lastTimer;
    let timer = this.encodeTimers.get(table);
    if (timer === undefined) {
      timer = sinkEventProcessingTime.labels({ sinkName: this.name, sinkType: SINK_TYPE, table });
      this.encodeTimers.set(table, timer);
    }
    this.lastTimerTable = table;
    this.lastTimer = timer;
    return timer;
  }
}

/** UTF-8 bytes of a string; measured faster than Buffer.from for the event JSON (a concatenated string) in Bun 1.4. */
function utf8(text: string): Buffer {
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

/** Wait before retry `attempt` (1-based): 100 ms doubling up to 1 s, the original's kafka-go backoff. */
function retryDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 1000);
}

/** `public.users (LSN 0/16B3748)` */
function describeMessage(message: OutMessage): string {
  return `${qualifiedTable(message.event)} ${message.event.action} (LSN ${lsnText(message.event.commitLsn ?? message.event.lsn)}, UUID ${message.event.uuid})`;
}

/** The permanent error for a message that cannot be written and has nowhere else to go: what, why, how to fix. */
function explainUndeliverable(message: OutMessage, reason: Undeliverable): string {
  const what = `cannot write the message for ${describeMessage(message)} to topic "${message.topic}"`;
  const divert = 'or set deadLetterTopic to divert such messages';
  switch (reason.code) {
    case 'MESSAGE_TOO_LARGE':
      return `${what}: ${reason.message}. Raise the topic's max.message.bytes (and the brokers' message.max.bytes), ${divert}`;
    case 'UNKNOWN_TOPIC':
      return `${what}: ${reason.message}. Create the topic (or enable auto.create.topics.enable on the brokers), fix tableTopicMapping/topicFallback, ${divert}`;
    case 'INVALID_TOPIC':
    case 'INVALID_TOPIC_EXCEPTION':
      return `${what}: ${reason.message}. Fix tableTopicMapping/topicFallback`;
    default:
      return `${what}: ${reason.message}. ${divert.charAt(0).toUpperCase()}${divert.slice(1)}`;
  }
}

interface KafkaErrorShape {
  message?: string;
  apiId?: string;
  errors?: unknown[];
}

/** Whether an error of the library, or any error nested in it, matches. */
function findKafkaError(err: unknown, match: (e: KafkaErrorShape) => boolean, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as KafkaErrorShape;
  if (match(e)) return true;
  return (e.errors ?? []).some((inner) => findKafkaError(inner, match, depth + 1));
}

/** Builds and starts a Kafka sink (called by sink-spec.ts's `create`). */
export async function createKafkaSink(name: string, options: KafkaSinkOptions, deps: Pick<ComponentDeps, 'log'>): Promise<Sink> {
  const sink = new KafkaSink(name, options, deps.log);
  sink.start();
  return sink;
}
