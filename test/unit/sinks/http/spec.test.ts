import { describe, expect, test } from 'bun:test';
import { BASE, load, problems } from '../../../helpers/config-load.ts';

const options = (text: string, env: Record<string, string> = {}) => load(text, env).sinks.find((s) => s.name === 'hook')!.options;

const hook = (lines: string) => `${BASE}\n[sink.hook]\ntype = "http"\nsources = ["db1"]\n${lines}\n`;

describe('[sink.NAME] type = "http"', () => {
  test('defaults; ${ENV} in url and header values', () => {
    expect(options(hook('url = "https://hooks.example.com/cdc?t=${T}"\nheaders = { Authorization = "Bearer ${T}" }'), { T: 'tok' })).toMatchObject({
      url: 'https://hooks.example.com/cdc?t=tok', format: 'ndjson', headers: { Authorization: 'Bearer tok' }, timeout: 10_000,
      maxRequestEvents: 5000, maxRequestBytes: 4 * 1024 * 1024, maxRetryAfter: 60_000, tlsInsecureSkipVerify: false,
    });
    expect(options(hook('url = "http://h/"\nformat = "JSON_ARRAY"\nmaxRequestBytes = "1MiB"'))).toMatchObject({ format: 'json_array', maxRequestBytes: 1024 * 1024 });
  });

  test('a missing url, an unknown variable, a bad scheme or format', () => {
    expect(problems(hook('')).join('\n')).toContain('url');
    expect(problems(hook('url = "https://h/${NOPE}"')).join('\n')).toContain('$NOPE is not set');
    expect(problems(hook('url = "ftp://h/"')).join('\n')).toContain('found the scheme "ftp"');
    expect(problems(hook('url = "not a url"')).join('\n')).toContain('expected an http:// or https:// URL');
    expect(problems(hook('url = "http://h/"\nformat = "xml"')).join('\n')).toContain('format');
  });

  test('TLS keys need https and come in pairs; headers are well-formed and not the client\'s own', () => {
    expect(problems(hook('url = "http://h/"\ntlsCaFile = "/ca.pem"')).join('\n')).toContain('needs an https:// url');
    expect(problems(hook('url = "https://h/"\ntlsCertFile = "/c.pem"')).join('\n')).toContain('needs tlsKeyFile');
    expect(problems(hook('url = "https://h/"\nheaders = { "Bad Name" = "x" }')).join('\n')).toContain('"Bad Name" is not a valid header name');
    expect(problems(hook('url = "https://h/"\nheaders = { "Content-Length" = "1" }')).join('\n')).toContain('Content-Length is set by the HTTP client');
  });

  test('header values are secrets: a wrong one is not echoed in the problem', () => {
    for (const lines of ['headers = "Bearer s3cret"', 'headers = { Authorization = ["Bearer s3cret"] }']) {
      const text = problems(hook(`url = "https://h/"\n${lines}`)).join('\n');
      expect(text).toContain('headers');
      expect(text).not.toContain('s3cret');
    }
  });

  test('handlers: passthrough by default; debezium with its keys; one handler; Debezium keys need it', () => {
    expect(options(hook('url = "http://h/"'))).toMatchObject({ handlers: ['passthrough'] });
    expect(options(hook('url = "http://h/"\nhandlers = ["debezium"]\ndebeziumTopicPrefix = "shop"\ndebeziumDecimalHandlingMode = "string"'))).toMatchObject({
      handlers: ['debezium'], debeziumTopicPrefix: 'shop', debeziumDecimalHandlingMode: 'string',
    });
    expect(problems(hook('url = "http://h/"\nhandlers = ["passthrough", "debezium"]')).join('\n')).toContain('expected one handler');
    expect(problems(hook('url = "http://h/"\ndebeziumTopicPrefix = "shop"')).join('\n')).toContain('needs handlers = ["debezium"]');
    expect(problems(hook('url = "http://h/"\nhandlers = ["avro"]')).join('\n')).toContain('avro');
    expect(problems(hook('url = "http://h/"\nhandlers = ["debezium"]\ndebeziumTombstones = true')).join('\n')).toContain('debeziumTombstones');
  });
});
