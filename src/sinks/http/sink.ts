/**
 * `type = "http"`: POSTs each batch to a webhook (docs/http-sink.md). A batch is encoded once
 * (passthrough JSON, as every sink, or with handlers = ["debezium"] the values of each event's
 * Debezium records: docs/debezium.md), cut into requests (body.ts) and sent in order, one request
 * at a time per sink, so the receiver sees a source's events in commit order. `write()` resolves
 * once every request of the batch got a 2xx answer (or, refused for good, was dead-lettered).
 *
 * A failed request rejects the write with a retryable error (the pipeline retries the batch,
 * honouring Retry-After through StreamerError.retryAfterMs); the requests of that batch already
 * answered 2xx are remembered by the batch's key and not sent again by the retry. Every request
 * carries an Idempotency-Key derived from its events' deterministic UUIDs.
 */
import { StreamerError, describeError, permanentError } from '../../core/errors.ts';
import type { ComponentDeps } from '../../component/type.ts';
import type { Logger } from '../../core/logger.ts';
import type { ChangeEvent } from '../../event/event.ts';
import { passthroughBytes } from '../../event/passthrough.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { SampledTimer } from '../../metrics/tally.ts';
import { SinkEventCounter } from '../count-events.ts';
import type { Sink } from '../sink.ts';
import { CONTENT_TYPES, encodeBody, idempotencyKey, itemSeparator, planRequests, sliceOf, type RequestSlice } from './body.ts';
import { debeziumRecords, type DebeziumOptions } from '../../event/debezium/envelope.ts';
import { debeziumOptions } from '../../event/debezium/format.ts';
import { debeziumJson } from '../../event/debezium/json.ts';
import { appendDeadLetters, deadLetterLines } from './dead-letter.ts';
import { endpointOf, send, type Endpoint, type Outcome } from './request.ts';
import { bodySnippet, classifyStatus, retryAfterMs } from './response.ts';
import type { HttpFormat, HttpSinkOptions } from './spec.ts';
import { displayUrl } from './urls.ts';

export const HTTP_TYPE = 'Sink-HTTP';

/**
 * Largest body buffer kept from one request to the next. Bun's fetch copies the body when called
 * (checked: changing the array right after fetch() does not change what is sent), so one buffer
 * serves every request; without it each request allocated its body anew (measured in
 * docs/http-sink.md, "Client").
 */
const MAX_KEPT_BUFFER = 8 * 1024 * 1024;
const utf8 = new TextEncoder();

/** Batches whose delivered requests are remembered for their retry; more are forgotten (oldest first). */
const MAX_REMEMBERED_BATCHES = 64;

/** One batch being delivered: its events, their encoded JSON, and who to blame for an error. */
interface Delivery {
  events: readonly ChangeEvent[];
  lines: Uint8Array[];
}

class HttpSink implements Sink {
  readonly type = HTTP_TYPE;
  /**
   * Batches queued behind a request in flight are merged up to one request's worth: each request
   * costs a round trip the receiver answers before the next one starts (docs/http-sink.md).
   */
  readonly mergeEvents: number;
  private readonly counts = { events: 0, requests: 0, bytes: 0, failed: 0, deadLettered: 0 };
  /** Writes run one after another; this is the last one queued (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  private lastError: string | null = null;
  /** Where request bodies are built (see MAX_KEPT_BUFFER). */
  private buffer = new Uint8Array(64 * 1024);
  /** Per batch key: how many of its requests were answered 2xx (a retry starts after them). */
  private readonly progress = new Map<string, number>();
  private readonly component: string;
  private readonly url: string;
  private readonly format: HttpFormat;
  /** handlers = ["debezium"]: body items are Debezium record values (docs/debezium.md). */
  private readonly debezium: DebeziumOptions | undefined;
  /** Joins the items of one event's encoding. */
  private readonly separator: string;
  private readonly delivered: SinkEventCounter;
  private readonly encodeTimes: SampledTimer<'sinkName' | 'sinkType' | 'table'>;

  constructor(
    readonly name: string,
    private readonly options: HttpSinkOptions,
    private readonly endpoint: Endpoint,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.component = `${HTTP_TYPE} (${name})`;
    this.mergeEvents = options.maxRequestEvents;
    this.url = displayUrl(options.url);
    this.format = options.format as HttpFormat;
    this.debezium = options.handlers.includes('debezium') ? { ...debeziumOptions(options), tombstones: false } : undefined;
    this.separator = itemSeparator(this.format);
    this.delivered = new SinkEventCounter(metrics, name, HTTP_TYPE);
    this.encodeTimes = new SampledTimer(metrics.sinkEventProcessingTime, (table) => ({ sinkName: name, sinkType: HTTP_TYPE, table }));
    metrics.httpSinkRequestSeconds.zero({ sinkName: name });
  }

  write(batch: readonly ChangeEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(permanentError(`http sink '${this.name}' is closed`, { component: this.component }));
    if (batch.length === 0) return Promise.resolve();
    const job = this.tail.then(() => this.deliver(batch));
    this.tail = job.catch(() => {});
    return job;
  }

  stats(): string {
    const c = this.counts;
    return `events: ${c.events}, requests: ${c.requests}, bytes: ${c.bytes}, failed requests: ${c.failed}, dead-lettered: ${c.deadLettered}`;
  }

  status(): string | null {
    return this.lastError;
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  /** Waits for the requests in flight; Bun's fetch closes its idle keep-alive connections by itself. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
  }

  private async deliver(events: readonly ChangeEvent[]): Promise<void> {
    const lines = this.encode(events);
    const slices = planRequests(lines.map((l) => l.length), this.format, this.options.maxRequestEvents, this.options.maxRequestBytes);
    const batchKey = idempotencyKey(events[0]!.uuid, events[events.length - 1]!.uuid, events.length);
    const done = this.progress.get(batchKey) ?? 0;
    const delivery: Delivery = { events, lines };
    try {
      for (let k = done; k < slices.length; k++) {
        await this.sendSlice(delivery, slices[k]!);
        this.remember(batchKey, k + 1);
      }
    } catch (err) {
      this.lastError = describeError(err);
      throw err;
    }
    this.progress.delete(batchKey);
    this.lastError = null;
    this.counts.events += events.length;
    this.delivered.count(events);
    if (this.log.debugEnabled) this.log.debug(`Delivered ${events.length} events in ${slices.length - done} request(s)${done > 0 ? ` (${done} delivered before the retry)` : ''}`);
    if (this.log.verboseEnabled) {
      for (const event of events) this.log.verboseEvent(event.uuid, `${event.action} ${event.schema}.${event.table} delivered`);
    }
  }

  private remember(batchKey: string, requests: number): void {
    this.progress.delete(batchKey);
    this.progress.set(batchKey, requests);
    if (this.progress.size > MAX_REMEMBERED_BATCHES) this.progress.delete(this.progress.keys().next().value!);
  }

  private encode(events: readonly ChangeEvent[]): Uint8Array[] {
    const lines: Uint8Array[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const started = performance.now();
      try {
        lines[i] = this.debezium === undefined ? passthroughBytes(event) : this.debeziumItems(event, this.debezium);
      } catch (err) {
        this.metrics.sinkErrors.inc({ sinkName: this.name, sinkType: HTTP_TYPE, table: event.table });
        throw permanentError(
          `cannot encode event ${event.uuid} (${event.schema}.${event.table}, LSN ${event.lsn}): ${describeError(err)}`,
          { component: this.component, cause: err },
        );
      }
      this.encodeTimes.time(event.table, started);
    }
    return lines;
  }

  /**
   * handlers = ["debezium"] (docs/debezium.md): the values of the event's records (no tombstones),
   * joined by the body's separator; empty for an event without records (a logical decoding message).
   */
  private debeziumItems(event: ChangeEvent, options: DebeziumOptions): Uint8Array {
    const values: string[] = [];
    for (const r of debeziumRecords(event, options)) if (r.value !== null) values.push(debeziumJson(r.value));
    return utf8.encode(values.join(this.separator));
  }

  /** Sends one request's events; a 413 splits it in halves. Throws what the pipeline should see. */
  private async sendSlice(d: Delivery, slice: RequestSlice): Promise<void> {
    if (slice.bytes === sliceOf([], this.format, 0, 0).bytes) return; // no item (only events without Debezium records)
    const count = slice.end - slice.start;
    const first = d.events[slice.start]!;
    const last = d.events[slice.end - 1]!;
    const headers = {
      'Idempotency-Key': idempotencyKey(first.uuid, last.uuid, count),
      'X-Psql-Streamer-Events': String(count),
      'X-Psql-Streamer-First-Uuid': first.uuid,
      'X-Psql-Streamer-Last-Uuid': last.uuid,
    };
    if (this.buffer.length < slice.bytes && slice.bytes <= MAX_KEPT_BUFFER) this.buffer = new Uint8Array(Math.min(MAX_KEPT_BUFFER, Math.max(slice.bytes, 2 * this.buffer.length)));
    const body = encodeBody(d.lines, slice, this.format, this.buffer);
    const started = performance.now();
    const outcome = await send(this.endpoint, body, headers);
    this.recordRequest(outcome, started);
    if (outcome.kind !== 'answer') {
      this.counts.failed++;
      const what = outcome.kind === 'timeout' ? `no answer within ${this.options.timeout} ms` : outcome.reason;
      throw new StreamerError('SINK_WRITE', `POST ${this.url} (${count} events) failed: ${what}`, { component: this.component });
    }
    const verdict = classifyStatus(outcome.status);
    if (verdict === 'delivered') {
      this.counts.requests++;
      this.counts.bytes += body.length;
      this.metrics.httpSinkBytes.inc({ sinkName: this.name }, body.length);
      return;
    }
    this.counts.failed++;
    const answered = `POST ${this.url} (${count} events) answered ${outcome.status}: ${bodySnippet(outcome.body)}`;
    if (verdict === 'split' && count > 1) {
      this.log.warn(`${answered}; sending it again in two halves`);
      for (const half of this.halves(d, slice)) await this.sendSlice(d, half);
      return;
    }
    if (verdict === 'retry') {
      const wait = retryAfterMs(outcome.retryAfter, Date.now(), this.options.maxRetryAfter);
      throw new StreamerError('SINK_WRITE', wait === undefined ? answered : `${answered} (Retry-After: ${wait} ms)`, {
        component: this.component, retryAfterMs: wait,
      });
    }
    await this.refused(d, slice, outcome.status, outcome.body, answered);
  }

  /** The two halves of a slice, by event count. */
  private halves(d: Delivery, slice: RequestSlice): RequestSlice[] {
    const middle = slice.start + Math.ceil((slice.end - slice.start) / 2);
    return [sliceOf(d.lines, this.format, slice.start, middle), sliceOf(d.lines, this.format, middle, slice.end)];
  }

  /** A final refusal: the events go to deadLetterFile, or the pipeline stops with what, why and how to fix. */
  private async refused(d: Delivery, slice: RequestSlice, status: number, answer: string, answered: string): Promise<void> {
    const count = slice.end - slice.start;
    const first = d.events[slice.start]!;
    const path = this.options.deadLetterFile;
    if (path === undefined) {
      const perTable = new Map<string, number>();
      for (let i = slice.start; i < slice.end; i++) perTable.set(d.events[i]!.table, (perTable.get(d.events[i]!.table) ?? 0) + 1);
      for (const [table, n] of perTable) this.metrics.sinkErrors.inc({ sinkName: this.name, sinkType: HTTP_TYPE, table }, n);
      throw permanentError(
        `${answered}. The receiver refuses these events for good (first: ${first.schema}.${first.table} ${first.action}, ` +
          `LSN ${first.commitLsn ?? first.lsn}, UUID ${first.uuid}); fix the receiver or the url/headers, or set deadLetterFile to set such events aside`,
        { component: this.component },
      );
    }
    const data = deadLetterLines(d.lines.slice(slice.start, slice.end), { sink: this.name, url: this.url, status, answer: bodySnippet(answer) }, new Date());
    await appendDeadLetters(path, data, this.component);
    this.counts.deadLettered += count;
    this.metrics.httpSinkDeadLettered.inc({ sinkName: this.name, status: String(status) }, count);
    this.log.warn(`${answered}; ${count} events written to deadLetterFile '${path}' instead`);
  }

  private recordRequest(outcome: Outcome, started: number): void {
    const status = outcome.kind === 'answer' ? String(outcome.status) : outcome.kind;
    this.metrics.httpSinkRequests.inc({ sinkName: this.name, status });
    this.metrics.httpSinkRequestSeconds.observe({ sinkName: this.name }, (performance.now() - started) / 1000);
  }
}

/** Builds an HTTP sink (reads its TLS files; no request is sent until the first batch). */
export async function createHttpSink(name: string, options: HttpSinkOptions, deps: Pick<ComponentDeps, 'log' | 'metrics'>): Promise<Sink> {
  const component = `${HTTP_TYPE} (${name})`;
  const endpoint = endpointOf(options, CONTENT_TYPES[options.format as HttpFormat], component);
  return new HttpSink(name, options, endpoint, deps.log, deps.metrics);
}
