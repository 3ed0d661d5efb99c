/**
 * The `handlers` key of the sinks that can write Debezium's format as well as the original's event
 * JSON (Kafka, HTTP, NATS; docs/debezium.md): its choices and the cross-key rules they share.
 */
import type { OptionProblem } from '../component/type.ts';
import { debeziumFormatKeys } from '../event/debezium/format.ts';

/** "passthrough": the event JSON in the original's format; "debezium": Debezium's change records. */
export const SINK_HANDLERS = ['passthrough', 'debezium'] as const;

/**
 * The Debezium keys of a sink that sends only records' values (HTTP, NATS): without
 * debeziumTombstones, as a record with no value means nothing there (Debezium Server's HTTP and
 * NATS sinks skip them too).
 */
const { debeziumTombstones: _tombstones, ...valueKeys } = debeziumFormatKeys;
export const debeziumValueKeys = valueKeys;

/** More than one handler is refused: a sink writes one format. */
export function handlerCountProblems(handlers: readonly string[]): OptionProblem[] {
  return handlers.length > 1 ? [{ key: 'handlers', message: `expected one handler, found ${handlers.length}: choose "passthrough" or "debezium"` }] : [];
}

/** The Debezium keys of debeziumValueKeys set without handlers = ["debezium"]. */
export function debeziumKeyProblems(o: { handlers: readonly string[]; debeziumTopicPrefix?: string | undefined; debeziumDecimalHandlingMode?: string | undefined }): OptionProblem[] {
  if (o.handlers.includes('debezium')) return [];
  const problems: OptionProblem[] = [];
  for (const key of ['debeziumTopicPrefix', 'debeziumDecimalHandlingMode'] as const) {
    if (o[key] !== undefined) problems.push({ key, message: 'needs handlers = ["debezium"]' });
  }
  return problems;
}
