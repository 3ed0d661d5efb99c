/**
 * The Kafka sink's settings (sink.ts): its knobs from its resolved config keys (spec.ts), and the
 * fixed limits it works within: bytes per partition in a produce request, the async queue's bound,
 * exactly once's events per write, the startup probe's interval.
 */
import type { KeyMode } from '../../event/key.ts';
import type { KafkaSinkOptions } from './spec.ts';

/**
 * Bytes per partition in one produce request (one record batch): within the brokers' default
 * message.max.bytes, 1 MiB + 12 for the whole batch. messageBytes() over-counts each record's
 * framing; the 1 KiB left covers the batch header.
 */
export const MAX_PARTITION_REQUEST_BYTES = 2 ** 20 - 1024;
/** Async mode: queued bytes above which `write` waits for a flush (memory stays bounded). */
export const ASYNC_MAX_QUEUED_BYTES = 32 * 2 ** 20;
/**
 * Exactly once: events per write when batches queue up (Sink.mergeEvents); twice the pipeline's
 * default. 16,384 made no measurable difference to throughput and peaked 5–10 MB higher
 * (docs/benchmarks.md, "Every open target on a quiet machine, evening").
 */
export const EXACTLY_ONCE_MERGE_EVENTS = 8_192;
/** While the brokers cannot be reached at startup, how often to try again. */
export const PROBE_INTERVAL_MS = 5_000;

/** The sink's knobs, from its resolved config keys. */
export interface Settings {
  acks: number;
  async: boolean;
  batchSize: number;
  batchTimeoutMs: number;
  keyMode: KeyMode;
  /** Idempotent producers send through the library (producer id and sequence numbers); the others send our own record batches. */
  idempotent: boolean;
  maxAttempts: number;
  deadLetterTopic: string | undefined;
  hosts: string;
}

/** The knobs of a sink configured with `options`. */
export function sinkSettings(options: KafkaSinkOptions): Settings {
  return {
    acks: options.requiredAcks,
    async: options.async,
    batchSize: options.batchSize,
    batchTimeoutMs: options.batchTimeout,
    keyMode: options.key as KeyMode,
    idempotent: options.idempotent,
    maxAttempts: options.maxAttempts,
    deadLetterTopic: options.deadLetterTopic,
    hosts: options.hosts.join(','),
  };
}
