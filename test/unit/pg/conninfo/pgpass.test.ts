import { expect, test } from 'bun:test';
import { lookupPgpass, parsePgpass } from '../../../../src/pg/conninfo/pgpass.ts';

const FILE = [
  '# comment line',
  '',
  'db1.example.com:5432:app:alice:first',
  'db1.example.com:*:*:alice:second',
  '*:*:*:bob:bob\\:pass\\\\word',
  'my\\:host:5432:d\\*:u:escaped',
  'broken:line',
  'localhost:5432:*:*:local:with:colons',
  '*:*:*:*:catchall\r',
].join('\n');
const entries = parsePgpass(FILE);
const find = (host: string, port: string, database: string, user: string) => lookupPgpass(entries, { host, port, database, user });

test('first matching line wins; * matches anything', () => {
  expect(find('db1.example.com', '5432', 'app', 'alice')).toBe('first');
  expect(find('db1.example.com', '6000', 'other', 'alice')).toBe('second');
  expect(find('anything', '1', 'x', 'bob')).toBe('bob:pass\\word');
});

test('\\: and \\\\ escapes; an escaped * is a literal', () => {
  expect(find('my:host', '5432', 'd*', 'u')).toBe('escaped');
  expect(find('my:host', '5432', 'dx', 'u')).toBe('catchall');
});

test('the password is the rest of the line (colons included); CR is trimmed; short lines are skipped', () => {
  expect(find('localhost', '5432', 'x', 'y')).toBe('local:with:colons');
  expect(find('broken', 'line', 'x', 'y')).toBe('catchall');
  expect(entries.length).toBe(6);
});

test('no match, no password', () => {
  expect(lookupPgpass(parsePgpass('h:1:d:u:p'), { host: 'h', port: '2', database: 'd', user: 'u' })).toBeUndefined();
});
