/**
 * `type = "kafka"` source (docs/kafka.md): reads psql-streamer events (ours or the original's)
 * from `topics` as consumer group `groupID` and hands them to the pipeline; offsets are committed
 * only after every sink delivered everything before them. Loaded lazily by spec.ts.
 *
 * - One consumer: the group assigns it partitions (shared with other members of the group), fetched
 *   in parallel; a new group starts at the earliest offset.
 * - Every message is pushed with its position `{topic, partition, offset}`; a malformed one as a
 *   bare position (after its copy to `deadLetterTopic` was started), so its offset is committed in
 *   order with the good messages around it, never ahead of them.
 * - Every event carries its `origin` (topic, partition, offset, the group generation it was read
 *   under, and one KafkaGroupRef shared by all events of this source, answering the current
 *   assignment's generation and member id and whether a partition was owned without a break since
 *   a generation), so an exactly-once Kafka sink can commit the offsets in its own transaction and
 *   leave out events of partitions that moved (docs/kafka.md, "Relays").
 * - `isolation`: read_committed (the default) reads only records of committed Kafka transactions
 *   (and all non-transactional ones; read-committed.ts completes the client's filter);
 *   read_uncommitted reads aborted ones too.
 * - `ack(positions)` commits, per partition, the highest delivered offset + 1 (offsets.ts), unless an
 *   exactly-once sink commits them in its transactions (the group ref's commitsInTransactions).
 * - Back-pressure: a full pipeline pauses the fetch stream until it drains.
 * - A fetch stream that fails (broker gone, group error) is replaced after a capped backoff; the
 *   group re-reads from its committed offsets and what the pipeline already holds is skipped.
 * - Rebalance: revoked partitions' work still in the pipeline is delivered but not committed; the
 *   new owner re-reads it (at-least-once; an exactly-once sink leaves it out instead).
 * - Committed offsets are fetched with require_stable and retried while a transaction holding
 *   offsets of the group is open, so a new owner starts after what a relay's pending transaction
 *   commits, never before it; answers of fetches sent before a new assignment are dropped, so the
 *   stream re-reads from the committed offsets (stable-offsets.ts).
 */
import type { Message, MessagesStream } from '@platformatic/kafka';
import type { Consumer } from '../../kafka/library/consumer.ts';
import { withTimeout } from '../../core/deadline.ts';
import type { Component } from '../../core/component.ts';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { ChangeEvent, KafkaGroupRef } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { SampledTimer, Tally } from '../../metrics/tally.ts';
import type { Source, SourceOutput } from '../source.ts';
import { describeKafkaError } from '../../kafka/client-options.ts';
import { EventDecoder } from '../../event/decode.ts';
import { OffsetTracker, type KafkaPosition, type TopicPartitions } from './offsets.ts';
import { DeadLetters } from './dead-letters.ts';
import { stableOffsetFetches, type OffsetFetchHooks } from './stable-offsets.ts';
import { ReconnectLoop } from '../reconnect.ts';
import { ConnectStatus } from '../../core/connect-status.ts';
import { watchConnectFailures } from '../../kafka/connect-failures.ts';
import { newConsumer, type KafkaSourceSettings } from './consumer.ts';
import { awaitAssignment, commitOffsets, describeCommits, rebalancing } from './offset-commit.ts';
import { recordCommitted, recordLag, removePartitionSeries, setAssignedPartitions } from './partition-metrics.ts';
import { fetchProblem, UNHEALTHY_AFTER_MS } from './fetch-health.ts';

export const KAFKA_SOURCE_TYPE = 'Source-Kafka';
/** Waits between attempts to get a working fetch stream: 1 s (as the original), doubling up to 30 s. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const LAG_INTERVAL_MS = 5_000;
/** Memory of an event besides its columns, for the pipeline's byte bound (as estimate-bytes.ts). */
const EVENT_OVERHEAD_BYTES = 256;
/** The "held by an open transaction" line at most this often. */
const UNSTABLE_LOG_EVERY_MS = 10_000;
/** Leaving the group on close waits at most this long (an unreachable broker must not hang shutdown). */
const CLOSE_TIMEOUT_MS = 10_000;

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export class KafkaSource implements Source<KafkaPosition>, Component {
  readonly type = KAFKA_SOURCE_TYPE;
  private readonly component: string;
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly offsets = new OffsetTracker();
  private readonly decoder: EventDecoder;
  /** The `origin.group` of every event this source pushes. */
  readonly group: KafkaGroupRef;
  private readonly deadLetters: DeadLetters | undefined;
  /** Committed offsets fetched stable, fetches of an earlier assignment dropped (stable-offsets.ts). */
  private readonly offsetFetches: OffsetFetchHooks;
  private unstableLoggedAt = 0;
  private output: SourceOutput<KafkaPosition> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private started = false;
  /** Replaces a failed fetch stream after a backoff; stopped by stop()/close(). */
  private readonly loop = new ReconnectLoop({ firstMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS });
  private waitingForRoom = false;

  /** Since when fetching has not worked (undefined: the last fetch worked), and why. */
  private failingSince: number | undefined;
  private failure = 'not started';
  /** "connecting: ..." until the first fetch answer, from the first failed connection (docs/operations.md, "Status: connecting"). */
  private readonly connect = new ConnectStatus();
  /** When the running stream last got an answer to a fetch (or started, or resumed). */
  private lastFetchAt = 0;

  private readonly counts = { events: 0, errors: 0, fetchErrors: 0, malformed: 0, commitErrors: 0, duplicates: 0, notOwned: 0 };
  /** Per-event metrics, counted in plain numbers and added when scraped, times sampled (metrics/tally.ts). */
  private readonly events: Tally<'sourceName' | 'sourceType' | 'table'>;
  private readonly eventTimes: SampledTimer<'sourceName' | 'sourceType' | 'table'>;
  private readonly messages: Tally<'sourceName' | 'topic'>;

  constructor(
    readonly name: string,
    private readonly settings: KafkaSourceSettings,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.component = `${KAFKA_SOURCE_TYPE} (${name})`;
    const eventLabels = (table: string) => ({ sourceName: name, sourceType: KAFKA_SOURCE_TYPE, table });
    this.events = new Tally(metrics, metrics.sourceEvents, eventLabels);
    this.eventTimes = new SampledTimer(metrics.sourceEventProcessingTime, eventLabels);
    this.messages = new Tally(metrics, metrics.kafkaSourceMessages, (topic) => ({ sourceName: name, topic }));
    this.decoder = new EventDecoder(name);
    this.consumer = newConsumer(settings);
    this.group = this.offsets.groupRef(settings.groupId);
    this.offsetFetches = stableOffsetFetches(this.consumer, {
      firstPushed: (topic, partition) => this.offsets.firstPushed(topic, partition),
      waiting: (attempt) => {
        if (attempt !== 1) return;
        // An exactly-once sink of ours may hold them, from a run killed mid-transaction: its
        // producers are initialised now, which ends that transaction (else the brokers time it out).
        void settings.prepareSinks?.();
        // Once per wait, and at most every 10 s (the lag monitor asks for the same offsets).
        const now = Date.now();
        if (now - this.unstableLoggedAt < UNSTABLE_LOG_EVERY_MS) return;
        this.unstableLoggedAt = now;
        this.log.info(`Committed offsets of group "${settings.groupId}" are held by an open transaction (a relay's); asking again until it ends`);
      },
    });
    this.consumer.on('consumer:group:join', (payload) => this.assigned(payload.assignments, payload.generationId, payload.memberId));
    this.consumer.on('consumer:group:leave', () => {
      this.offsets.clear();
      setAssignedPartitions(this.metrics, this.name, 0);
      this.log.info(`Left consumer group "${settings.groupId}"`);
    });
    this.consumer.on('consumer:lag', (lag) => recordLag(this.metrics, this.name, lag));
    // Before the first fetch, a broker that cannot be reached is said at once, not after the client's retries.
    watchConnectFailures(this.consumer, (reason) => {
      if (this.started && !this.connect.hasConnected) this.connect.failed(reason);
    });
    this.consumer.on('consumer:lag:error', (err) => this.log.debug(`Unable to measure the consumer lag: ${describeKafkaError(err)}`));
    if (settings.deadLetterTopic) this.deadLetters = new DeadLetters(settings.deadLetterTopic, name, settings.connection, log, metrics);
  }

  async start(output: SourceOutput<KafkaPosition>): Promise<void> {
    this.output = output;
    this.started = true;
    this.failingSince = Date.now();
    this.failure = `joining consumer group "${this.settings.groupId}"`;
    this.connect.start(`joining consumer group "${this.settings.groupId}" via ${this.settings.connection.bootstrapBrokers.join(',')}`);
    this.log.info(`Consuming ${this.settings.topics.join(', ')} from ${this.settings.connection.bootstrapBrokers.join(',')} as group "${this.settings.groupId}"` +
      `${this.deadLetterNote()}`);
    this.consumer.startLagMonitoring({ topics: this.settings.topics }, LAG_INTERVAL_MS);
    this.run();
  }

  private deadLetterNote(): string {
    return this.deadLetters ? `, malformed messages to "${this.deadLetters.topic}"` : '';
  }

  /** Keeps one fetch stream running until stopped; a failed one is replaced after a backoff (../reconnect.ts). */
  private run(): void {
    this.loop.start({
      attempt: (fetched) => this.fetchStream(fetched),
      ended: () => {
        this.stream = undefined;
        this.waitingForRoom = false;
      },
      failed: (err, waitMs) => {
        this.fetchFailed(err, waitMs);
        return 'backoff';
      },
    });
  }

  /** One fetch stream, until it fails (rejects) or the source stops (resolves). */
  private async fetchStream(fetched: () => void): Promise<void> {
    const stream = await this.consumer.consume({
      topics: this.settings.topics,
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
    });
    if (this.stopping) {
      await stream.close().catch(() => {});
      return;
    }
    await this.drive(stream, fetched);
    if (this.stopping) return;
    throw new StreamerError('SOURCE', 'the fetch stream ended', { component: this.component });
  }

  private get stopping(): boolean {
    return this.loop.stopping;
  }

  /** Runs one fetch stream: resolves when it closes, rejects with the error that ended it. */
  private drive(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, onFetched: () => void): Promise<void> {
    this.stream = stream;
    this.lastFetchAt = Date.now();
    return new Promise((resolve, reject) => {
      let error: unknown;
      stream.on('data', (message: KafkaMessage) => this.onMessage(message));
      stream.on('fetch', () => {
        this.lastFetchAt = Date.now();
        // An error of the same fetch destroys the stream synchronously after this event.
        queueMicrotask(() => {
          if (stream.destroyed) return;
          onFetched();
          this.fetchWorked();
        });
      });
      stream.on('error', (err) => {
        error ??= err;
      });
      stream.on('close', () => (error === undefined ? resolve() : reject(error)));
    });
  }

  private fetchWorked(): void {
    if (!this.connect.isConnected) this.connect.succeeded();
    if (this.failingSince === undefined) return;
    const since = this.failingSince;
    this.failingSince = undefined;
    if (this.counts.fetchErrors > 0) this.log.info(`Fetching again after ${((Date.now() - since) / 1000).toFixed(1)} s`);
  }

  private fetchFailed(err: unknown, retryInMs: number): void {
    this.counts.fetchErrors++;
    this.metrics.kafkaSourceFetchErrors.inc({ sourceName: this.name });
    this.failingSince ??= Date.now();
    this.failure = describeKafkaError(err);
    if (!this.connect.hasConnected) this.connect.failed(this.failure, retryInMs);
    this.log.error(`Unable to fetch (${this.counts.fetchErrors} errors so far), retrying in ${retryInMs} ms: ${this.failure}`);
  }

  private assigned(assignments: readonly TopicPartitions[] | null | undefined, generation: number | undefined, member: string | null | undefined): void {
    // Fetches under way were sent for the old assignment: their answers are dropped, the stream re-reads from the committed offsets.
    this.offsetFetches.assigned();
    const { revoked, added, renewed } = this.offsets.assign(assignments, generation ?? -1, member ?? '');
    setAssignedPartitions(this.metrics, this.name, this.offsets.ownedPartitions().length);
    removePartitionSeries(this.metrics, this.name, revoked);
    if (revoked.length > 0 || added.length > 0 || renewed.length > 0) {
      this.log.info(`Partitions assigned in generation ${generation ?? -1}: ${this.offsets.ownedPartitions().join(', ') || 'none'}` +
        `${revoked.length > 0 ? ` (revoked: ${revoked.join(', ')}; their unacknowledged messages are re-read by their new owner)` : ''}` +
        `${renewed.length > 0 ? ` (owned again after a gap: ${renewed.join(', ')}; re-read from the committed offsets)` : ''}`);
    }
  }

  private onMessage(message: KafkaMessage): void {
    // After stop(), nothing more is pushed: what was fetched but not pushed is not committed either.
    if (this.stopping || !this.output) return;
    const { topic, partition, offset } = message;
    const verdict = this.offsets.accept(topic, partition, offset);
    if (verdict !== 'new') {
      if (verdict === 'duplicate') this.counts.duplicates++;
      else this.counts.notOwned++;
      return;
    }
    this.counts.events++;
    this.messages.add(topic);
    const generation = this.offsets.generation;
    const position: KafkaPosition = { topic, partition, offset, leaderEpoch: message.leaderEpoch ?? -1, generation };
    const started = performance.now();
    let event: ChangeEvent;
    try {
      event = this.decoder.decode(message.value);
    } catch (err) {
      this.malformed(message, position, describeError(err));
      this.push({ position });
      return;
    }
    if (this.log.verboseEnabled) {
      this.log.verboseEvent(event.uuid, `Event [topic ${topic} partition ${partition} offset ${offset}]: ${message.value?.toString() ?? ''}`);
    }
    event.origin = { group: this.group, topic, partition, offset, generation };
    // The JSON's length is a fair estimate of the decoded event's memory, and costs nothing.
    this.push({ event, position, bytes: EVENT_OVERHEAD_BYTES + (message.value?.length ?? 0) });
    this.events.add(event.table);
    this.eventTimes.time(event.table, started);
  }

  private malformed(message: KafkaMessage, position: KafkaPosition, reason: string): void {
    this.counts.malformed++;
    this.counts.errors++;
    this.metrics.kafkaSourceMalformed.inc({ sourceName: this.name, topic: position.topic });
    this.metrics.sourceErrors.inc({ sourceName: this.name, sourceType: KAFKA_SOURCE_TYPE, table: '' });
    const where = `topic ${position.topic} partition ${position.partition} offset ${position.offset}`;
    this.log.warn(`${reason} [${where}]; ${this.deadLetters ? `copied to "${this.deadLetters.topic}"` : 'skipped'}, committed after the messages before it`);
    this.deadLetters?.add(position, { key: message.key, value: message.value, headers: message.headerEntries }, reason);
  }

  private push(item: { event?: ChangeEvent; position: KafkaPosition; bytes?: number }): void {
    const output = this.output as SourceOutput<KafkaPosition>;
    if (output.push(item) || this.waitingForRoom) return;
    // Back-pressure: stop fetching until the pipeline has room; messages already fetched stay in
    // the paused stream's buffer.
    const stream = this.stream;
    if (stream === undefined) return;
    this.waitingForRoom = true;
    stream.pause();
    void output.drained().then(() => {
      if (this.stream !== stream) return;
      this.waitingForRoom = false;
      this.lastFetchAt = Date.now();
      if (!this.stopping) stream.resume();
    });
  }

  /**
   * Everything up to the last of `positions` reached every sink: write the dead letters among
   * them, then commit per partition. A failure is retryable: the pipeline calls again.
   */
  async ack(positions: readonly KafkaPosition[]): Promise<void> {
    await this.deadLetters?.flush(positions);
    // An exactly-once sink committed these offsets in its transactions already (docs/kafka.md, "Relays").
    if (this.offsets.committedByTransactions) return;
    await awaitAssignment(this.consumer, this.offsets, this.loop);
    const { commits, notOwned } = this.offsets.commitsFor(positions);
    if (notOwned > 0) this.log.debug(`${notOwned} delivered message(s) of revoked partitions not committed (their new owner re-reads them)`);
    if (commits.length === 0) return;
    if (rebalancing(this.consumer, this.offsets)) {
      this.log.debug(`Not committing ${commits.length} partition(s) while the group rebalances (generation ${this.offsets.generation} → ${this.consumer.generationId}); the next acknowledgement commits`);
      return;
    }
    try {
      await commitOffsets(this.consumer, commits, this.component);
    } catch (err) {
      this.counts.commitErrors++;
      this.counts.errors++;
      this.metrics.kafkaSourceCommitErrors.inc({ sourceName: this.name });
      throw err;
    }
    this.offsets.markCommitted(commits);
    recordCommitted(this.metrics, this.name, commits);
    if (this.log.debugEnabled) this.log.debug(`Committed ${describeCommits(commits)}`);
  }

  async stop(): Promise<void> {
    this.loop.stop();
    this.stream?.pause();
  }

  /** After the pipeline delivered and acknowledged everything: leave the group, close the clients. */
  async close(): Promise<void> {
    this.loop.stop();
    this.consumer.stopLagMonitoring();
    await this.stream?.close().catch(() => {});
    // Closing the consumer also ends a join or fetch still being retried (an unreachable broker).
    const left = await withTimeout(this.consumer.close(true), CLOSE_TIMEOUT_MS).catch((err: unknown) => {
      this.log.warn(`Leaving consumer group "${this.settings.groupId}": ${describeKafkaError(err)}`);
      return true;
    });
    if (!left) this.log.warn(`Leaving consumer group "${this.settings.groupId}" timed out after ${CLOSE_TIMEOUT_MS} ms; the group drops this member after sessionTimeout`);
    await withTimeout(this.loop.done(), CLOSE_TIMEOUT_MS);
    await this.deadLetters?.close();
  }

  /** The original's line without its `sinks:` part: a source does not know its sinks (see the pipeline's line). */
  stats(): string {
    const c = this.counts;
    // The original's line first (its sinks listed once, not once per topic), then ours after "; ".
    return `events: ${c.events} errors: ${c.errors} fetchErrors: ${c.fetchErrors} sinks: ${(this.settings.sinkNames ?? []).join(', ')}, ` +
      `topics: ${this.settings.topics.join(', ')}; malformed: ${c.malformed}, ` +
      `${this.deadLetters ? `deadLettered: ${this.deadLetters.count}, ` : ''}partitions: ${this.offsets.ownedPartitions().length}`;
  }

  /**
   * Not OK until the first fetch is answered ("connecting: ...", with the reason of the last failed
   * connection at once); after that, as fetchProblem (fetch-health.ts) says.
   */
  status(): string | null {
    if (this.stopping || !this.started) return null;
    if (!this.connect.hasConnected) return this.connect.problem();
    return fetchProblem({
      now: Date.now(),
      limit: this.settings.unhealthyAfterMs ?? UNHEALTHY_AFTER_MS,
      failingSince: this.failingSince,
      failure: this.failure,
      awaitingFetch: this.stream !== undefined && !this.waitingForRoom,
      lastFetchAt: this.lastFetchAt,
      brokers: this.settings.connection.bootstrapBrokers,
    });
  }

  details(): { endpoint: string } {
    const { topics, groupId, connection, isolation } = this.settings;
    return { endpoint: `Kafka ${connection.bootstrapBrokers.join(',')}: ${topics.join(', ')} as group "${groupId}" (${isolation ?? 'read_committed'})` };
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }
}
