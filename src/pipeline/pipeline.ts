/**
 * One source's pipeline (docs/delivery.md): the items the source pushes are cut into batches
 * (bounded in events and bytes, sealed by size, by the flush interval, or when the loop is idle),
 * each delivered to every sink and then acknowledged to the source, in push order; a full buffer
 * pauses the source. The batch policy is batch-policy.ts and merge.ts, the retry loop retry.ts
 * (its messages retry-steps.ts), the metrics pipeline-metrics.ts.
 */
import type { PipelineSettings } from '../config/schema.ts';
import type { Component } from '../core/component.ts';
import { StreamerError, describeError, retryAfterOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../sinks/sink.ts';
import type { PipelineItem, Source, SourceOutput } from '../sources/source.ts';
import type { Metrics } from '../metrics/catalogue.ts';
import { retryDelay } from '../core/backoff.ts';
import { Batch } from './batch.ts';
import { POSITION_ONLY_BYTES, belowLowWater, isFull, sealWhenIdle, type BufferBounds } from './batch-policy.ts';
import { estimateEventBytes } from './estimate-bytes.ts';
import { mergeByteLimit, mergeEventLimit, mergeSealed } from './merge.ts';
import { pipelineMetrics, type PipelineMetrics } from './pipeline-metrics.ts';
import { STOP, retryUntilDone } from './retry.ts';
import { ackStep, sinkWriteStep, type RetryingStep } from './retry-steps.ts';
import { realTimers, sleep, type Sleep, type Timers } from '../core/timers.ts';

/** What the pipeline needs of a sink. */
export type PipelineSink = Pick<Sink, 'name' | 'write' | 'mergeEvents'>;

/** What the pipeline needs of a source: somewhere to hand back delivered positions. */
export type PipelineSource<P> = Pick<Source<P>, 'ack'>;

/** What one pipeline is built from: the source's settings (durations in ms) and its parts. */
export interface PipelineOptions<P> extends PipelineSettings {
  /** Name of the source this pipeline serves. */
  name: string;
  source: PipelineSource<P>;
  sinks: readonly PipelineSink[];
  log: Logger;
  metrics: Metrics;
  timers?: Timers;
  /** Most events in batches delivered together (see nextBatch); default max(batchSize, MERGE_EVENTS, the sinks' mergeEvents): merge.ts. */
  mergeLimit?: number;
}

interface DrainWaiter {
  resolve(): void;
  reject(err: StreamerError): void;
}

/**
 * Source → batches → every sink → acknowledgement, for one source (docs/delivery.md).
 * One batch is delivered at a time, to all sinks concurrently, each failing sink retried on its
 * own; the batch's positions are acknowledged, in push order, only after every sink succeeded.
 * A non-retryable error halts the pipeline for good: nothing more is acknowledged.
 */
export class Pipeline<P = unknown> implements SourceOutput<P>, Component {
  readonly type = 'Pipeline';
  readonly name: string;
  /** Resolves with the error that stopped the pipeline; stays pending while it runs. */
  readonly failure: Promise<StreamerError>;

  private readonly source: PipelineSource<P>;
  private readonly sinks: readonly PipelineSink[];
  private readonly batchSize: number;
  private readonly mergeLimit: number;
  private readonly mergeBytes: number;
  private readonly flushIntervalMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly bounds: BufferBounds;
  private readonly log: Logger;
  private readonly timers: Timers;

  /** The batch being filled by `push`. */
  private open = new Batch<P>();
  /** Batches complete and waiting for the one in flight. */
  private readonly sealed: Batch<P>[] = [];
  private inFlight: Batch<P> | undefined;
  /** Everything pushed and not yet acknowledged (open + sealed + in flight). */
  private readonly level = { events: 0, bytes: 0 };
  private full = false;
  private draining = false;
  private running = false;
  private closed = false;
  private halted: StreamerError | undefined;
  private flushTimer: unknown;
  private readonly sleeps = new Set<Sleep>();
  /** Current delivery or acknowledgement trouble, keyed by who has it; shown by `status()`. */
  private readonly problems = new Map<string, string>();
  private drainedWaiters: (() => void)[] = [];
  private drainWaiters: DrainWaiter[] = [];
  private resolveFailure!: (err: StreamerError) => void;

  private eventsIn = 0;
  private eventsDelivered = 0;
  private batches = 0;
  private retries = 0;
  private acks = 0;

  private readonly metrics: PipelineMetrics;

  constructor(options: PipelineOptions<P>) {
    this.name = options.name;
    this.source = options.source;
    this.sinks = options.sinks;
    this.batchSize = options.batchSize;
    this.mergeLimit = mergeEventLimit(options.batchSize, options.sinks, options.mergeLimit);
    this.mergeBytes = mergeByteLimit(options.batchSize, this.mergeLimit);
    this.flushIntervalMs = options.batchFlushIntervalMs;
    this.retryInitialMs = options.sendRetryIntervalMs;
    this.retryMaxMs = options.maxRetryIntervalMs;
    this.bounds = { maxEvents: options.maxBufferedEvents, maxBytes: options.maxBufferedBytes };
    this.log = options.log;
    this.timers = options.timers ?? realTimers;
    this.failure = new Promise((resolve) => { this.resolveFailure = resolve; });
    this.metrics = pipelineMetrics(options.metrics, this.name, this.sinks, {
      level: this.level,
      acks: () => this.acks,
      stopped: () => this.halted !== undefined,
    });
  }

  /** The error that stopped the pipeline, if one did. */
  get error(): StreamerError | undefined {
    return this.halted;
  }

  /** Queues an item; false asks the source to pause until `drained()`. Ignored once stopped. */
  push(item: PipelineItem<P>): boolean {
    if (this.halted || this.closed) return false;
    const { event, position } = item;
    if (!event && position === undefined) return !this.full;
    const bytes = item.bytes ?? (event ? estimateEventBytes(event) : POSITION_ONLY_BYTES);
    // Bare positions waiting for the loop go ahead on their own rather than wait for this event's batch.
    if (event && this.open.events.length === 0 && this.open.positions.length > 0) this.sealed.push(this.sealOpen());
    const open = this.open;
    if (event) {
      if (open.events.length === 0) this.startFlushTimer();
      open.events.push(event);
      this.level.events++;
      this.eventsIn++;
    }
    if (position !== undefined) open.positions.push(position);
    open.bytes += bytes;
    this.level.bytes += bytes;

    // A batch of bare positions goes as soon as the loop is free: that is how an idle source advances.
    let wake = open.events.length === 0;
    if (open.events.length >= this.batchSize) {
      this.sealed.push(this.sealOpen());
      wake = true;
    }
    if (!this.full && isFull(this.level, this.bounds)) {
      this.full = true;
      wake = true;
    }
    if (wake) this.pump();
    return !this.full;
  }

  /** Resolves once the buffer is at or below half of both bounds; never while stopped. */
  drained(): Promise<void> {
    if (!this.full && !this.halted && !this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  /**
   * For shutdown, after the source stopped: sends the partial batch now, delivers and acknowledges
   * everything queued, and resolves when nothing is left. Rejects if the pipeline is or gets stopped.
   */
  drain(): Promise<void> {
    if (this.halted) return Promise.reject(this.halted);
    if (this.closed) return Promise.reject(this.closedError());
    if (this.isIdle()) return Promise.resolve();
    this.draining = true;
    const done = new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
    this.pump();
    return done;
  }

  /** Stops timers and retries; nothing is delivered or acknowledged afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopActivity();
    this.rejectDrainWaiters(this.closedError());
  }

  stats(): string {
    return `events: ${this.eventsIn}, delivered: ${this.eventsDelivered}, batches: ${this.batches}, ` +
      `retries: ${this.retries}, acks: ${this.acks}, buffered: ${this.level.events} (${this.level.bytes} bytes)`;
  }

  /** Null while delivering normally; the retry reason while a sink or the ack fails; the stop reason. */
  status(): string | null {
    if (this.halted) return this.halted.message;
    if (this.problems.size > 0) return [...this.problems.values()].join('; ');
    return null;
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  private startFlushTimer(): void {
    this.flushTimer = this.timers.setTimeout(() => {
      this.flushTimer = undefined;
      if (this.open.events.length === 0) return;
      this.sealed.push(this.sealOpen());
      this.pump();
    }, this.flushIntervalMs);
  }

  private clearFlushTimer(): void {
    if (this.flushTimer === undefined) return;
    this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private sealOpen(): Batch<P> {
    this.clearFlushTimer();
    const batch = this.open;
    this.open = new Batch<P>();
    return batch;
  }

  private nextBatch(): Batch<P> | undefined {
    const next = this.sealed.shift();
    if (next) {
      // Batches sealed while another was in flight: deliver them together (up to mergeLimit
      // events and mergeBytes), or a busy pipeline falls behind one small batch at a time.
      mergeSealed(next, this.sealed, this.mergeLimit, this.mergeBytes);
      return next;
    }
    const open = this.open;
    const sealNow = sealWhenIdle({
      events: open.events.length,
      positions: open.positions.length,
      draining: this.draining,
      full: this.full,
    });
    return sealNow ? this.sealOpen() : undefined;
  }

  private isIdle(): boolean {
    return !this.running && this.inFlight === undefined && this.sealed.length === 0 && this.open.isEmpty;
  }

  /** Starts the delivery loop unless it runs already. */
  private pump(): void {
    if (this.running || this.halted || this.closed) return;
    this.running = true;
    void this.deliveryLoop();
  }

  private async deliveryLoop(): Promise<void> {
    try {
      for (let batch = this.nextBatch(); batch; batch = this.nextBatch()) {
        this.inFlight = batch;
        await this.deliver(batch);
        // close() may have come while the sinks were writing: a closed source takes no more acks.
        if (this.closed || this.halted) throw STOP;
        await this.acknowledge(batch);
        this.inFlight = undefined;
        this.release(batch);
      }
    } catch (err) {
      if (err !== STOP) this.halt(this.stopError(`internal error in the delivery loop: ${describeError(err)}`, err));
    } finally {
      // No await between the last nextBatch() and here, so a push cannot slip in unnoticed.
      this.running = false;
    }
    if (this.drainWaiters.length > 0 && this.isIdle()) {
      this.draining = false;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private async deliver(batch: Batch<P>): Promise<void> {
    const count = batch.events.length;
    if (count === 0) return;
    this.batches++;
    this.metrics.batchEvents.observe(count);
    const started = this.timers.now();
    await Promise.all(this.sinks.map((sink) => this.deliverTo(sink, batch, started)));
    this.eventsDelivered += count;
    if (this.log.debugEnabled) {
      this.log.debug(`Batch of ${count} events delivered to ${this.sinks.length} sink(s) in ${(this.timers.now() - started).toFixed(1)} ms`);
    }
  }

  /** Writes the batch to one sink until it succeeds; a sink that succeeded is never sent it again. */
  private async deliverTo(sink: PipelineSink, batch: Batch<P>, started: number): Promise<void> {
    const count = batch.events.length;
    const retries = await this.untilDone(() => sink.write(batch.events), sinkWriteStep(sink.name, count, this.metrics.retries.get(sink.name)));
    if (retries > 0) this.log.info(`Batch (${count} events) delivered to sink '${sink.name}' after ${retries} retries`);
    this.metrics.delivery.get(sink.name)?.observe((this.timers.now() - started) / 1000);
  }

  /** Hands the batch's positions back to the source, retrying until it takes them. */
  private async acknowledge(batch: Batch<P>): Promise<void> {
    const count = batch.positions.length;
    if (count === 0) return;
    await this.untilDone(() => this.source.ack(batch.positions), ackStep(count));
    this.acks++;
  }

  /**
   * One step (a sink write, an acknowledgement) retried until it succeeds (retryUntilDone): each
   * retry warned, counted and shown by `status()` under `what.key` until the step succeeds; a
   * permanent error halts the pipeline. Returns the number of retries.
   */
  private async untilDone(attempt: () => Promise<unknown>, what: RetryingStep): Promise<number> {
    const retries = await retryUntilDone(attempt, {
      stopped: () => this.halted !== undefined || this.closed,
      permanent: (err) => this.halt(this.stopError(what.permanent(err), err)),
      retrying: (retry, err) => {
        const reason = what.retrying(retry, err);
        this.log.warn(reason);
        this.problems.set(what.key, reason);
        this.retries++;
        what.counter?.inc();
      },
      // A sink may ask for a longer pause (an HTTP Retry-After, docs/http-sink.md): the longer wait wins.
      wait: (retry, err) => this.wait(Math.max(retryDelay(retry, this.retryInitialMs, this.retryMaxMs), retryAfterOf(err))),
    });
    if (retries > 0) this.problems.delete(what.key);
    return retries;
  }

  /** Backoff wait, cut short (throwing STOP) when the pipeline halts or closes. */
  private async wait(ms: number): Promise<void> {
    const pause = sleep(this.timers, ms);
    this.sleeps.add(pause);
    const elapsed = await pause.done;
    this.sleeps.delete(pause);
    if (!elapsed || this.halted || this.closed) throw STOP;
  }

  private release(batch: Batch<P>): void {
    this.level.events -= batch.events.length;
    this.level.bytes -= batch.bytes;
    if (this.full && belowLowWater(this.level, this.bounds)) {
      this.full = false;
      const waiters = this.drainedWaiters;
      this.drainedWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private stopError(message: string, cause: unknown): StreamerError {
    return new StreamerError('PIPELINE_STOPPED', `Pipeline stopped: ${message}`, {
      component: `${this.type} (${this.name})`,
      retryable: false,
      cause,
    });
  }

  private closedError(): StreamerError {
    return new StreamerError('PIPELINE_STOPPED', 'Pipeline closed before everything was delivered', {
      component: `${this.type} (${this.name})`,
      retryable: false,
    });
  }

  /** Stops for good: logged once, no acknowledgement ever again, the source stays paused. */
  private halt(err: StreamerError): void {
    if (this.halted || this.closed) return;
    this.halted = err;
    this.problems.clear();
    this.log.error(`${err.message}. Nothing after the last acknowledged position will be acknowledged; ` +
      'the source stays paused until the cause is fixed and the streamer restarted.');
    this.stopActivity();
    this.rejectDrainWaiters(err);
    this.resolveFailure(err);
  }

  private stopActivity(): void {
    this.clearFlushTimer();
    for (const pause of this.sleeps) pause.cancel();
    this.sleeps.clear();
  }

  private rejectDrainWaiters(err: StreamerError): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.reject(err);
  }
}
