import { describe, expect, test } from 'bun:test';
import { configFromText } from '../../../../src/components.ts';

const config = (sink: string) => `
http = "127.0.0.1:0"
boltdb = "/tmp/state.db"
[source.db1]
type = "postgres"
dsn = "postgres://u@localhost/db"
publication = "p"
replicationSlot = "s"

[sink.n]
type = "nats"
sources = ["db1"]
${sink}
`;

const problems = (sink: string, env: Record<string, string> = {}): string => {
  try {
    configFromText('t.toml', config(sink), env);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('[sink.NAME] type = "nats"', () => {
  test('a minimal sink: servers and a fallback subject; defaults', () => {
    const c = configFromText('t.toml', config('servers = ["nats://127.0.0.1:4222"]\nsubjectFallback = "cdc.{schema}.{table}"'), {});
    const o = c.sinks.find((s) => s.name === 'n')!.options as Record<string, unknown>;
    expect(o).toMatchObject({ servers: ['nats://127.0.0.1:4222'], subjectFallback: 'cdc.{schema}.{table}', tableSubjectMapping: {}, timeout: 5000, maxInFlight: 4096, createStream: false });
  });

  test('credentials from the environment', () => {
    const c = configFromText('t.toml', config('servers = ["n1:4222"]\nsubjectFallback = "x"\nuser = "app"\npassword = "${NATS_PASSWORD}"'), { NATS_PASSWORD: 'secret' });
    expect((c.sinks.find((s) => s.name === 'n')!.options as Record<string, unknown>).password).toBe('secret');
  });

  test('bad configurations name the key and what is expected', () => {
    expect(problems('servers = ["nats://127.0.0.1:4222"]')).toContain('no subject configured');
    expect(problems('servers = ["http://x:1"]\nsubjectFallback = "x"')).toContain('expected [nats://|tls://]host[:port]');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "cdc.{db}"')).toContain('unknown placeholder {db}');
    expect(problems('servers = ["n:4222"]\ntableSubjectMapping = { users = "cdc.*" }')).toContain('wildcard');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\ncreateStream = true')).toContain('needs stream');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\nstream = "a.b"')).toContain('expected a stream name');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\nuser = "u"')).toContain('needs password');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\ncredentialsFile = "a.creds"\nnkeySeed = "SUAM3ZGX7IPGQVZ4AUBRY4ZM2E7RFDWIMALRFU3MIMQ4M4K4AZRJG6A5NM"')).toContain('choose credentialsFile (which holds its own NKEY seed) or nkeySeed, not both');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\nnkeySeed = "nope"')).toContain('expected an NKEY user seed');
    expect(problems('servers = ["n:4222"]\nsubjectFallback = "x"\ntlsCertFile = "c.pem"')).toContain('needs tlsKeyFile');
  });

  test('handlers = ["debezium"]: Debezium subjects instead of the mapping; the keys that need it', () => {
    const srv = 'servers = ["n:4222"]';
    expect(problems(`${srv}\nhandlers = ["debezium"]\ndebeziumSubjects = true\ndebeziumTopicPrefix = "shop"`)).toBe('');
    expect(problems(`${srv}\nhandlers = ["debezium"]\nsubjectFallback = "cdc.{table}"\ndebeziumDecimalHandlingMode = "double"`)).toBe('');
    expect(problems(`${srv}\ndebeziumSubjects = true`)).toContain('needs handlers = ["debezium"]');
    expect(problems(`${srv}\nsubjectFallback = "x"\ndebeziumTopicPrefix = "shop"`)).toContain('needs handlers = ["debezium"]');
    expect(problems(`${srv}\nhandlers = ["debezium"]\ndebeziumSubjects = true\nsubjectFallback = "x"`)).toContain('names every subject');
    expect(problems(`${srv}\nhandlers = ["debezium"]\ndebeziumSubjects = true\ndebeziumTopicPrefix = "a b"`)).toContain('white space');
    expect(problems(`${srv}\nhandlers = ["debezium"]\ndebeziumSubjects = true\ndebeziumTopicPrefix = "{table}"`)).toContain('braces');
    expect(problems(`${srv}\nsubjectFallback = "x"\nhandlers = ["passthrough", "debezium"]`)).toContain('expected one handler');
    expect(problems(`${srv}\nhandlers = ["debezium"]\nsubjectFallback = "x"\ndebeziumTombstones = false`)).toContain('debeziumTombstones');
  });
});
