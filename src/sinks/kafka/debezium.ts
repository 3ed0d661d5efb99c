/**
 * The Kafka sink's `handlers = ["debezium"]` (docs/debezium.md): an event's Debezium records as
 * messages to its topic, with Debezium's key (the key columns' JSON, so the default murmur2
 * partitioner puts a row where Kafka Connect would) and a null value for a tombstone. Pure.
 */
import type { ChangeEvent } from '../../event/event.ts';
import type { DebeziumOptions } from '../../event/debezium/envelope.ts';
import { debeziumRecords } from '../../event/debezium/envelope.ts';
import { debeziumJson } from '../../event/debezium/json.ts';
import type { MessageHeaders } from '../../kafka/headers.ts';
import { describeError } from '../../core/errors.ts';
import { outMessage, type OutMessage } from './message.ts';

const utf8 = new TextEncoder();

/** The messages of one event (none for a logical decoding message); an event that cannot be encoded gives one undeliverable message. */
export function debeziumMessages(event: ChangeEvent, topic: string, headers: MessageHeaders, options: DebeziumOptions): OutMessage[] {
  try {
    return debeziumRecords(event, options).map((r) =>
      outMessage(event, topic, r.key === null ? undefined : utf8.encode(debeziumJson(r.key)), r.value === null ? undefined : utf8.encode(debeziumJson(r.value)), headers));
  } catch (err) {
    return [outMessage(event, topic, undefined, undefined, headers, { code: 'ENCODING_FAILED', message: `the event cannot be encoded: ${describeError(err)}` })];
  }
}
