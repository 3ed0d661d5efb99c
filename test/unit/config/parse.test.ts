/** How values are read: leniency kept from the original, case rules, ${ENV}, defaults, order, warnings. */
import { describe, expect, test } from 'bun:test';
import { componentTypes } from '../../../src/components.ts';
import type { ComponentSpec, ComponentSpecs } from '../../../src/config/component-spec.ts';
import { defineSection } from '../../../src/config/fields.ts';
import { parseConfig } from '../../../src/config/parse.ts';
import { formatProblem } from '../../../src/config/problems.ts';
import { BASE, load, problems, warnings } from '../../helpers/config-load.ts';

describe('case rules', () => {
  test('keys and section kinds match case-insensitively', () => {
    const config = load(`HTTP = "127.0.0.1:1"
BoltDB = "/tmp/s.db"
[SOURCE.db1]
Type = "Postgres"
DSN = "dbname=x"
publication = "p"
REPLICATIONSLOT = "s"
batchsize = 7
[Sink.out]
TYPE = "STUB_LOG"
Sources = ["db1"]
Verbose = true
`);
    expect(config.http).toBe('127.0.0.1:1');
    expect(config.stateFile).toBe('/tmp/s.db');
    expect(config.sources[0]!.type).toBe('postgres');
    expect(config.sources[0]!.options.replicationSlot).toBe('s');
    expect(config.sources[0]!.pipeline.batchSize).toBe(7);
    expect(config.sinks[0]!.type).toBe('stub_log');
    expect(config.sinks[0]!.verbose).toBe(true);
  });

  test('names keep their case and match exactly (the original lower-cased them)', () => {
    const config = load(`${BASE}
[source.Orders]
type = "kafka"
hosts = ["k:9092"]
topics = ["o"]
groupID = "g"

[sink.Kafka1]
type = "kafka"
sources = ["Orders", "db1"]
hosts = ["k:9092"]
handlers = ["passthrough"]
tableTopicMapping = { Users = "users", "public.Invoices" = "invoices" }
`);
    expect(config.sources.map((s) => s.name)).toEqual(['db1', 'Orders']);
    expect(config.sinks.map((s) => s.name)).toEqual(['out', 'Kafka1']);
    expect(config.sinks[1]!.sources).toEqual(['Orders', 'db1']);
    expect(config.sinks[1]!.options.tableTopicMapping).toEqual({ Users: 'users', 'public.Invoices': 'invoices' });
  });

  test('[source.X] and [SOURCE.Y] are both sources', () => {
    const config = load(`${BASE}[SOURCE.k]\ntype = "kafka"\nhosts = ["k:9092"]\ntopics = ["t"]\ngroupID = "g"\n`);
    expect(config.sources.map((s) => s.name)).toEqual(['db1', 'k']);
  });

  test('the same name under two spellings of source is a duplicate', () => {
    expect(problems(`${BASE}[SOURCE.db1]\ntype = "kafka"\n`)).toEqual(['test.toml:13:1: source.db1: source "db1" is defined twice']);
  });
});

describe('lenient values, as the original read them', () => {
  test('numeric strings for integers, a whitespace-separated string for a list, 0/1 and "t"/"f" for booleans', () => {
    const config = load(`${BASE}
[source.k]
type = "kafka"
hosts = "k1:9092  k2:9092"
topics = "a b"
groupID = 42
batchSize = "250"
debug = "t"
verbose = 0
`.replace('sources = ["db1"]', 'sources = "db1 k"'));
    const k = config.sources[1]!;
    expect(k.options.hosts).toEqual(['k1:9092', 'k2:9092']);
    expect(k.options.topics).toEqual(['a', 'b']);
    expect(k.options.groupID).toBe('42');
    expect(k.pipeline.batchSize).toBe(250);
    expect([k.debug, k.verbose]).toEqual([true, false]);
    expect(config.sinks[0]!.sources).toEqual(['db1', 'k']);
  });

  test('a bare 0 is accepted for a duration: it is unambiguous', () => {
    expect(load(`tickerInterval = 0\n${BASE}`).tickerIntervalMs).toBe(0);
  });

  test('walPositionOverride: decimal as in the original, or X/Y; 64-bit values keep every digit', () => {
    const at = (value: string) => load(BASE.replace('replicationSlot = "db1"', `replicationSlot = "db1"\nwalPositionOverride = ${value}`)).sources[0]!.options.walPositionOverride;
    expect(at('94489280512')).toBe(94_489_280_512n);
    expect(at('"16/B374D848"')).toBe(0x16_b374_d848n);
    expect(at('"18446744073709551615"')).toBe(2n ** 64n - 1n);
    expect(at('"FFFFFFFF/FFFFFFFF"')).toBe(2n ** 64n - 1n);
  });

  test('sizes accept units', () => {
    const config = load(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nwalRetain = "1MiB"\nmaxBufferedBytes = "16MB"'));
    expect(config.sources[0]!.options.walRetain).toBe(1_048_576);
    expect(config.sources[0]!.pipeline.maxBufferedBytes).toBe(16_000_000);
  });

  test('choices take the canonical spelling', () => {
    const config = load(`logLevel = "DEBUG"\nlogFormat = "Json"\n${BASE}`);
    expect([config.logLevel, config.logFormat]).toEqual(['debug', 'json']);
  });
});

describe('environment variables', () => {
  const env = { PGHOST: 'db.internal', KAFKA: 'k1:9092', TOPIC: 'users-v2', BATCH: '64', RETRY: '250ms' };

  test('are expanded in strings, list entries, map values and typed values', () => {
    const config = load(`${BASE}
[sink.k]
type = "kafka"
sources = ["db1"]
hosts = ["\${KAFKA}", "\${KAFKA2:-k2:9092}"]
handlers = ["passthrough"]
tableTopicMapping = { users = "\${TOPIC}" }
topicFallback = "other-$\${TOPIC}"
`.replace('dsn = "dbname=test"', 'dsn = "host=${PGHOST} dbname=test"').replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchSize = "${BATCH}"\nsendRetryInterval = "${RETRY}"'), env);
    const db1 = config.sources[0]!;
    expect(db1.options.dsn).toBe('host=db.internal dbname=test');
    expect(db1.pipeline.batchSize).toBe(64);
    expect(db1.pipeline.sendRetryIntervalMs).toBe(250);
    const sink = config.sinks[1]!;
    expect(sink.options.hosts).toEqual(['k1:9092', 'k2:9092']);
    expect(sink.options.tableTopicMapping).toEqual({ users: 'users-v2' });
    expect(sink.options.topicFallback).toBe('other-${TOPIC}');
  });

  test('a missing variable inside a list names the entry', () => {
    expect(problems(BASE.replace('sources = ["db1"]', 'sources = ["db1", "${SECOND}"]'))).toEqual([
      'test.toml:12:1: sink.out.sources: entry 2: environment variable $SECOND is not set (referenced as ${...}; use ${NAME:-default} for a fallback)',
    ]);
  });
});

describe('defaults', () => {
  test('global and pipeline defaults', () => {
    const config = load(BASE);
    expect(config.tickerIntervalMs).toBe(0);
    expect(config.logLevel).toBe('info');
    expect(config.shutdownTimeoutMs).toBe(30_000);
    expect(config.sources[0]!.pipeline).toEqual({
      batchSize: 100,
      batchFlushIntervalMs: 1000,
      sendRetryIntervalMs: 100,
      maxRetryIntervalMs: 30_000,
      maxBufferedEvents: 10_000,
      maxBufferedBytes: 64 * 2 ** 20,
    });
    expect(config.sources[0]!.options).toMatchObject({ startRetryInterval: 5000, timeout: 2000, walPositionOverride: 0n, walRetain: 0 });
  });

  test('defaults that follow other keys', () => {
    const config = load(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchSize = 5000\nsendRetryInterval = "1m"'));
    expect(config.sources[0]!.pipeline.maxBufferedEvents).toBe(20_000);
    expect(config.sources[0]!.pipeline.maxRetryIntervalMs).toBe(60_000);
  });

  test('stateFile is the clearer name of boltdb; an empty boltdb means none', () => {
    expect(load(BASE.replace('boltdb =', 'stateFile =')).stateFile).toBe('/tmp/state.db');
    const kafkaOnly = 'http = "127.0.0.1:1"\nboltdb = ""\n[source.k]\ntype = "kafka"\nhosts = ["k:9092"]\ntopics = ["t"]\ngroupID = "g"\n[sink.s]\ntype = "stub_log"\nsources = ["k"]\n';
    expect(load(kafkaOnly).stateFile).toBeUndefined();
  });

  test('stub sinks accept verbose and debug (the original ignored them)', () => {
    const sink = load(BASE.replace('sources = ["db1"]', 'sources = ["db1"]\nverbose = true\ndebug = true')).sinks[0]!;
    expect([sink.verbose, sink.debug]).toEqual([true, true]);
    expect(sink.options).toEqual({});
  });
});

describe('order and places', () => {
  test('sections keep file order, even with numeric names', () => {
    const text = `http = "127.0.0.1:1"
[source.b]
type = "kafka"
hosts = ["k:9092"]
topics = ["t"]
groupID = "g"
[source.10]
type = "kafka"
hosts = ["k:9092"]
topics = ["t"]
groupID = "g"
[sink.s]
type = "stub_log"
sources = ["b", "10"]
`;
    const config = load(text);
    expect(config.sources.map((s) => s.name)).toEqual(['b', '10']);
    expect(config.sources.map((s) => s.location)).toEqual([{ line: 2, column: 1 }, { line: 7, column: 1 }]);
  });

  test('quoted names appear quoted in paths', () => {
    expect(problems(BASE.replace('[sink.out]', '[sink."out.1"]').replace('type = "stub_discard"', 'type = "stub_discard"\nfoo = 1'))).toEqual([
      'test.toml:12:1: sink."out.1".foo: unknown key; known keys: sources, verbose, debug, type',
    ]);
  });
});

describe('warnings', () => {
  test('a source that no sink reads', () => {
    const text = `${BASE}[source.spare]\ntype = "kafka"\nhosts = ["k:9092"]\ntopics = ["t"]\ngroupID = "g"\n`;
    expect(warnings(text)).toEqual(['test.toml:13:1: source.spare: no sink lists this source in its sources: its events will be read and dropped']);
  });

  test('warnings are returned with errors too', () => {
    const raw = { http: 'x', sink: { k: { type: 'kafka', domain: 'd' } } };
    const result = parseConfig(raw, { file: 'f.toml', text: '', env: {}, types: componentTypes });
    expect('errors' in result && result.warnings.map(formatProblem)).toEqual(['f.toml: sink.k.domain: ignored: the original psql-streamer accepted this key without using it; remove it']);
  });
});

describe('parseConfig', () => {
  // Specs only: the parser never builds a component, so it needs no `create`.
  const shoutOptions = defineSection({ volume: { kind: 'int', default: 11, doc: 'How loud' } });
  const shout: ComponentSpec<typeof shoutOptions> = {
    type: 'shout',
    componentType: 'Sink-Shout',
    options: shoutOptions,
    validate: (o) => (o.volume > 11 ? [{ key: 'volume', message: 'this one goes to 11' }] : []),
  };
  const types: ComponentSpecs = {
    sources: { fake: { type: 'fake', componentType: 'Source-Fake', options: defineSection({}) } },
    sinks: { shout },
  };

  test('works on plain objects with injected component types', () => {
    const result = parseConfig({ http: ':8080', source: { a: { type: 'fake' } }, sink: { b: { type: 'shout', sources: ['a'] } } }, { file: 'f.toml', text: '', env: {}, types });
    expect('config' in result && result.config.sinks[0]!.options).toEqual({ volume: 11 });
  });

  test("runs the component type's cross-key validation", () => {
    const result = parseConfig({ http: ':8080', source: { a: { type: 'fake' } }, sink: { b: { type: 'shout', sources: ['a'], VOLUME: 12n } } }, { file: 'f.toml', text: '', env: {}, types });
    expect('errors' in result && result.errors.map(formatProblem)).toEqual(['f.toml: sink.b.volume: this one goes to 11']);
  });

  test('a document that is not a table', () => {
    const result = parseConfig([1, 2], { file: 'f.toml', text: '', env: {}, types: componentTypes });
    expect('errors' in result && result.errors.map(formatProblem)).toEqual(['f.toml: expected a TOML document with key = value pairs and [tables]']);
  });
});

describe('component creation', () => {
  test('a postgres source with an unusable dsn fails to build with the config key named', async () => {
    const db1 = load(BASE).sources[0]!;
    const log = { warn() {} };
    await expect(db1.kind.create('db1', { ...db1.options, dsn: 'host=h port=notaport' }, { log, store: {} } as never)).rejects.toThrow('source.db1.dsn');
  });
});
