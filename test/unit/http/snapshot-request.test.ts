import { describe, expect, test } from 'bun:test';
import { parseSnapshotRequest } from '../../../src/http/snapshot-request.ts';

const message = (body: string) => {
  const parsed = parseSnapshotRequest(body);
  if (parsed.ok) throw new Error(`accepted: ${body}`);
  return parsed.message;
};

describe('parseSnapshotRequest', () => {
  test('tables, with or without a where', () => {
    expect(parseSnapshotRequest('{"tables": ["public.orders", "items"]}')).toEqual({ ok: true, request: { tables: ['public.orders', 'items'] } });
    expect(parseSnapshotRequest('{"tables": ["orders"], "where": "id > 10"}')).toEqual({ ok: true, request: { tables: ['orders'], where: 'id > 10' } });
  });

  test('not JSON, empty, or not an object', () => {
    expect(message('')).toStartWith('the body is empty: send a JSON object such as {"tables": ["public.orders"]');
    expect(message('tables=orders')).toStartWith('the body is not JSON (');
    expect(message('["public.orders"]')).toStartWith('the body must be a JSON object such as {"tables"');
    expect(message('["public.orders"]')).toEndWith(', not an array');
    expect(message('null')).toEndWith(', not null');
  });

  test('tables missing, not an array, empty, with a non-string or blank name, or a name twice', () => {
    expect(message('{}')).toStartWith('"tables" is missing: name the tables to copy, e.g. {"tables"');
    expect(message('{"where": "x"}')).toStartWith('"tables" is missing');
    expect(message('{"tables": "public.orders"}')).toBe('"tables" must be an array of table names ("schema.table" or "table"), not "public.orders"');
    expect(message('{"tables": []}')).toBe('"tables" is empty: name at least one table ("schema.table" or "table")');
    expect(message('{"tables": ["a", 42]}')).toBe('"tables"[1] must be a table name ("schema.table" or "table"), not 42');
    expect(message('{"tables": [" "]}')).toBe('"tables"[0] must be a table name ("schema.table" or "table"), not " "');
    expect(message('{"tables": [{"name": "a"}]}')).toBe('"tables"[0] must be a table name ("schema.table" or "table"), not an object');
    expect(message('{"tables": ["a", "a"]}')).toBe('"tables" names a twice');
  });

  test('where not a string, or blank', () => {
    expect(message('{"tables": ["a"], "where": 1}')).toBe('"where" must be a string (an SQL condition on the table\'s columns, without WHERE), not 1');
    expect(message('{"tables": ["a"], "where": ["id > 1"]}')).toEndWith('not an array');
    expect(message('{"tables": ["a"], "where": "  "}')).toBe('"where" is empty: leave it out to copy every row');
  });

  test('unknown fields are refused, with a suggestion when close', () => {
    expect(message('{"tabels": ["a"]}')).toBe('unknown field "tabels" (the fields are "tables" and "where"); did you mean "tables"?');
    expect(message('{"tables": ["a"], "limit": 10}')).toBe('unknown field "limit" (the fields are "tables" and "where")');
  });

  test('a long value is cut in the message', () => {
    expect(message(`{"tables": "${'x'.repeat(100)}"}`)).toEndWith(`not "${'x'.repeat(36)}...`);
  });
});
