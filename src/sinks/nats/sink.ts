/**
 * The NATS JetStream sink (docs/nats.md): events → passthrough JSON messages (the Kafka sink's
 * message value; with handlers = ["debezium"] the values of the event's Debezium records,
 * debezium.ts) → subjects, each acknowledged by JetStream before `write` resolves. Loaded lazily
 * by spec.ts, so the NATS client is imported only when a NATS sink is configured.
 *
 * One `write(batch)`: batches are written one after another (several pipelines may call at once;
 * a batch stays contiguous). Every routed event is published with `Nats-Msg-Id` = its UUID and a
 * reply subject of the sink's own acknowledgement subscription (link.ts, acks.ts), written as
 * `HPUB` frames in chunks (frames.ts) rather than a client request per event (which cost 25–32 µs of
 * CPU per event: docs/benchmarks.md), pipelined (at most `maxInFlight` awaiting their
 * acknowledgement); the batch resolves only when every acknowledgement came. When one fails, the
 * acknowledgements before it are kept: the batch fails (retryable or not: failure.ts) and its retry
 * publishes again from the first unacknowledged event, so each subject's events reach the stream in
 * order. Anything published twice (the retry
 * of a publish whose acknowledgement was lost, a batch redelivered after a crash) has the same
 * `Nats-Msg-Id`, and the stream's duplicate window drops it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ComponentDeps } from '../../component/type.ts';
import { StreamerError, describeError, permanentError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ChangeEvent } from '../../event/event.ts';
import { qualifiedTable } from '../../event/key.ts';
import { passthroughBytes } from '../../event/passthrough.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { SampledTimer } from '../../metrics/tally.ts';
import { SinkEventCounter } from '../count-events.ts';
import type { Sink } from '../sink.ts';
import { BatchAcks, parseAck } from './acks.ts';
import { classifyPublishError } from './failure.ts';
import { NatsLink } from './link.ts';
import type { NatsSinkOptions } from './spec.ts';
import { debeziumNatsMessages, type NatsMessage } from './debezium.ts';
import { SubjectRouter, subjectRouting } from './subjects.ts';
import { debeziumOptions } from '../../event/debezium/format.ts';
import type { DebeziumOptions } from '../../event/debezium/envelope.ts';

const SINK_TYPE = 'Sink-NATS';

/** Where a failed batch stopped: its retry starts at `index`. */
interface Failure {
  index: number;
  error: StreamerError;
}

export class NatsSink implements Sink {
  readonly type = SINK_TYPE;
  private readonly router: SubjectRouter;
  /** handlers = ["debezium"] (docs/debezium.md): each event's records instead of its passthrough JSON. */
  private readonly debezium: DebeziumOptions | undefined;
  private readonly servers: string;
  private readonly component: string;
  private readonly delivered: SinkEventCounter;
  private readonly encodeTimes: SampledTimer<'sinkName' | 'sinkType' | 'table'>;
  private readonly counts = { events: 0, noSubject: 0, duplicates: 0, errors: 0 };
  /** The nats_sink_* series of this sink (bound once: prom-client hashes the labels at every call otherwise). */
  private readonly own: {
    messages: { inc(n: number): void }; duplicates: { inc(n: number): void }; bytes: { inc(n: number): void };
    publishSeconds: { observe(seconds: number): void };
  };
  /** Each failure's kind (failure.ts; TOO_LARGE, ENCODING, SUBJECT here): the nats_sink_publish_errors_total label. */
  private readonly errorKinds = new WeakMap<StreamerError, string>();
  /** Batches that failed part-way: the index of their first unacknowledged event. */
  private readonly resume = new WeakMap<readonly ChangeEvent[], number>();

  private readonly link: NatsLink;
  /** Publishes so far (numbers the reply subjects). */
  private published = 0;
  /** The acknowledgements of the batch being written (batches are written one at a time). */
  private current: BatchAcks | undefined;
  /** Why the last write failed (retryable); cleared by the next success. */
  private problem: string | null = null;
  /** Why the sink stopped for good. */
  private fatal: string | null = null;
  /** Writes run one after another; this is the last one queued (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly options: NatsSinkOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    const { mapping, fallback } = subjectRouting(options);
    this.router = new SubjectRouter(mapping, fallback);
    this.debezium = options.handlers.includes('debezium') ? debeziumOptions(options) : undefined;
    this.servers = options.servers.join(', ');
    this.component = `${SINK_TYPE} (${name})`;
    this.delivered = new SinkEventCounter(metrics, name, SINK_TYPE);
    this.encodeTimes = new SampledTimer(metrics.sinkEventProcessingTime, (table) => ({ sinkName: name, sinkType: SINK_TYPE, table }));
    const labels = { sinkName: name };
    this.own = {
      messages: metrics.natsSinkMessages.labels(labels), duplicates: metrics.natsSinkDuplicates.labels(labels),
      bytes: metrics.natsSinkBytes.labels(labels), publishSeconds: metrics.natsSinkPublishSeconds.labels(labels),
    };
    this.link = new NatsLink(options, log, this.component, (n, status, data, start, end) => this.onAck(n, status, data, start, end));
  }

  /** Logs the setup and connects in the background (status says "connecting: ..." until it works). */
  start(): void {
    const o = this.options;
    this.log.info(`Writing to NATS JetStream ${this.servers}${o.stream === undefined ? '' : `, stream "${o.stream}"${o.createStream ? ' (created if missing)' : ''}`}`);
    // The sink's counters exist from the start (at 0), so rates and alerts see them before the first event.
    for (const counter of [this.own.messages, this.own.duplicates, this.own.bytes]) counter.inc(0);
    this.link.start();
  }

  write(batch: readonly ChangeEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(permanentError(`NATS sink '${this.name}' is closed`, { component: this.component }));
    if (batch.length === 0) return Promise.resolve();
    const job = this.tail.then(() => this.writeBatch(batch));
    this.tail = job.catch(() => {});
    return job;
  }

  stats(): string {
    const c = this.counts;
    return `events: ${c.events}, no subject: ${c.noSubject}, duplicates dropped: ${c.duplicates}, errors: ${c.errors}`;
  }

  /** The permanent failure, else the last write's failure, else "connecting: ..." until connected. */
  status(): string | null {
    return this.link.fatal ?? this.fatal ?? this.problem ?? this.link.connect.problem();
  }

  details(): { endpoint: string } {
    return { endpoint: `NATS ${this.servers}${this.options.stream === undefined ? '' : `, stream ${this.options.stream}`}` };
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  /** Waits for queued writes, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.link.stop();
    await this.tail;
    await this.link.closeConnection();
  }

  // ---- delivery ----

  private async writeBatch(batch: readonly ChangeEvent[]): Promise<void> {
    const nc = await this.link.connection();
    const fatal = this.link.fatal ?? this.fatal;
    if (fatal !== null) throw permanentError(fatal, { component: this.component });
    if (nc === undefined) {
      throw new StreamerError('SINK_WRITE', this.link.connect.problem() ?? `not connected to NATS ${this.servers}`, { component: this.component });
    }
    const from = this.resume.get(batch) ?? 0;
    const unrouted = this.counts.noSubject;
    const failure = await this.publishFrom(nc, batch, from);
    if (failure !== undefined) {
      this.counts.errors++;
      this.metrics.natsSinkPublishErrors.inc({ sinkName: this.name, error: this.errorKinds.get(failure.error) ?? 'OTHER' });
      if (failure.error.retryable) {
        this.resume.set(batch, failure.index);
        this.problem = failure.error.message;
      } else {
        this.resume.delete(batch);
        this.fatal = failure.error.message;
        this.countFailed(batch, failure.index);
      }
      throw failure.error;
    }
    this.resume.delete(batch);
    if (this.problem !== null) this.log.info('Publishing to NATS works again');
    this.problem = null;
    this.countDelivered(batch, from === 0 && unrouted === this.counts.noSubject);
  }

  /** An answer on the acknowledgement subscription to publish number `n`: its status and payload `data[start..end)`. */
  private onAck(n: number, status: number | undefined, data: Uint8Array, start: number, end: number): void {
    const current = this.current;
    if (current === undefined) return; // of a batch that already failed: its retry publishes again
    current.settle(n, parseAck(data, status, start, end));
  }

  /**
   * Publishes `batch[from..]`, at most maxInFlight unacknowledged at a time; resolves when every
   * publish was answered (or `timeout` passed without an answer), with the first failure (in batch
   * order) if any. Stops publishing at the first failed answer.
   */
  private async publishFrom(nc: NatsConnection, batch: readonly ChangeEvent[], from: number): Promise<Failure | undefined> {
    const acks = new BatchAcks(this.published);
    this.current = acks;
    const frames = this.link.frames!;
    const maxPayload = nc.info?.max_payload ?? Number.MAX_SAFE_INTEGER;
    const max = this.options.maxInFlight;
    const timeout = this.options.timeout;
    let failure: Failure | undefined;
    const started = performance.now();
    /** Payload bytes of the publishes so far, and after each one (for those acknowledged before a failure). */
    let bytes = 0;
    const bytesUpTo: number[] = [];
    let sendError: StreamerError | undefined;
    let stalled = false;
    /** Publishes handed to the connection. */
    let sent = 0;
    /** Adds one message of event `i` to the frames; false (and `failure` set) when it is too large for the server. */
    const add = (i: number, event: ChangeEvent, subject: string, id: string, data: Uint8Array): boolean => {
      if (frames.messageBytes(id, data) > maxPayload) {
        failure = { index: i, error: this.kindOf('TOO_LARGE', permanentError(`event ${id} (${qualifiedTable(event)}, LSN ${event.lsn}) is ${frames.messageBytes(id, data)} bytes with its headers, more than the server's max_payload of ${maxPayload}: raise max_payload in nats-server's configuration`, { component: this.component })) };
        return false;
      }
      frames.add(subject, acks.add(i, subject), id, data);
      this.published++;
      bytes += data.length;
      bytesUpTo.push(bytes);
      return true;
    };
    const flush = (): StreamerError | undefined => {
      if (frames.size === 0) return undefined;
      const error = this.send(nc, frames.take(), acks.subjects[sent] ?? '');
      if (error === undefined) sent = acks.published;
      return error;
    };
    try {
      for (let i = from; i < batch.length && !acks.hasFailure; i++) {
        const event = batch[i]!;
        const route = this.router.routeOf(event.schema, event.table);
        if (route === undefined) {
          this.counts.noSubject++;
          if (this.log.debugEnabled) this.log.debug(`[${event.uuid}]: No subject for ${qualifiedTable(event)}, skipping`);
          continue;
        }
        if ('invalid' in route) {
          failure = { index: i, error: this.kindOf('SUBJECT', permanentError(`events of ${qualifiedTable(event)} have no valid subject: ${route.invalid}`, { component: this.component })) };
          break;
        }
        const started = performance.now();
        let data: Uint8Array | undefined;
        let messages: NatsMessage[] | undefined;
        try {
          if (this.debezium === undefined) data = passthroughBytes(event);
          else messages = debeziumNatsMessages(event, this.debezium);
        } catch (err) {
          failure = { index: i, error: this.kindOf('ENCODING', permanentError(`cannot encode event ${event.uuid} (${qualifiedTable(event)}, LSN ${event.lsn}): ${describeError(err)}`, { component: this.component, cause: err })) };
          break;
        }
        this.encodeTimes.time(event.table, started);
        if (data !== undefined) {
          // The id is read once: a row change decodes it from its JSON at every read.
          if (!add(i, event, route.subject, event.uuid, data)) break;
        } else if (!messages!.every((m) => add(i, event, route.subject, m.id, m.data))) {
          break;
        }
        if (this.log.verboseEnabled) this.log.verboseEvent(event.uuid, `${event.action} ${qualifiedTable(event)} → ${route.subject}`);
        if (frames.size >= CHUNK_BYTES || acks.outstanding >= max) {
          sendError = flush();
          if (sendError !== undefined) break;
          if (acks.outstanding >= max) await acks.wait(max >> 1, timeout);
          // No answers within the timeout: the unanswered ones count as timed out.
          if (acks.outstanding >= max) {
            stalled = true;
            break;
          }
        }
      }
      // What was encoded before an encoding or subject failure still goes; after a refused publish, not.
      if (sendError === undefined && !acks.hasFailure) sendError = flush();
      frames.discard();
      const unsent = acks.indices[sent];
      acks.truncate(sent);
      if (sendError !== undefined) {
        return { index: acks.indices[acks.settledUpTo()] ?? unsent ?? failure?.index ?? from, error: sendError };
      }
      if (!stalled) await acks.wait(0, timeout);
    } finally {
      this.current = undefined;
    }
    const { duplicates, firstFailure } = acks.result();
    this.counts.duplicates += duplicates;
    const acknowledged = firstFailure?.position ?? acks.published;
    this.own.publishSeconds.observe((performance.now() - started) / 1000);
    if (acknowledged > 0) {
      this.own.messages.inc(acknowledged);
      this.own.bytes.inc(bytesUpTo[acknowledged - 1]!);
    }
    if (duplicates > 0) this.own.duplicates.inc(duplicates);
    if (firstFailure !== undefined) {
      const k = firstFailure.position;
      const subject = acks.subjects[k]!;
      const error = this.publishError(firstFailure.error ?? namedTimeout(), subject);
      // A failure before the first unacknowledged publish (encoding, subject) comes first in batch order.
      if (failure === undefined || acks.indices[k]! < failure.index) failure = { index: acks.indices[k]!, error };
    }
    return failure;
  }

  /**
   * Hands a chunk of frames (the first to `subject`) to the connection, as `publish()` would its
   * one message. Returns the error when the connection is closed or reconnecting.
   */
  private send(nc: NatsConnection, chunk: Uint8Array, subject: string): StreamerError | undefined {
    if (nc.isClosed() || nc.isDraining()) return this.publishError(closedError(), subject);
    // While the client reconnects it would queue the frames in memory, again at every retry of the
    // batch: a long outage would grow that queue without bound. The retry after the reconnect sends them.
    if (!this.link.connect.isConnected) return this.publishError(closedError('disconnected; the client reconnects'), subject);
    const protocol = protocolOf(nc);
    const transport = protocol.transport;
    if (protocol.connected === true && protocol.infoReceived === true && transport?.send !== undefined && protocol.flushPending !== undefined) {
      // Straight to the socket after what the client has queued (a PING, a SUB): its sendCommand
      // would queue the chunk and copy queued chunks into one before writing them.
      protocol.flushPending();
      transport.send(chunk);
      // Bun's socket writes at once and copies what the kernel did not take: nothing left queued
      // means the chunk's buffer may take the next frames (a new buffer per chunk cost ≈ 0.5 µs per event).
      if (transport.socket?.writableLength === 0) this.link.frames?.reclaim();
    } else {
      protocol.sendCommand(chunk);
    }
    return undefined;
  }

  /** A failed publish as the StreamerError the pipeline sees (failure.ts decides whether it is retryable). */
  private publishError(err: unknown, subject: string): StreamerError {
    const f = classifyPublishError(err, subject, this.options.timeout, this.options.stream);
    return this.kindOf(f.kind, new StreamerError(f.retryable ? 'SINK_WRITE' : 'SINK_PERMANENT', `${f.message} (NATS ${this.servers})`, {
      component: this.component, retryable: f.retryable, cause: err, explainsCause: true,
    }));
  }

  /** `error`, remembered as of `kind` (for nats_sink_publish_errors_total). */
  private kindOf(kind: string, error: StreamerError): StreamerError {
    this.errorKinds.set(error, kind);
    return error;
  }

  /** sink_events per table for the routed events of a delivered batch. */
  private countDelivered(batch: readonly ChangeEvent[], allRouted: boolean): void {
    const routed = allRouted ? batch : batch.filter((e) => this.router.routeOf(e.schema, e.table) !== undefined);
    this.counts.events += routed.length;
    this.delivered.count(routed);
    if (this.log.debugEnabled) this.log.debug(`Published ${routed.length} events`);
  }

  /** sink_errors per table for the events a permanent failure leaves undelivered. */
  private countFailed(batch: readonly ChangeEvent[], from: number): void {
    const perTable = new Map<string, number>();
    for (let i = from; i < batch.length; i++) perTable.set(batch[i]!.table, (perTable.get(batch[i]!.table) ?? 0) + 1);
    for (const [table, n] of perTable) this.metrics.sinkErrors.inc({ sinkName: this.name, sinkType: SINK_TYPE, table }, n);
  }
}

/** Frames are handed to the connection in chunks of about this many bytes. */
const CHUNK_BYTES = 256 * 1024;

/** What the sink uses of the connection's protocol handler (not in the client's typings). */
interface ClientProtocol {
  /** Queues raw protocol bytes (what `publish()` itself ends in). */
  sendCommand(bytes: Uint8Array): void;
  /** Writes what sendCommand queued. */
  flushPending?: () => void;
  transport?: { send?: (bytes: Uint8Array) => void; socket?: { writableLength?: number } };
  connected?: boolean;
  infoReceived?: boolean;
}

/**
 * The connection's protocol handler. Checked here: a client without `sendCommand` fails loudly;
 * one without the rest queues through sendCommand.
 */
function protocolOf(nc: NatsConnection): ClientProtocol {
  const protocol = (nc as unknown as { protocol?: { sendCommand?: unknown } }).protocol;
  if (typeof protocol?.sendCommand !== 'function') throw new Error('this NATS client has no protocol.sendCommand (the pinned @nats-io/transport-node has)');
  return protocol as ClientProtocol;
}

function closedError(message = 'the connection is closed'): Error {
  const err = new Error(message);
  err.name = 'ClosedConnectionError';
  return err;
}

/** What an unanswered publish counts as (failure.ts: retryable). */
function namedTimeout(): Error {
  const err = new Error('no acknowledgement');
  err.name = 'TimeoutError';
  return err;
}

/** Builds and starts a NATS sink (called by spec.ts's `create`). */
export async function createNatsSink(name: string, options: NatsSinkOptions, deps: Pick<ComponentDeps, 'log' | 'metrics'>): Promise<Sink> {
  const sink = new NatsSink(name, options, deps.log, deps.metrics);
  sink.start();
  return sink;
}
