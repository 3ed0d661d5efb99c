/**
 * The Kafka sink's first step of a write (sink.ts): route each event of a batch to its topic and
 * encode it once, as the passthrough JSON message with its key and headers, or as Debezium's
 * records (docs/debezium.md); events without a topic are counted and skipped. Timed and counted
 * per event as before (metrics.ts); an event that cannot be encoded becomes an undeliverable
 * message (a dead letter, or the batch's permanent failure: dead-letter.ts).
 */
import type { ChangeEvent } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import { describeError } from '../../core/errors.ts';
import { passthroughBytes } from '../../event/passthrough.ts';
import { eventHeaders } from '../../kafka/headers.ts';
import { qualifiedTable, type KeyMode } from '../../event/key.ts';
import { debeziumTopic, type DebeziumOptions } from '../../event/debezium/envelope.ts';
import type { TopicRouter } from './routing.ts';
import type { BatchProgress } from './batch-state.ts';
import type { KeyEncoder } from './key-bytes.ts';
import { outMessage, type OutMessage } from './message.ts';
import type { KafkaSinkMetrics } from './metrics.ts';
import { debeziumMessages } from './debezium.ts';

/** What encoding needs, fixed for the sink's life (made once by the sink). */
export interface BatchEncoding {
  readonly router: TopicRouter;
  /** handlers = ["debezium"] (docs/debezium.md), and whether topics are Debezium's names. */
  readonly debezium: DebeziumOptions | undefined;
  readonly debeziumTopics: boolean;
  readonly keys: KeyEncoder;
  readonly keyMode: KeyMode;
  readonly metrics: KafkaSinkMetrics;
  readonly log: Logger;
}

/** Routes and encodes a batch: one message per event that has a topic. */
export function prepareBatch(e: BatchEncoding, batch: readonly ChangeEvent[]): BatchProgress {
  const counts = e.metrics.counts;
  const pending: OutMessage[] = [];
  const routed: ChangeEvent[] = [];
  for (const event of batch) {
    counts.total++;
    const topic = e.debeziumTopics ? debeziumTopic(e.debezium!.prefix, event.schema, event.table) : e.router.topicFor(event.schema, event.table);
    if (topic === undefined) {
      e.metrics.recordUnrouted(event.table);
      if (e.log.debugEnabled) e.log.debug(`[${event.uuid}]: No topic found for ${qualifiedTable(event)}, skipping`);
      continue;
    }
    if (e.debezium === undefined) pending.push(encode(e, event, topic));
    else pending.push(...encodeDebezium(e, event, topic, e.debezium));
    routed.push(event);
  }
  return { pending, routed, single: new Set(), size: batch.length, firstUuid: batch[0]?.uuid };
}

function encode(e: BatchEncoding, event: ChangeEvent, topic: string): OutMessage {
  // The clock only for the events whose time is observed (one in SAMPLE_EVERY) or logged.
  const sampled = e.metrics.encodeSampled(event.table);
  const verbose = e.log.verboseEnabled;
  const started = sampled || verbose ? performance.now() : 0;
  let message: OutMessage;
  try {
    // A row key the source wrote into its line chunk is sent from there (no view per event).
    const chunk = e.keyMode === 'row' ? event.rowKeyChunk : undefined;
    message = chunk === undefined
      ? outMessage(event, topic, e.keys.keyOf(event), passthroughBytes(event), eventHeaders(event))
      : outMessage(event, topic, chunk, passthroughBytes(event), eventHeaders(event), undefined, event.rowKeyStart, event.rowKeyEnd);
    e.metrics.counts.handled++;
  } catch (err) {
    message = outMessage(event, topic, undefined, undefined, eventHeaders(event), {
      code: 'ENCODING_FAILED', message: `the event cannot be encoded: ${describeError(err)}`,
    });
  }
  if (sampled) e.metrics.observeEncoded(event.table, started);
  if (verbose) {
    const seconds = (performance.now() - started) / 1000;
    e.log.verboseEvent(event.uuid, `Event (${qualifiedTable(event)} ${event.action} → ${topic}): ${seconds.toFixed(4)}`);
  }
  return message;
}

/** handlers = ["debezium"]: the event's records (docs/debezium.md), timed and counted as `encode` does. */
function encodeDebezium(e: BatchEncoding, event: ChangeEvent, topic: string, options: DebeziumOptions): OutMessage[] {
  const started = performance.now();
  const messages = debeziumMessages(event, topic, eventHeaders(event), options);
  if (messages[0]?.undeliverable === undefined) e.metrics.counts.handled++;
  e.metrics.recordEncoded(event.table, started);
  return messages;
}
