/**
 * The NATS sink's `handlers = ["debezium"]` (docs/debezium.md, docs/nats.md): an event's Debezium
 * change records as messages, pure. A message's payload is the record's value (the JSON converter's
 * `schemas.enable=false` form), as Debezium Server's NATS JetStream sink publishes it; records with no
 * value (tombstones) are not published. Each message's `Nats-Msg-Id` is the event's UUID, with
 * `-<k>` for the k-th further record of the same event (an update of the key is a delete and a
 * create), so a redelivered event is dropped by the duplicate window like any other.
 */
import type { DebeziumOptions } from '../../event/debezium/envelope.ts';
import { debeziumRecords } from '../../event/debezium/envelope.ts';
import { debeziumJson } from '../../event/debezium/json.ts';
import type { ChangeEvent } from '../../event/event.ts';

const utf8 = new TextEncoder();

/** One message to publish: its `Nats-Msg-Id` and payload. */
export interface NatsMessage {
  id: string;
  data: Uint8Array;
}

/** The messages of one event (none for a logical decoding message); throws when it cannot be encoded. */
export function debeziumNatsMessages(event: ChangeEvent, options: DebeziumOptions): NatsMessage[] {
  const messages: NatsMessage[] = [];
  for (const record of debeziumRecords(event, { ...options, tombstones: false })) {
    if (record.value === null) continue;
    messages.push({ id: messages.length === 0 ? event.uuid : `${event.uuid}-${messages.length}`, data: utf8.encode(debeziumJson(record.value)) });
  }
  return messages;
}
