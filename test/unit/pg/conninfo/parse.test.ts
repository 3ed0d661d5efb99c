import { describe, expect, test } from 'bun:test';
import { DsnError, isConnectionUri, parseConnectionString, parseKeywordValue, parseUri } from '../../../../src/pg/conninfo/parse.ts';

const kv = (text: string) => Object.fromEntries(parseKeywordValue(text));
const uri = (text: string) => Object.fromEntries(parseUri(text));

describe('keyword/value strings', () => {
  test('the original example DSN', () => {
    expect(kv('host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable')).toEqual({
      host: '127.0.0.1', port: '5432', user: 'postgres', dbname: 'test', sslmode: 'disable',
    });
  });

  test('spaces around "=", tabs and newlines between pairs', () => {
    expect(kv('  host = db1\tport= 5433\n user =u  ')).toEqual({ host: 'db1', port: '5433', user: 'u' });
  });

  test("quoted values: spaces, \\' and \\\\ escapes, empty quotes", () => {
    expect(kv("password='it\\'s a \\\\ secret' dbname='my db' options=''")).toEqual({
      password: "it's a \\ secret", dbname: 'my db', options: '',
    });
  });

  test('backslash escapes in unquoted values; "key=" at the end is empty', () => {
    expect(kv('password=a\\ b user=')).toEqual({ password: 'a b', user: '' });
  });

  test('as in libpq, spaces after "=" are skipped, so "user= dbname=x" gives user the text "dbname=x"', () => {
    expect(kv('user= dbname=x')).toEqual({ user: 'dbname=x' });
  });

  test('a later duplicate wins', () => {
    expect(kv('host=a host=b')).toEqual({ host: 'b' });
  });

  test('an empty string has no keys', () => {
    expect(kv('   ')).toEqual({});
  });

  test('errors name the key and never echo a value', () => {
    expect(() => kv('host')).toThrow('missing "=" after "host"');
    expect(() => kv('host db1')).toThrow(DsnError);
    expect(() => kv("password='never closed")).toThrow('unterminated quoted value of "password"');
    expect(() => kv("password='never closed")).not.toThrow(/never closed/);
    expect(() => kv('=x')).toThrow(/without a key/);
  });
});

describe('URIs', () => {
  test('user, password, host, port, dbname and query parameters', () => {
    expect(uri('postgresql://app:s3cret@db.example.com:5433/appdb?sslmode=verify-full&application_name=x')).toEqual({
      user: 'app', password: 's3cret', host: 'db.example.com', port: '5433', dbname: 'appdb', sslmode: 'verify-full', application_name: 'x',
    });
  });

  test('postgres:// works too, and every part is optional', () => {
    expect(uri('postgres://')).toEqual({});
    expect(uri('postgres://db')).toEqual({ host: 'db' });
    expect(uri('postgres://db/')).toEqual({ host: 'db' });
    expect(uri('postgres:///mydb')).toEqual({ dbname: 'mydb' });
    expect(uri('postgres://user@')).toEqual({ user: 'user' });
    expect(uri('postgres://:5433')).toEqual({ port: '5433' });
  });

  test('percent-decoding in user, password, dbname, host and query', () => {
    expect(uri('postgres://us%40er:p%3Aw%2Fd%25@h/d%20b?options=-c%20search_path%3Dx')).toEqual({
      user: 'us@er', password: 'p:w/d%', host: 'h', dbname: 'd b', options: '-c search_path=x',
    });
  });

  test('an unencoded @ in the password: the last @ ends the user part', () => {
    expect(uri('postgres://u:p@ss@h/d')).toEqual({ user: 'u', password: 'p@ss', host: 'h', dbname: 'd' });
  });

  test('IPv6 hosts in brackets, with and without a port', () => {
    expect(uri('postgresql://[::1]:5433/d')).toEqual({ host: '::1', port: '5433', dbname: 'd' });
    expect(uri('postgresql://[2001:db8::7]/d')).toEqual({ host: '2001:db8::7', dbname: 'd' });
    expect(() => uri('postgresql://[::1/d')).toThrow(/closing "\]"/);
  });

  test('unix socket directory: percent-encoded host or ?host=', () => {
    expect(uri('postgresql://%2Fvar%2Frun%2Fpostgresql/d')).toEqual({ host: '/var/run/postgresql', dbname: 'd' });
    expect(uri('postgresql:///d?host=/tmp/sock&port=5444')).toEqual({ host: '/tmp/sock', port: '5444', dbname: 'd' });
  });

  test('several hosts are kept comma-joined (dsn.ts refuses them)', () => {
    expect(uri('postgres://a:1,b:2/d')).toEqual({ host: 'a,b', port: '1,2', dbname: 'd' });
  });

  test('ssl=true means sslmode=require', () => {
    expect(uri('postgres://h/d?ssl=true')).toEqual({ host: 'h', dbname: 'd', sslmode: 'require' });
    expect(() => uri('postgres://h/d?ssl=1')).toThrow(/ssl must be "true"/);
  });

  test('bad percent-encoding and a parameter without "=" are errors that do not echo the password', () => {
    expect(() => uri('postgres://u:bad%zzpw@h/d')).toThrow('invalid percent-encoding in the password');
    expect(() => uri('postgres://u:bad%zzpw@h/d')).not.toThrow(/bad%zzpw/);
    expect(() => uri('postgres://h/d?sslmode')).toThrow(/without "key="/);
  });

  test('detection: URI prefixes vs keyword/value', () => {
    expect(isConnectionUri('  postgresql://x')).toBe(true);
    expect(isConnectionUri('postgres://x')).toBe(true);
    expect(isConnectionUri('host=postgres://x')).toBe(false);
    expect(Object.fromEntries(parseConnectionString('postgres://h/d'))).toEqual({ host: 'h', dbname: 'd' });
    expect(Object.fromEntries(parseConnectionString('host=h dbname=d'))).toEqual({ host: 'h', dbname: 'd' });
  });
});
