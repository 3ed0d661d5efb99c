#!/usr/bin/env bun
/**
 * Renders docs/configuration.md from the config specs, so the reference cannot drift from the
 * code. `bun scripts/gen-config-docs.ts` rewrites the file; `--check` exits 1 when it is stale.
 */
import { formatDuration } from '../src/config/duration.ts';
import type { AnyFieldSpec, SectionSpec } from '../src/config/fields.ts';
import { flagsSpec, globalSpec, pipelineSpec, subscriptionSpec } from '../src/config/schema.ts';
import { formatSize } from '../src/config/size.ts';
import type { ComponentSpec } from '../src/config/component-spec.ts';
import { sinkTypes, sourceTypes } from '../src/components.ts';

const DOCS_FILE = new URL('../docs/configuration.md', import.meta.url).pathname;

const KIND_NAMES: Record<AnyFieldSpec['kind'], string> = {
  string: 'string',
  path: 'path',
  int: 'integer',
  bool: 'boolean',
  duration: 'duration',
  size: 'size',
  lsn: 'LSN',
  stringList: 'list of strings',
  stringMap: 'table of strings',
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function typeOf(field: AnyFieldSpec): string {
  if (field.choices) {
    const values = field.choices.map((c) => `\`"${c}"\``).join(', ');
    return field.kind === 'stringList' ? `list of ${values}` : values;
  }
  return KIND_NAMES[field.kind];
}

function defaultOf(field: AnyFieldSpec): string {
  if (field.required) return '**required**';
  if (field.defaultText) return field.defaultText;
  const value = field.default;
  if (value === undefined) return 'unset';
  switch (field.kind) {
    case 'duration': return `\`"${formatDuration(value as number)}"\``;
    case 'size': return value === 0 ? '`0`' : `\`"${formatSize(value as number)}"\``;
    case 'string':
    case 'path': return `\`${JSON.stringify(value)}\``;
    case 'stringList': return '`[]`';
    case 'stringMap': return '`{}`';
    default: return `\`${String(value)}\``;
  }
}

function keyTable(spec: SectionSpec, exclude: readonly string[] = []): string {
  const rows = Object.entries(spec)
    .filter(([name]) => !exclude.includes(name))
    .map(([name, field]) => {
      const key = [`\`${name}\``, ...(field.aliases ?? []).map((a) => `(alias \`${a}\`)`)].join(' ');
      const doc = field.secret ? `${field.doc}. Secret: prefer \`\${VAR}\`.` : `${field.doc}.`;
      return `| ${cell(key)} | ${cell(typeOf(field))} | ${cell(defaultOf(field))} | ${field.original ? 'v1.1.0' : 'new'} | ${cell(doc)} |`;
    });
  return ['| Key | Type | Default | Since | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Hand-written notes per component type, shown under its key table. */
const NOTES: Record<string, string> = {
  'source:postgres': `Streams the changes of a publication through a logical replication slot (\`pgoutput\`). Its position
(the commit LSN of the last transaction every sink acknowledged) is kept in the state file, so this type
requires \`boltdb\`/\`stateFile\`. \`walRetain\` is an extra margin only: PostgreSQL is never told a
position beyond what was delivered and persisted.`,
  'source:kafka': `Consumes events (in the JSON of this version or of the original) from Kafka topics in a consumer
group. Offsets are committed only after every sink acknowledged the events before them.`,
  'sink:kafka': `Routes each event by its table: the topic mapped to \`schema.table\`, else the topic mapped to the
bare table name, else \`topicFallback\`; with none of these the event is counted as "no topic" and
dropped, as in the original. Keys of \`tableTopicMapping\` are exact and case-sensitive (the original
lower-cased them, so mixed-case tables never matched). **Defaults that differ from the original:**
\`key = "row"\` and \`partitioner = "murmur2"\`; set \`key = "original"\` and \`partitioner = "fnv1a"\` to
keep the original's keys and partitions. With \`handlers = ["debezium"]\` the messages are Debezium's
change records instead ([debezium.md](debezium.md)).`,
  'sink:stub_log': 'Logs "N events dumped" for every batch and acknowledges it. For trying things out.',
  'sink:stub_discard': 'Counts and drops every event. For benchmarks and trying things out.',
  'sink:file': `Appends every event as one line of JSON (the \`passthrough\` format) to \`path\`, or to standard output
with \`path = "-"\`. A batch is acknowledged only after its bytes were handed to the operating system
(and fsynced with \`fsync = true\`). With \`format = "debezium"\`, one line per Debezium change record
instead ([debezium.md](debezium.md)).`,
  'sink:http': `POSTs every batch to \`url\` (NDJSON or a JSON array of the \`passthrough\` events) and acknowledges it
on a 2xx answer. 408, 429, 5xx, 207 and network errors or timeouts are retried with the pipeline's
backoff (at least what \`Retry-After\` asks); 413 splits the request; any other 4xx is final: the
events go to \`deadLetterFile\`, or the pipeline stops. Each request carries an \`Idempotency-Key\`
derived from its events' UUIDs. See [http-sink.md](http-sink.md).`,
};

function componentSection(side: 'source' | 'sink', kind: ComponentSpec<SectionSpec>): string {
  const lines = [`### \`type = "${kind.type}"\` (${kind.componentType})`, ''];
  const note = NOTES[`${side}:${kind.type}`];
  if (note) lines.push(note, '');
  if (Object.keys(kind.options).length > 0) lines.push(keyTable(kind.options), '');
  else lines.push(`No keys besides the ones every ${side} has.`, '');
  if (kind.ignoredKeys?.length) {
    lines.push(`Accepted with a warning and ignored, as the original did: ${kind.ignoredKeys.map((k) => `\`${k}\``).join(', ')}.`, '');
  }
  return lines.join('\n');
}

const INTRO = `# Configuration

<!-- Generated by scripts/gen-config-docs.ts from the specs in src/: edit those, then run
     \`bun scripts/gen-config-docs.ts\`. -->

psql-streamer reads one TOML file: \`psql-streamer -config /etc/psql-streamer/psql-streamer.toml\`
(also \`--config\`). \`psql-streamer check -config FILE\` validates a file and exits 0 when it is
usable, 2 when it is not. The annotated example \`psql-streamer.toml\` at the top of the repository
shows every key.

A file written for the original psql-streamer v1.1.0 runs unchanged: the same sections
(\`[source.NAME]\`, \`[sink.NAME]\`), keys and defaults. Keys marked **new** in the tables below extend it.

## Values

- **Keys** are case-insensitive (\`batchSize\`, \`batchsize\` and \`BATCHSIZE\` are one key), as in the
  original. **Names** of sources and sinks and the keys of \`tableTopicMapping\` keep their case and
  match exactly.
- **Durations** are strings in Go's format: \`"300ms"\`, \`"1.5s"\`, \`"1m30s"\`, \`"2h"\` (units \`ns\`, \`us\`,
  \`ms\`, \`s\`, \`m\`, \`h\`). \`0\` may be written bare. Any other bare number is an error: the original read
  \`timeout = 2\` as 2 nanoseconds, which is never what was meant.
- **Sizes** are a number of bytes (\`1048576\`) or a string with a unit: \`"64MiB"\`, \`"1MB"\` (\`B\`, \`KB\`,
  \`KiB\`, \`MB\`, \`MiB\`, \`GB\`, \`GiB\`, \`TB\`, \`TiB\`).
- **LSNs** are a decimal integer (as the original) or PostgreSQL's \`"X/Y"\` form: \`"16/B374D848"\`.
- **Integers** may be given as numeric strings (\`"400"\`); **lists** as an array or, as the original
  allowed, one string of whitespace-separated entries; **booleans** as \`true\`/\`false\` (also \`"true"\`,
  \`"t"\`, \`"1"\`, \`1\` and their opposites).
- **Environment variables**: \`\${NAME}\` in any string value is replaced by the variable's value, so
  secrets stay out of the file (\`dsn = "host=db1 user=streamer password=\${PGPASSWORD}"\`). An unset
  variable is an error; \`\${NAME:-fallback}\` uses the fallback when it is unset or empty; \`$\${\`
  writes a literal \`\${\`.

## Mistakes

Every problem of the file is reported at once, one per line, as \`FILE:LINE:COLUMN: key.path: what was
found and what is expected\`, and the program exits with code 2:

\`\`\`
psql-streamer.toml:14:1: source.db1.timeout: expected a duration string such as "2s", found the bare number 2; a bare number is ambiguous (the original read it as nanoseconds)
psql-streamer.toml:22:1: sink.kafka1.topicFallbak: unknown key; did you mean "topicFallback"?
psql-streamer.toml:25:1: sink.kafka1.sources: source "DB1" is not defined; did you mean "db1"?
\`\`\`

Unknown keys are errors (the original ignored them silently, so a typo silently changed nothing).
Keys the original accepted without using them are accepted with a warning.
`;

const DIFFERENCES = `## Differences from the original

- Only TOML is read (the original chose JSON, YAML, HCL, INI, ... by the file extension).
- Names of sources and sinks and \`tableTopicMapping\` keys keep their case (the original lower-cased
  them, so a mixed-case source name failed with "source undefined" and mixed-case tables were never
  mapped).
- Unknown keys, bare numbers for durations, duplicate entries in \`sources\`, \`topics\` or \`handlers\`,
  empty topic names, \`requiredAcks\` other than -1, 0 or 1, broker addresses without a port and slot
  names PostgreSQL would refuse are configuration errors, reported together with their position.
- \`boltdb\` names an SQLite file now (an existing BoltDB file is not read); \`stateFile\` is a clearer
  name for it. A postgres source without it is a configuration error (the original panicked at start).
- \`sendRetryInterval\` is the first wait of a capped exponential backoff (\`maxRetryInterval\`) instead
  of a fixed period; the pipeline's memory is bounded by \`maxBufferedEvents\` and \`maxBufferedBytes\`.
- \`walPositionOverride\` also accepts \`"X/Y"\`; \`walRetain\` also accepts sizes such as \`"1MiB"\`.
- The Kafka sink keys messages by the row's key columns and partitions with murmur2 by default; the
  original's \`Host:Database:Table:Action\` key and FNV-1a partitioning are \`key = "original"\` and
  \`partitioner = "fnv1a"\`.
- \`\${ENV}\` interpolation is new.
`;

/** The whole reference, from the specs of every registered component type. */
export function renderConfigDocs(): string {
  const parts = [
    INTRO,
    '## Global keys',
    '',
    'At the top of the file, before any `[table]`.',
    '',
    keyTable(globalSpec),
    '',
    '## Sources: `[source.NAME]`',
    '',
    'Every source has `type` (one of ' + Object.keys(sourceTypes).map((t) => `\`"${t}"\``).join(', ') +
      ') and these keys, which configure its pipeline: events are delivered in batches to every sink that lists the source, and acknowledged to the source, in order, once every sink has them.',
    '',
    keyTable({ ...pipelineSpec, ...flagsSpec }),
    '',
    ...Object.values(sourceTypes).map((kind) => componentSection('source', kind)),
    '## Sinks: `[sink.NAME]`',
    '',
    'Every sink has `type` (one of ' + Object.keys(sinkTypes).map((t) => `\`"${t}"\``).join(', ') + ') and these keys. One sink may serve several sources.',
    '',
    keyTable({ ...subscriptionSpec, ...flagsSpec }),
    '',
    ...Object.values(sinkTypes).map((kind) => componentSection('sink', kind)),
    DIFFERENCES,
  ];
  return parts.join('\n');
}

if (import.meta.main) {
  const rendered = renderConfigDocs();
  if (process.argv.includes('--check')) {
    const current = await Bun.file(DOCS_FILE).text().catch(() => '');
    if (current !== rendered) {
      process.stderr.write(`${DOCS_FILE} is out of date: run bun scripts/gen-config-docs.ts\n`);
      process.exit(1);
    }
  } else {
    await Bun.write(DOCS_FILE, rendered);
    process.stdout.write(`wrote ${DOCS_FILE}\n`);
  }
}
