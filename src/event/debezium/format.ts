/**
 * The Debezium format as a sink option (docs/debezium.md): the config keys a sink adds to offer it,
 * and an event's records as JSON lines `{"topic", "key", "value"}` (one per record: a delete with
 * tombstones is two lines, a logical decoding message none). Pure.
 */
import type { ChangeEvent } from '../event.ts';
import { debeziumRecords, type DebeziumOptions } from './envelope.ts';
import { debeziumJson } from './json.ts';
import type { DecimalMode } from './values.ts';

/** Defaults of the keys below (applied by debeziumOptions). */
const DEFAULTS = { prefix: 'psql-streamer', decimalMode: 'precise', tombstones: true } as const;

/**
 * Config keys of a sink that can write the Debezium format (spread into its defineSection). They
 * have no `default` (only `defaultText`), so code that builds a sink's options without them still
 * compiles; debeziumOptions applies the defaults.
 */
export const debeziumFormatKeys = {
  debeziumTopicPrefix: {
    kind: 'string', defaultText: JSON.stringify(DEFAULTS.prefix),
    doc: 'With the Debezium format: Debezium\'s topic.prefix, written as source.name and as the first part of each record\'s topic "<prefix>.<schema>.<table>"',
  },
  debeziumDecimalHandlingMode: {
    kind: 'string', defaultText: JSON.stringify(DEFAULTS.decimalMode), choices: ['precise', 'string', 'double'],
    doc: 'With the Debezium format: numeric and money values as Debezium\'s decimal.handling.mode writes them: "precise" base64 of the unscaled value (with its scale for an unconstrained numeric), "string", or "double"',
  },
  debeziumTombstones: {
    kind: 'bool', defaultText: String(DEFAULTS.tombstones),
    doc: 'With the Debezium format: a record with a null value after each delete (Debezium\'s tombstones.on.delete)',
  },
} as const;

/** The resolved keys above, as a sink holds them. */
export interface DebeziumFormatSettings {
  debeziumTopicPrefix?: string | undefined;
  debeziumDecimalHandlingMode?: string | undefined;
  debeziumTombstones?: boolean | undefined;
}

/** The encoder's options from the keys, with their defaults. */
export function debeziumOptions(settings: DebeziumFormatSettings): DebeziumOptions {
  return {
    prefix: settings.debeziumTopicPrefix ?? DEFAULTS.prefix,
    decimalMode: (settings.debeziumDecimalHandlingMode ?? DEFAULTS.decimalMode) as DecimalMode,
    tombstones: settings.debeziumTombstones ?? DEFAULTS.tombstones,
  };
}

/** An event's records as JSON lines without the final newline; '' when it has none. */
export function debeziumLines(event: ChangeEvent, options: DebeziumOptions): string {
  return debeziumRecords(event, options)
    .map((r) => `{"topic":${JSON.stringify(r.topic)},"key":${debeziumJson(r.key)},"value":${debeziumJson(r.value)}}`)
    .join('\n');
}
