import { describe, expect, test } from 'bun:test';
import { locate, scanKeys } from '../../../src/config/locate.ts';

const text = `# top comment
http = "127.0.0.1:12080"   # trailing comment
tickerInterval = "10s"

[source.db1]
type = "postgres"
dsn = """
host=x
[not.a.table]
"""
"quoted key" = 1
topics = [
  "a", # comment ] inside
  [1, 2],
  { x = 1 },
]

[ sink . "kafka.1" ]
tableTopicMapping = { table1 = "topic1", "public.Users" = 'users' }
nested = { a = { b = 1 } }
sources.list = ["db1"]

[sink.stub]
  type = 'stub_log'
`;

const keys = scanKeys(text);
const at = (...path: string[]) => locate(keys, path);

describe('scanKeys and locate', () => {
  test('top-level keys', () => {
    expect(at('http')).toEqual({ line: 2, column: 1 });
    expect(at('tickerInterval')).toEqual({ line: 3, column: 1 });
  });

  test('table headers and keys under them', () => {
    expect(at('source', 'db1')).toEqual({ line: 5, column: 1 });
    expect(at('source', 'db1', 'type')).toEqual({ line: 6, column: 1 });
    expect(at('source', 'db1', 'dsn')).toEqual({ line: 7, column: 1 });
  });

  test('multi-line strings do not produce headers or keys', () => {
    expect(at('not', 'a', 'table')).toBeUndefined();
    expect(at('source', 'db1', 'quoted key')).toEqual({ line: 11, column: 1 });
  });

  test('multi-line arrays with comments and nested values are skipped', () => {
    expect(at('source', 'db1', 'topics')).toEqual({ line: 12, column: 1 });
    expect(keys.some((k) => k.path.at(-1) === 'x')).toBe(false);
    expect(keys.map((k) => k.path.join('.'))).toEqual([
      'http', 'tickerInterval', 'source.db1', 'source.db1.type', 'source.db1.dsn', 'source.db1.quoted key', 'source.db1.topics',
      'sink.kafka.1', 'sink.kafka.1.tableTopicMapping', 'sink.kafka.1.tableTopicMapping.table1', 'sink.kafka.1.tableTopicMapping.public.Users',
      'sink.kafka.1.nested', 'sink.kafka.1.nested.a', 'sink.kafka.1.nested.a.b', 'sink.kafka.1.sources.list', 'sink.stub', 'sink.stub.type',
    ]);
  });

  test('quoted and spaced header segments', () => {
    expect(at('sink', 'kafka.1')).toEqual({ line: 18, column: 1 });
  });

  test('keys inside inline tables, case preserved', () => {
    expect(at('sink', 'kafka.1', 'tableTopicMapping')).toEqual({ line: 19, column: 1 });
    expect(at('sink', 'kafka.1', 'tableTopicMapping', 'table1')).toEqual({ line: 19, column: 23 });
    expect(at('sink', 'kafka.1', 'tableTopicMapping', 'public.Users')).toEqual({ line: 19, column: 42 });
    expect(at('sink', 'kafka.1', 'tableTopicMapping', 'public.users')).toEqual({ line: 19, column: 1 });
    expect(at('sink', 'kafka.1', 'nested', 'a', 'b')).toEqual({ line: 20, column: 18 });
  });

  test('dotted keys', () => {
    expect(at('sink', 'kafka.1', 'sources', 'list')).toEqual({ line: 21, column: 1 });
    expect(at('sink', 'kafka.1', 'sources')).toEqual({ line: 21, column: 1 });
  });

  test('indented keys', () => {
    expect(at('sink', 'stub', 'type')).toEqual({ line: 24, column: 3 });
  });

  test('a missing key falls back to its section, an unknown section to nothing', () => {
    expect(at('source', 'db1', 'publication')).toEqual({ line: 5, column: 1 });
    expect(at('source', 'nope')).toBeUndefined();
  });

  test('a table made only of dotted keys is found at its first key', () => {
    const dotted = scanKeys('http = "x"\nsource.db1.type = "postgres"\nsource.db1.dsn = "d"\n');
    expect(locate(dotted, ['source', 'db1'])).toEqual({ line: 2, column: 1 });
    expect(locate(dotted, ['source', 'db1', 'dsn'])).toEqual({ line: 3, column: 1 });
  });

  test('CRLF line endings', () => {
    const crlf = scanKeys('a = 1\r\n[t]\r\nb = 2\r\n');
    expect(locate(crlf, ['t', 'b'])).toEqual({ line: 3, column: 1 });
  });
});
