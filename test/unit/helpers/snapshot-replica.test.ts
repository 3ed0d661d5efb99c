/**
 * The snapshot tests' consumer (test/helpers/snapshot/): exact column texts from an event line, the
 * canonical forms of both sides, upserts/deletes with Unchanged TOAST values, the row comparison.
 * A checker that could not fail would prove nothing, so these show it does.
 */
import { describe, expect, test } from 'bun:test';
import { objectMembers, parseEventLine, snapshotShapeProblems } from '../../helpers/snapshot/events.ts';
import { canonicalFromEvent, canonicalFromSql, compareRows, expectedRows, Replica, streamOrder, UNKNOWN, type ColumnSpec } from '../../helpers/snapshot/replica.ts';

const line = (action: string, columns: string, extra = '') =>
  `{"Host":"h","Database":"d","Table":"t","Action":"${action}","WALPosition":123,"Timestamp":"x","UUID":"u","Columns":${columns},"Schema":"public"${extra}}`;

const COLS: ColumnSpec[] = [
  { name: 'id', kind: 'int', sql: '' },
  { name: 'big', kind: 'int', sql: '' },
  { name: 'doc', kind: 'json', sql: '' },
  { name: 'blob', kind: 'string', sql: '' },
  { name: 'tags', kind: 'array', sql: '' },
  { name: 'flag', kind: 'bool', sql: '' },
];

describe('reading an event line', () => {
  test('every column as its exact JSON text: int8 beyond 2^53, jsonb spacing, escapes, nested braces in strings', () => {
    const e = parseEventLine(line('insert', '{"big":9007199254740993,"blob":"a \\u003c}{\\"","doc":{"a": [1e1000, "}"]},"id":1,"tags":["x,y",null]}', ',"Snapshot":true'));
    expect([...e.columns]).toEqual([['big', '9007199254740993'], ['blob', '"a \\u003c}{\\""'], ['doc', '{"a": [1e1000, "}"]}'], ['id', '1'], ['tags', '["x,y",null]']]);
    expect(e.snapshot).toBe(true);
    expect(e.keys.at(-1)).toBe('Snapshot');
    expect(snapshotShapeProblems(e)).toEqual([]);
  });

  test('a snapshot row with a commit position or Snapshot not last is reported', () => {
    const e = parseEventLine(line('insert', '{"id":1}', ',"XID":5,"CommitLSN":9,"Snapshot":true,"Key":["id"]'));
    expect(snapshotShapeProblems(e)).toEqual(['"Snapshot" is not the last key (keys: Host,Database,Table,Action,WALPosition,Timestamp,UUID,Columns,Schema,XID,CommitLSN,Snapshot,Key)', 'has XID', 'has CommitLSN']);
    expect(objectMembers('{}')).toEqual([]);
    expect(() => parseEventLine('{"Columns":{"id":1')).toThrow();
  });
});

describe('canonical forms', () => {
  test('the event side and the SQL side agree on equal values and differ on different ones', () => {
    expect(canonicalFromEvent('string', '"a\\u003cb\\u0026"')).toBe(canonicalFromSql('string', 'a<b&'));
    expect(canonicalFromEvent('int', '9007199254740993')).toBe(canonicalFromSql('int', '9007199254740993'));
    expect(canonicalFromEvent('int', '9007199254740993')).not.toBe(canonicalFromSql('int', '9007199254740992'));
    expect(canonicalFromEvent('bool', 'true')).toBe(canonicalFromSql('bool', 't'));
    expect(canonicalFromEvent('array', '["a,b","c\\"d",null,"7"]')).toBe(canonicalFromSql('array', '["a,b","c\\"d",null,"7"]'));
    expect(canonicalFromEvent('string', 'null')).toBe(canonicalFromSql('string', null));
    expect(canonicalFromEvent('string', '""')).not.toBe(canonicalFromSql('string', null));
    expect(canonicalFromEvent('string', '"12.50"')).not.toBe(canonicalFromSql('string', '12.5'));
    expect(() => canonicalFromEvent('int', '1.5')).toThrow('not an integer');
  });
});

describe('the replica', () => {
  const row = (id: number, blob: string, extra = '') => `{"big":1,"blob":${JSON.stringify(blob)},"doc":null,"flag":true,"id":${id},"tags":[]${extra}}`;

  test('upserts, deletes, and keeps the old value of an Unchanged column', () => {
    const r = new Replica('t', COLS);
    r.apply(parseEventLine(line('insert', row(1, 'big value'), ',"Snapshot":true')));
    r.apply(parseEventLine(line('insert', row(2, 'x'))));
    r.apply(parseEventLine(line('update', '{"big":2,"doc":null,"flag":false,"id":1,"tags":["n"]}', ',"Unchanged":["blob"]')));
    r.apply(parseEventLine(line('delete', '{"big":null,"blob":null,"doc":null,"flag":null,"id":2,"tags":null}')));
    expect(r.rows.get('1')?.get('blob')).toBe('"big value"');
    expect(r.rows.get('1')?.get('big')).toBe('2');
    expect(r.rows.has('2')).toBe(false);
    expect(r.stats.snapshotIds).toEqual(new Set(['1']));
    expect(r.stats.streamIds).toEqual(new Set(['1', '2']));
    expect(r.stats.unknownUnchanged).toBe(0);
  });

  test('an update that changed the key moves the row: the old key goes, Unchanged values come from the old key\'s row', () => {
    const r = new Replica('t', COLS);
    r.apply(parseEventLine(line('insert', row(4, 'big value'), ',"Snapshot":true')));
    r.apply(parseEventLine(line('update', '{"big":1,"doc":null,"flag":true,"id":7,"tags":[]}', ',"Old":{"big":null,"blob":null,"doc":null,"flag":null,"id":4,"tags":null},"Unchanged":["blob"]')));
    expect(r.rows.has('4')).toBe(false);
    expect(r.rows.get('7')?.get('blob')).toBe('"big value"');
    expect(r.stats.streamIds).toEqual(new Set(['7', '4']));
    expect(r.stats.unknownUnchanged).toBe(0);
  });

  test('an Unchanged value of a row it never had is UNKNOWN and fails the comparison', () => {
    const r = new Replica('t', COLS);
    r.apply(parseEventLine(line('update', '{"big":2,"doc":null,"flag":false,"id":5,"tags":[]}', ',"Unchanged":["blob"]')));
    expect(r.rows.get('5')?.get('blob')).toBe(UNKNOWN);
    expect(r.stats.unknownUnchanged).toBe(1);
    const expected = expectedRows(COLS, [{ id: '5', big: '2', doc: null, blob: 'v', tags: '[]', flag: 'f' }]);
    const diff = compareRows(r.rows, expected, COLS);
    expect(diff.count).toBe(1);
    expect(diff.examples[0]).toStartWith('row 5: blob');
  });

  test('the comparison names missing rows, stale rows and wrong values', () => {
    const r = new Replica('t', COLS);
    r.apply(parseEventLine(line('insert', row(1, 'a'))));
    r.apply(parseEventLine(line('insert', row(3, 'old'))));
    r.apply(parseEventLine(line('insert', row(9, 'deleted in the table'))));
    const expected = expectedRows(COLS, [
      { id: '1', big: '1', doc: null, blob: 'a', tags: '[]', flag: 't' },
      { id: '2', big: '1', doc: null, blob: 'b', tags: '[]', flag: 't' },
      { id: '3', big: '1', doc: null, blob: 'new', tags: '[]', flag: 't' },
    ]);
    const diff = compareRows(r.rows, expected, COLS);
    expect(diff.examples).toEqual(['row 2: missing', 'row 3: blob "old" instead of "new"', 'row 9: present, but not in the table (stale: deleted)']);
    expect(r.apply(parseEventLine(line('insert', row(1, 'a')).replace('"Table":"t"', '"Table":"other"')))).toBe(false);
  });

  describe('partitioned (Kafka: each key in order, partitions in any order among each other)', () => {
    const at = (commitLsn: number, extra = '') => `,"CommitLSN":${commitLsn},"TxIndex":0${extra}`;
    const move = (from: number, to: number, commitLsn: number) =>
      parseEventLine(line('update', `{"big":1,"blob":"b","doc":null,"flag":true,"id":${to},"tags":[]}`, `,"Old":{"big":null,"blob":null,"doc":null,"flag":null,"id":${from},"tags":null}${at(commitLsn)}`));
    const snapshotRow = (id: number, walPosition: number) => parseEventLine(line('insert', row(id, 'copied'), ',"Snapshot":true').replace(/"WALPosition":\d+/, `"WALPosition":${walPosition}`));

    test('regression: a snapshot row of the old key arriving after the key change (its partition behind) does not bring the row back', () => {
      // The Kafka consistency test once kept a row the stream had moved away: the chunk row went out
      // before the move, into the old key's partition, and was read after the move's partition.
      for (const partitioned of [true, false]) {
        const r = new Replica('t', COLS, 'id', partitioned);
        r.apply(move(4, 7, 100));
        r.apply(snapshotRow(4, 100));
        expect(r.rows.has('4')).toBe(!partitioned);
        expect(r.rows.has('7')).toBe(true);
      }
    });

    test('a key change does not remove a newer row of its old key that arrived first; chained moves out of order end right', () => {
      const r = new Replica('t', COLS, 'id', true);
      r.apply(parseEventLine(line('insert', row(4, 'again'), at(200))));
      r.apply(move(4, 7, 150));
      expect(r.rows.get('4')?.get('blob')).toBe('"again"');
      // 1 -> 3 at 300, then 3 -> 5 at 400: the second arrives first.
      r.apply(parseEventLine(line('insert', row(1, 'x'), at(50))));
      r.apply(move(3, 5, 400));
      r.apply(move(1, 3, 300));
      expect([...r.rows.keys()].sort()).toEqual(['4', '5', '7']);
    });

    test('stream order: a snapshot row sits after changes committed before its position and before those at or after it', () => {
      const snap = snapshotRow(4, 100);
      const change = (commitLsn: number) => parseEventLine(line('insert', row(4, 'x'), at(commitLsn)));
      expect(streamOrder(change(99))).toBeLessThan(streamOrder(snap));
      expect(streamOrder(change(100))).toBeGreaterThan(streamOrder(snap));
    });
  });
});
