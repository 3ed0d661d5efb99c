/**
 * Values that used to load and fail (or misbehave) later: path keys given as numbers, invalid DSNs,
 * the HTTP security keys, invalid UTF-8. Each is a configuration error at load, with its place.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/components.ts';
import { ConfigError } from '../../../src/config/load.ts';
import { formatProblem } from '../../../src/config/problems.ts';
import { firstInvalidUtf8, utf8Problem } from '../../../src/config/utf8.ts';
import { BASE, load, problems } from '../../helpers/config-load.ts';

const dir = mkdtempSync(join(tmpdir(), 'psql-streamer-strict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withDsn = (dsn: string) => BASE.replace('dsn = "dbname=test"', `dsn = "${dsn}"`);

describe('path keys take quoted strings only', () => {
  test('regression: stateFile = 1e309 created ./Infinity; now an error naming the key', () => {
    expect(problems(BASE.replace('boltdb = "/tmp/state.db"', 'stateFile = 1e309'))).toEqual([
      'test.toml:2:1: boltdb: expected a file path as a quoted string, found Infinity',
    ]);
  });

  test('regression: a number or boolean for the file sink path, a Kafka TLS file or an HTTP TLS file loaded; now an error', () => {
    const text = `http = "127.0.0.1:1"
httpTlsCertFile = 443
httpTlsKeyFile = true
boltdb = "/tmp/s.db"
[source.db1]
type = "postgres"
dsn = "dbname=x"
publication = "p"
replicationSlot = "s"
[sink.f]
type = "file"
path = 12
sources = ["db1"]
[sink.k]
type = "kafka"
hosts = ["k:9092"]
handlers = ["passthrough"]
tlsCaFile = 1.5
sources = ["db1"]
`;
    expect(problems(text)).toEqual([
      'test.toml:2:1: httpTlsCertFile: expected a file path as a quoted string, found 443',
      'test.toml:3:1: httpTlsKeyFile: expected a file path as a quoted string, found a boolean (value hidden)',
      'test.toml:12:1: sink.f.path: expected a file path as a quoted string, found 12',
      'test.toml:18:1: sink.k.tlsCaFile: expected a file path as a quoted string, found 1.5',
    ]);
  });

  test('a quoted path with ${ENV} still works', () => {
    expect(load(BASE.replace('"/tmp/state.db"', '"${STATE_DIR}/state.db"'), { STATE_DIR: '/var/lib/x' }).stateFile).toBe('/var/lib/x/state.db');
  });
});

describe('regression: an invalid DSN passed `check`; now resolved at load as at startup (no connection)', () => {
  test.each([
    ['host=x port=abc', 'connection string: port must be an integer from 1 to 65535, not "abc"'],
    ['host=x port=70000', 'connection string: port must be an integer from 1 to 65535, not "70000"'],
    ['host=x sslmode=verify', 'connection string: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, not "verify"'],
    ['host=x dbnme=app', 'connection string: unknown key "dbnme" (did you mean "dbname"?)'],
    ['host=x service=prod', 'connection string: "service" is not supported by psql-streamer'],
    ["host=x password='open", 'connection string: unterminated quoted value of "password"'],
    ['postgres://u@h:99999/db', 'connection string: port must be an integer from 1 to 65535, not "99999"'],
  ])('%s', (dsn, message) => {
    expect(problems(withDsn(dsn))).toEqual([`test.toml:6:1: source.db1.dsn: ${message}`]);
  });

  test('PG* variables count as at run time: a bad PGPORT or PGSSLMODE fails the check', () => {
    expect(problems(withDsn('host=x'), { PGPORT: 'abc' })).toEqual(['test.toml:6:1: source.db1.dsn: connection string: port must be an integer from 1 to 65535, not "abc"']);
    expect(problems(withDsn('host=x'), { PGSSLMODE: 'on' })[0]).toContain('sslmode must be one of');
    // ... and a good string value wins over a bad variable, as in libpq.
    expect(load(withDsn('host=x port=5433'), { PGPORT: 'abc' }).sources).toHaveLength(1);
  });

  test('${ENV} is expanded first, then parsed as startup parses it', () => {
    expect(load(withDsn('host=x port=${PORT} password=${PW}'), { PORT: '5433', PW: 'p@ss:w0rd' }).sources).toHaveLength(1);
    // A value with a quote expanded into the string breaks it at startup too: caught here.
    expect(problems(withDsn('host=x password=\'${PW}'), { PW: "it's" })).toEqual(['test.toml:6:1: source.db1.dsn: connection string: missing "=" after "s"']);
    expect(problems(withDsn('host=x port=${PORT}'), { PORT: 'x1' })).toEqual(['test.toml:6:1: source.db1.dsn: connection string: port must be an integer from 1 to 65535, not "x1"']);
  });

  test('valid forms load: key=value, URL, server settings', () => {
    for (const dsn of ['host=db1 port=5432 dbname=app sslmode=require', 'postgres://u@db1:5432/app?sslmode=verify-full', 'host=x statement_timeout=0']) {
      expect(load(withDsn(dsn)).sources).toHaveLength(1);
    }
  });
});

describe('HTTP security keys', () => {
  const token = 'a1b2c3d4e5f6a7b8c9d0';
  test('defaults: no token, scope control, no TLS', () => {
    expect(load(BASE).httpSecurity).toEqual({ auth: 'control' });
  });

  test('token from the environment, scope all, TLS files', () => {
    const config = load(`httpToken = "\${TOKEN}"\nhttpAuth = "all"\nhttpTlsCertFile = "/c.pem"\nhttpTlsKeyFile = "/k.pem"\n${BASE}`, { TOKEN: token });
    expect(config.httpSecurity).toEqual({ token, auth: 'all', tls: { certFile: '/c.pem', keyFile: '/k.pem' } });
  });

  test('an empty token (an optional variable left unset) means no token', () => {
    expect(load(`httpToken = "\${TOKEN:-}"\n${BASE}`, {}).httpSecurity).toEqual({ auth: 'control' });
  });

  test('mistakes, with the token never echoed', () => {
    expect(problems(`httpToken = "short"\n${BASE}`)).toEqual([
      'test.toml:1:1: httpToken: expected at least 16 characters (e.g. the output of "openssl rand -hex 32"), found the value given',
    ]);
    expect(problems(`httpToken = "has space in it 0123456"\n${BASE}`)[0]).not.toContain('has space');
    expect(problems(`httpAuth = "all"\n${BASE}`)).toEqual([
      'test.toml:1:1: httpAuth: httpAuth = "all" needs httpToken (empty or unset here): set the token, or remove httpAuth',
    ]);
    expect(problems(`httpTlsCertFile = "/c.pem"\n${BASE}`)).toEqual(['test.toml:1:1: httpTlsCertFile: needs httpTlsKeyFile (the private key of the certificate)']);
    expect(problems(`httpTlsKeyFile = "/k.pem"\n${BASE}`)).toEqual(['test.toml:1:1: httpTlsKeyFile: needs httpTlsCertFile (the certificate of this key)']);
  });
});

describe('invalid UTF-8 in the config file', () => {
  test('firstInvalidUtf8 finds stray, truncated, overlong and surrogate sequences', () => {
    const bytes = (...b: number[]) => Uint8Array.from(b);
    expect(firstInvalidUtf8(new TextEncoder().encode('a é € 𝄞'))).toBe(-1);
    expect(firstInvalidUtf8(bytes(0x61, 0xff))).toBe(1);
    expect(firstInvalidUtf8(bytes(0x61, 0x62, 0xc3))).toBe(2); // truncated at the end
    expect(firstInvalidUtf8(bytes(0xc0, 0xaf))).toBe(0); // overlong "/"
    expect(firstInvalidUtf8(bytes(0xe0, 0x80, 0xaf))).toBe(0); // overlong
    expect(firstInvalidUtf8(bytes(0xed, 0xa0, 0x80))).toBe(0); // surrogate
    expect(firstInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // above U+10FFFF
    expect(firstInvalidUtf8(bytes(0x41, 0x80))).toBe(1); // lone continuation
    expect(utf8Problem(bytes(0x0a, 0x0a, 0x61, 0xe9, 0x0a))).toBe('invalid UTF-8 at byte 3 (line 3); save the file as UTF-8');
  });

  test('regression: a Latin-1 byte in a DSN became U+FFFD in the password; now an error naming byte and line', async () => {
    const file = join(dir, 'latin1.toml');
    const text = BASE.replace('dsn = "dbname=test"', 'dsn = "dbname=test password=caf\u0000"');
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf(0);
    bytes[at] = 0xe9; // "é" in Latin-1
    writeFileSync(file, bytes);
    try {
      await loadConfig(file, {});
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map(formatProblem)).toEqual([`${file}: invalid UTF-8 at byte ${at} (line 6); save the file as UTF-8`]);
    }
  });
});
