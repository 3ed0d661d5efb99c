import { describe, expect, test } from 'bun:test';
import { checkWhereShape, parseTableName, requestName } from '../../../../../src/sources/postgres/snapshot/request-text.ts';
import { SnapshotRequestError } from '../../../../../src/sources/postgres/snapshot/types.ts';

function refusal(fn: () => unknown): SnapshotRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SnapshotRequestError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('parseTableName', () => {
  test('schema.table, table (public), as written', () => {
    expect(parseTableName('sales.orders')).toEqual({ schema: 'sales', name: 'orders' });
    expect(parseTableName('orders')).toEqual({ schema: 'public', name: 'orders' });
    expect(parseTableName('  Sales.MixedCase ')).toEqual({ schema: 'Sales', name: 'MixedCase' });
    expect(parseTableName('my schema.a b')).toEqual({ schema: 'my schema', name: 'a b' });
  });

  test('quoted parts hold dots and quotes', () => {
    expect(parseTableName('"My Schema"."odd.table"')).toEqual({ schema: 'My Schema', name: 'odd.table' });
    expect(parseTableName('"a""b"')).toEqual({ schema: 'public', name: 'a"b' });
    expect(parseTableName('s."x.y"')).toEqual({ schema: 's', name: 'x.y' });
    expect(parseTableName('"s.1".t')).toEqual({ schema: 's.1', name: 't' });
  });

  test('unparseable names are 400s that say the syntax', () => {
    for (const text of ['', '.', 'a.', '.b', 'a.b.c', '"unterminated', '"a"b', 'a"b', '"".t', 'a..b']) {
      const err = refusal(() => parseTableName(text));
      expect(err.status).toBe(400);
      expect(err.message).toContain('schema.table');
    }
  });

  test('requestName gives back what parseTableName reads', () => {
    for (const [schema, name] of [['public', 't'], ['My Schema', 'odd.table'], ['a"b', ' c '], ['Upper', 'Case']] as const) {
      expect(parseTableName(requestName(schema, name))).toEqual({ schema, name });
    }
    expect(requestName('public', 'orders')).toBe('public.orders');
    expect(requestName('s', 'odd.table')).toBe('s."odd.table"');
  });
});

describe('checkWhereShape', () => {
  test('ordinary conditions pass', () => {
    for (const where of [
      'id > 10', "status = 'open' AND (total > 5 OR total IS NULL)", "name = 'it''s; fine)'", `"odd)col" = 1`,
      "note = E'\\' ; )'", 'body = $$ ; ) $$', 'body = $x$ $$ ; ) $x$', 'a = 1 -- comment ; )', 'a = 1 /* ; ) /* nested */ ) */',
      'f($1)', 'price$ = 1', 'created_at > now() - interval \'1 day\'',
    ]) expect(() => checkWhereShape(where)).not.toThrow();
  });

  test('breaking out of the parentheses, several statements or open quotes are 400s', () => {
    for (const [where, why] of [
      ['1=1); DELETE FROM t; --', '")" without'],
      ['1=1) OR (1=1', '")" without'],
      ['true; DELETE FROM t', '";"'],
      ['(a = 1', '"(" without'],
      ["a = 'open", 'unterminated string'],
      ["a = E'x\\'", 'unterminated string'],
      ['"a = 1', 'unterminated quoted name'],
      ['a = $$x', 'unterminated $$'],
      ['a = 1 /* x', 'unterminated /*'],
      ['   ', 'empty'],
    ]) {
      const err = refusal(() => checkWhereShape(where!));
      expect(err.status).toBe(400);
      expect(err.message).toContain(why!);
    }
  });

  test("a backslash ends a standard string's content as text, not an escape", () => {
    // 'a\' is a whole string in standard SQL: the ) after it counts.
    expect(refusal(() => checkWhereShape("x = 'a\\') OR (1=1")).message).toContain('")" without');
  });
});
