/** One test per class of config mistake, with the exact message and position an operator sees. */
import { describe, expect, test } from 'bun:test';
import { BASE, load, problems } from '../../helpers/config-load.ts';

describe('file-level problems', () => {
  test('TOML syntax errors keep the parser position', () => {
    expect(problems('http = "127.0.0.1:12080"\nboltdb = = "x"\n')).toEqual(['test.toml:2:10: invalid TOML: invalid value']);
  });

  test('a redefined table is a TOML error', () => {
    expect(problems(`${BASE}\n[sink.out]\ntype = "stub_log"\n`)[0]).toStartWith('test.toml:14:2: invalid TOML: ');
  });

  test('missing sources and sinks', () => {
    expect(problems('http = "127.0.0.1:12080"\n')).toEqual([
      'test.toml: source: no sources defined: add at least one [source.NAME] table',
      'test.toml: sink: no sinks defined: add at least one [sink.NAME] table',
    ]);
  });

  test('[[sink]] arrays of tables are not sinks', () => {
    expect(problems(`${BASE.replace(/\[sink\.out\][^]*$/, '')}[[sink]]\ntype = "stub_log"\n`)).toEqual([
      'test.toml:10:1: sink: expected [sink.NAME] tables, found an array',
    ]);
  });

  test('source and sink must be tables of tables', () => {
    expect(problems('http = "127.0.0.1:12080"\nsource = "db1"\n[sink.out]\ntype = "stub_log"\nsources = []\n')).toEqual([
      'test.toml:2:1: source: expected [source.NAME] tables, found a value',
      'test.toml:5:1: sink.out.sources: expected at least one entry, found an empty list',
    ]);
  });
});

describe('global keys', () => {
  test('http is required', () => {
    expect(problems(BASE.replace('http = "127.0.0.1:12080"\n', ''))).toEqual([
      'test.toml: http: required key is missing: listen address of the HTTP API (the status page at /, /health, /status, /stats, /debug, /metrics) as host:port; 127.0.0.1 keeps it local',
    ]);
  });

  test('http must be host:port', () => {
    expect(problems(BASE.replace('"127.0.0.1:12080"', '"localhost"'))).toEqual([
      'test.toml:1:1: http: expected host:port, e.g. "127.0.0.1:12080", found "localhost"',
    ]);
  });

  test('tickerInterval must not be negative', () => {
    expect(problems(`tickerInterval = "-1s"\n${BASE}`)).toEqual(['test.toml:1:1: tickerInterval: expected >= 0, found "-1s"']);
  });

  test('logLevel and logFormat take known values', () => {
    expect(problems(`logLevel = "verbose"\nlogFormat = "jsonl"\n${BASE}`)).toEqual([
      'test.toml:1:1: logLevel: expected one of "error", "warn", "info", "debug", found "verbose"',
      'test.toml:2:1: logFormat: expected one of "text", "json", found "jsonl"; did you mean "json"?',
    ]);
  });

  test('a postgres source without a state file', () => {
    expect(problems(BASE.replace('boltdb = "/tmp/state.db"\n', ''))).toEqual([
      'test.toml:3:1: source.db1: postgres source "db1" needs a state file to keep its position: set boltdb = "/var/lib/psql-streamer/state.db" (or stateFile = ...) at the top of the file',
    ]);
  });

  test('a malformed boltdb is reported once, not again as a missing state file', () => {
    expect(problems(BASE.replace('boltdb = "/tmp/state.db"', 'boltdb = ["/tmp/state.db"]'))).toEqual([
      'test.toml:2:1: boltdb: expected a file path as a quoted string, found ["/tmp/state.db"]',
    ]);
  });

  test('boltdb and stateFile together', () => {
    expect(problems(`stateFile = "/tmp/b.db"\n${BASE}`)).toEqual([
      'test.toml:3:1: boltdb: set twice, as "stateFile" and as "boltdb" (keys are case-insensitive and aliases count as the same key); keep one',
    ]);
  });
});

describe('keys', () => {
  test('unknown keys get a suggestion', () => {
    expect(problems(BASE.replace('publication', 'publicaton'))).toEqual([
      'test.toml:7:1: source.db1.publicaton: unknown key; did you mean "publication"?',
      'test.toml:4:1: source.db1.publication: required key is missing: publication to stream (CREATE PUBLICATION ... first); a comma list "a,b" streams several',
    ].sort());
  });

  test('unknown keys without a near match list the known ones', () => {
    expect(problems(BASE.replace('sources = ["db1"]', 'sources = ["db1"]\nflavour = "vanilla"'))).toEqual([
      'test.toml:13:1: sink.out.flavour: unknown key; known keys: sources, verbose, debug, type',
    ]);
  });

  test('unknown top-level keys', () => {
    expect(problems(`tickerIntervall = "1s"\n${BASE}`)).toEqual(['test.toml:1:1: tickerIntervall: unknown key; did you mean "tickerInterval"?']);
  });

  test('a key given twice in different case', () => {
    expect(problems(BASE.replace('publication = "pub1"', 'publication = "pub1"\nPublication = "pub2"'))).toEqual([
      'test.toml:8:1: source.db1.publication: set twice, as "publication" and as "Publication" (keys are case-insensitive and aliases count as the same key); keep one',
    ]);
  });

  test('required string keys must not be empty', () => {
    expect(problems(BASE.replace('publication = "pub1"', 'publication = ""'))).toEqual([
      'test.toml:7:1: source.db1.publication: expected a non-empty value, found ""',
    ]);
  });
});

describe('types', () => {
  test('type is required', () => {
    expect(problems(BASE.replace('type = "stub_discard"\n', ''))).toEqual([
      'test.toml:10:1: sink.out.type: required key is missing: the sink type, one of "kafka", "stub_log", "stub_discard", "file", "http", "nats"',
    ]);
  });

  test('an unknown type lists the known ones', () => {
    expect(problems(BASE.replace('"postgres"', '"postgresql"'))).toEqual([
      'test.toml:5:1: source.db1.type: unknown source type: expected one of "postgres", "kafka", found "postgresql"; did you mean "postgres"?',
    ]);
  });
});

describe('values', () => {
  test('a bare number for a duration is ambiguous', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\ntimeout = 2'))).toEqual([
      'test.toml:9:1: source.db1.timeout: expected a duration string such as "2s", found the bare number 2; a bare number is ambiguous (the original read it as nanoseconds)',
    ]);
  });

  test('a malformed duration', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchFlushInterval = "1 second"'))).toEqual([
      'test.toml:9:1: source.db1.batchFlushInterval: invalid duration "1 second": unknown unit " second" (use one of ns, us, ms, s, m, h)',
    ]);
  });

  test('integers: floats and words are rejected', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchSize = 1.5\nwalRetain = "lots"'))).toEqual([
      'test.toml:9:1: source.db1.batchSize: expected an integer, found 1.5',
      'test.toml:10:1: source.db1.walRetain: invalid size "lots": expected a number of bytes or a number with a unit (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB), e.g. "64MiB"',
    ]);
  });

  test('out-of-range values', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchSize = 0\nsendRetryInterval = "0s"\nwalRetain = -1\nwalPositionOverride = -5'))).toEqual([
      'test.toml:9:1: source.db1.batchSize: expected > 0, found 0',
      'test.toml:10:1: source.db1.sendRetryInterval: expected > 0, found "0s"',
      'test.toml:11:1: source.db1.walRetain: expected >= 0, found -1',
      'test.toml:12:1: source.db1.walPositionOverride: expected >= 0, found -5',
    ]);
  });

  test('booleans', () => {
    expect(problems(BASE.replace('sources = ["db1"]', 'sources = ["db1"]\nverbose = "yes"'))).toEqual([
      'test.toml:13:1: sink.out.verbose: expected true or false, found "yes"',
    ]);
  });

  test('a list where a string is expected', () => {
    expect(problems(BASE.replace('publication = "pub1"', 'publication = ["pub1"]'))).toEqual([
      'test.toml:7:1: source.db1.publication: expected a string, found ["pub1"]',
    ]);
  });

  test('maps of strings', () => {
    const sink = `${BASE}[sink.k]\ntype = "kafka"\nsources = ["db1"]\nhosts = ["k:9092"]\nhandlers = ["passthrough"]\n`;
    expect(problems(`${sink}tableTopicMapping = "users:users"\n`)).toEqual([
      'test.toml:18:1: sink.k.tableTopicMapping: expected a table of strings such as { table1 = "topic1" }, found "users:users"',
    ]);
    expect(problems(`${sink}tableTopicMapping = { users = 1 }\n`)).toEqual([
      'test.toml:18:1: sink.k.tableTopicMapping: "users": expected a string, found 1',
    ]);
  });

  test('secrets are not echoed', () => {
    expect(problems(BASE.replace('dsn = "dbname=test"', 'dsn = ["password=hunter2"]'))).toEqual([
      'test.toml:6:1: source.db1.dsn: expected a string, found an array',
    ]);
    const kafka = `${BASE}[sink.k]\ntype = "kafka"\nsources = ["db1"]\nhosts = ["k:9092"]\nhandlers = ["passthrough"]\ntopicFallback = "t"\nsaslPassword = 12345\n`;
    expect(problems(kafka)).toEqual(['test.toml:19:1: sink.k.saslPassword: needs saslMechanism ("PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512")']);
  });
});

describe('pipeline keys', () => {
  test('maxRetryInterval below sendRetryInterval', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nsendRetryInterval = "5s"\nmaxRetryInterval = "1s"'))).toEqual([
      'test.toml:10:1: source.db1.maxRetryInterval: expected at least sendRetryInterval (5s), found 1s',
    ]);
  });

  test('maxBufferedEvents below batchSize', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nbatchSize = 500\nmaxBufferedEvents = 100'))).toEqual([
      'test.toml:10:1: source.db1.maxBufferedEvents: expected at least batchSize (500) so that a full batch fits, found 100',
    ]);
  });
});

describe('sink subscriptions', () => {
  test('sources must name defined sources, with a suggestion for near misses', () => {
    expect(problems(BASE.replace('sources = ["db1"]', 'sources = ["DB1", "db2", "orders"]'))).toEqual([
      'test.toml:12:1: sink.out.sources: source "DB1" is not defined; did you mean "db1"?',
      'test.toml:12:1: sink.out.sources: source "db2" is not defined; did you mean "db1"?',
      'test.toml:12:1: sink.out.sources: source "orders" is not defined; defined sources: "db1"',
    ]);
  });

  test('a source listed twice', () => {
    expect(problems(BASE.replace('sources = ["db1"]', 'sources = ["db1", "db1"]'))).toEqual([
      'test.toml:12:1: sink.out.sources: "db1" is listed twice; list each entry once',
    ]);
  });

  test('sources is required', () => {
    expect(problems(BASE.replace('sources = ["db1"]\n', ''))).toEqual([
      'test.toml:10:1: sink.out.sources: required key is missing: names of the sources whose events this sink receives (exact, case-sensitive)',
    ]);
  });
});

const KAFKA_SINK = `${BASE}
[sink.k1]
type = "kafka"
sources = ["db1"]
hosts = ["kafka1:9092"]
handlers = ["passthrough"]
`;

describe('kafka sink', () => {
  test('needs a mapping or a fallback topic', () => {
    expect(problems(KAFKA_SINK)).toEqual(['test.toml:14:1: sink.k1.tableTopicMapping: no topic configured: set tableTopicMapping, topicFallback, or both']);
  });

  test('a mapped topic equal to the fallback, and an empty mapped topic', () => {
    expect(problems(`${KAFKA_SINK}topicFallback = "rest"\ntableTopicMapping = { users = "rest", orders = "" }\n`)).toEqual([
      'test.toml:20:1: sink.k1.tableTopicMapping: "users" maps to "rest", which is also topicFallback: remove the entry or choose another topic',
      'test.toml:20:1: sink.k1.tableTopicMapping: the topic of "orders" is empty: expected a topic name',
    ]);
  });

  test('unknown and repeated handlers', () => {
    expect(problems(KAFKA_SINK.replace('["passthrough"]', '["passthru"]') + 'topicFallback = "t"\n')).toEqual([
      'test.toml:18:1: sink.k1.handlers: entry 1: expected one of "passthrough", "debezium", found "passthru"; did you mean "passthrough"?',
    ]);
    expect(problems(KAFKA_SINK.replace('["passthrough"]', '["passthrough", "Passthrough"]') + 'topicFallback = "t"\n')).toEqual([
      'test.toml:18:1: sink.k1.handlers: "passthrough" is listed twice; list each entry once',
    ]);
  });

  test('hosts need a port', () => {
    expect(problems(KAFKA_SINK.replace('["kafka1:9092"]', '["kafka1:9092", "kafka2"]') + 'topicFallback = "t"\n')).toEqual([
      'test.toml:17:1: sink.k1.hosts: expected host:port, e.g. "kafka1:9092", found "kafka2"',
    ]);
  });

  test('requiredAcks takes what Kafka accepts', () => {
    expect(problems(`${KAFKA_SINK}topicFallback = "t"\nrequiredAcks = 2\n`)).toEqual([
      'test.toml:20:1: sink.k1.requiredAcks: expected -1 (all in-sync replicas), 0 (none) or 1 (the leader), found 2',
    ]);
  });

  test('domain is accepted with a warning', async () => {
    const { warnings } = await import('../../helpers/config-load.ts');
    expect(warnings(`${KAFKA_SINK}topicFallback = "t"\ndomain = "grpc:1234"\n`)).toEqual([
      'test.toml:20:1: sink.k1.domain: ignored: the original psql-streamer accepted this key without using it; remove it',
    ]);
  });

  test('SASL and TLS need their partners', () => {
    expect(problems(`${KAFKA_SINK}topicFallback = "t"\nsaslMechanism = "scram-sha-512"\ntlsCertFile = "/c.pem"\n`)).toEqual([
      'test.toml:20:1: sink.k1.saslMechanism: SCRAM-SHA-512 needs saslUsername',
      'test.toml:20:1: sink.k1.saslMechanism: SCRAM-SHA-512 needs saslPassword',
      'test.toml:21:1: sink.k1.tlsCertFile: needs tlsKeyFile (the private key of the client certificate)',
    ]);
  });

  test('idempotence needs acks from all replicas', () => {
    expect(problems(`${KAFKA_SINK}topicFallback = "t"\nidempotent = true\nrequiredAcks = 1\n`)).toEqual([
      'test.toml:20:1: sink.k1.idempotent: needs requiredAcks = -1, found requiredAcks = 1',
    ]);
  });
});

const KAFKA_SOURCE = `http = "127.0.0.1:12080"

[source.k]
type = "kafka"
hosts = ["kafka1:9092"]
topics = ["a", "b"]
groupID = "g"

[sink.out]
type = "stub_log"
sources = ["k"]
`;

describe('kafka source', () => {
  test('loads without a state file', async () => {
    const { load } = await import('../../helpers/config-load.ts');
    expect(load(KAFKA_SOURCE).sources[0]!.options.topics).toEqual(['a', 'b']);
  });

  test('a topic listed twice, a missing group', () => {
    expect(problems(KAFKA_SOURCE.replace('["a", "b"]', '["a", "b", "a"]').replace('groupID = "g"\n', ''))).toEqual([
      'test.toml:3:1: source.k.groupID: required key is missing: consumer group; instances with the same group share the partitions, a new group starts at the earliest offset',
      'test.toml:6:1: source.k.topics: "a" is listed twice; list each entry once',
    ]);
  });

  test('isolation is read_committed or read_uncommitted', () => {
    expect(problems(KAFKA_SOURCE.replace('groupID = "g"', 'groupID = "g"\nisolation = "committed"'))).toEqual([
      'test.toml:8:1: source.k.isolation: expected one of "read_committed", "read_uncommitted", found "committed"',
    ]);
    expect(() => load(KAFKA_SOURCE.replace('groupID = "g"', 'groupID = "g"\nisolation = "READ_UNCOMMITTED"'))).not.toThrow();
  });

  test('the dead-letter topic must not be consumed', () => {
    expect(problems(KAFKA_SOURCE.replace('groupID = "g"', 'groupID = "g"\ndeadLetterTopic = "b"'))).toEqual([
      'test.toml:8:1: source.k.deadLetterTopic: "b" is also in topics: expected a topic this source does not read',
    ]);
  });
});

describe('postgres source', () => {
  test('required keys', () => {
    expect(problems(BASE.replace('dsn = "dbname=test"\npublication = "pub1"\nreplicationSlot = "db1"\n', ''))).toEqual([
      'test.toml:4:1: source.db1.dsn: required key is missing: connection string: libpq key=value ("host=db1 dbname=app user=streamer sslmode=require") or a postgres:// URL; PG* variables and ~/.pgpass apply',
      'test.toml:4:1: source.db1.publication: required key is missing: publication to stream (CREATE PUBLICATION ... first); a comma list "a,b" streams several',
      'test.toml:4:1: source.db1.replicationSlot: required key is missing: logical replication slot (pgoutput); created when missing, never dropped',
    ]);
  });

  test('slot names as PostgreSQL accepts them', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "My-Slot"'))).toEqual([
      'test.toml:8:1: source.db1.replicationSlot: expected a slot name of 1 to 63 lower-case letters, digits and underscores, found "My-Slot"',
    ]);
  });

  test('walPositionOverride must be an LSN', () => {
    expect(problems(BASE.replace('replicationSlot = "db1"', 'replicationSlot = "db1"\nwalPositionOverride = "16/XYZ"'))).toEqual([
      'test.toml:9:1: source.db1.walPositionOverride: expected an LSN as a decimal integer or as "X/Y" (e.g. "16/B374D848"), found "16/XYZ"',
    ]);
  });
});

describe('environment variables', () => {
  test('a missing variable is named at its key', () => {
    expect(problems(BASE.replace('dsn = "dbname=test"', 'dsn = "dbname=test password=${PGPASSWORD}"'))).toEqual([
      'test.toml:6:1: source.db1.dsn: environment variable $PGPASSWORD is not set (referenced as ${...}; use ${NAME:-default} for a fallback)',
    ]);
  });
});

describe('all problems together', () => {
  test('every problem of the file is reported at once, in file order', () => {
    const text = `http = "nowhere"
tickerInterval = 10

[source.db1]
type = "postgres"
dsn = "dbname=test"
publication = "pub1"
batchSize = "many"

[sink.out]
type = "stub_dicsard"
sources = ["db1"]

[sink.k]
type = "kafka"
sources = ["db2"]
hosts = ["k:9092"]
handlers = ["passthrough"]
topicFallback = "t"
timeout = 5
`;
    expect(problems(text)).toEqual([
      'test.toml:1:1: http: expected host:port, e.g. "127.0.0.1:12080", found "nowhere"',
      'test.toml:2:1: tickerInterval: expected a duration string such as "10s", found the bare number 10; a bare number is ambiguous (the original read it as nanoseconds)',
      'test.toml:4:1: source.db1.replicationSlot: required key is missing: logical replication slot (pgoutput); created when missing, never dropped',
      'test.toml:4:1: source.db1: postgres source "db1" needs a state file to keep its position: set boltdb = "/var/lib/psql-streamer/state.db" (or stateFile = ...) at the top of the file',
      'test.toml:8:1: source.db1.batchSize: expected an integer, found "many"',
      'test.toml:11:1: sink.out.type: unknown sink type: expected one of "kafka", "stub_log", "stub_discard", "file", "http", "nats", found "stub_dicsard"; did you mean "stub_discard"?',
      'test.toml:16:1: sink.k.sources: source "db2" is not defined; did you mean "db1"?',
      'test.toml:20:1: sink.k.timeout: expected a duration string such as "5s", found the bare number 5; a bare number is ambiguous (the original read it as nanoseconds)',
    ]);
  });
});
