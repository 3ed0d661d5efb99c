import { describe, expect, test } from 'bun:test';
import { TupleMismatchError } from '../../../src/pgoutput/errors.ts';
import { UNCHANGED_TOAST, type Relation, type RelationColumn } from '../../../src/pgoutput/messages.ts';
import { RelationCache } from '../../../src/pgoutput/relations.ts';
import { rowChange } from '../../../src/pgoutput/rows.ts';

const relationMessage: Relation = {
  tag: 'relation', xid: undefined, relationId: 42, namespace: 'public', name: 'docs', replicaIdentity: 'd',
  columns: [
    { flags: 1, isKey: true, name: 'id', typeOid: 23, typeModifier: -1 },
    { flags: 0, isKey: false, name: 'body', typeOid: 25, typeModifier: -1 },
    { flags: 0, isKey: false, name: '__proto__', typeOid: 16, typeModifier: -1 },
    { flags: 0, isKey: false, name: 'blob', typeOid: 17, typeModifier: -1 },
  ],
};
const relation = new RelationCache().setRelation(relationMessage);
const calls: [number, string | Uint8Array, string][] = [];
const convert = (typeOid: number, raw: string | Uint8Array, column: RelationColumn) => {
  calls.push([typeOid, raw, column.name]);
  return typeOid === 23 && typeof raw === 'string' ? Number(raw) : raw;
};
const plain = (o: object | undefined) => (o === undefined ? undefined : { ...o });

describe('rowChange', () => {
  test('insert: named, converted columns; NULL stays null without calling convert', () => {
    calls.length = 0;
    const row = rowChange({ tag: 'insert', xid: undefined, relationId: 42, newTuple: ['7', 'text', null, Uint8Array.of(1)] }, relation, convert);
    expect(plain(row.columns)).toEqual({ id: 7, body: 'text', ['__proto__']: null, blob: Uint8Array.of(1) });
    expect(Object.getPrototypeOf(row.columns)).toBeNull();
    // Built in name order (RelationInfo.nameOrder), so JSON encoding finds the keys sorted.
    expect(Object.keys(row.columns)).toEqual(['__proto__', 'blob', 'body', 'id']);
    expect(row.old).toBeUndefined();
    expect(row.key).toEqual(['id']);
    expect(row.unchanged).toEqual([]);
    expect(calls).toEqual([[17, Uint8Array.of(1), 'blob'], [25, 'text', 'body'], [23, '7', 'id']]);
  });

  test('update: unchanged TOAST columns are listed and absent, never null', () => {
    const row = rowChange(
      { tag: 'update', xid: undefined, relationId: 42, oldKind: undefined, oldTuple: undefined, newTuple: ['7', UNCHANGED_TOAST, 't', UNCHANGED_TOAST] },
      relation,
      convert,
    );
    expect(plain(row.columns)).toEqual({ id: 7, ['__proto__']: 't' });
    expect('body' in row.columns).toBe(false);
    expect(row.unchanged).toEqual(['blob', 'body']);
    expect(row.old).toBeUndefined();
    expect(row.oldKind).toBeUndefined();
  });

  test("update with an old key ('K'): old holds the key columns only", () => {
    const row = rowChange(
      { tag: 'update', xid: undefined, relationId: 42, oldKind: 'key', oldTuple: ['6', null, null, null], newTuple: ['7', 'b', 'f', null] },
      relation,
      convert,
    );
    expect(plain(row.old)).toEqual({ id: 6 });
    expect(row.oldKind).toBe('key');
  });

  test("update with the old row ('O', REPLICA IDENTITY FULL): old holds every column", () => {
    const row = rowChange(
      { tag: 'update', xid: undefined, relationId: 42, oldKind: 'old', oldTuple: ['7', 'before', null, Uint8Array.of(2)], newTuple: ['7', 'after', null, UNCHANGED_TOAST] },
      relation,
      convert,
    );
    expect(plain(row.old)).toEqual({ id: 7, body: 'before', ['__proto__']: null, blob: Uint8Array.of(2) });
    expect(plain(row.columns)).toEqual({ id: 7, body: 'after', ['__proto__']: null });
    expect(row.unchanged).toEqual(['blob']);
  });

  test("delete with a key: columns as sent (non-key NULL, like the original), old = the key", () => {
    const row = rowChange({ tag: 'delete', xid: undefined, relationId: 42, oldKind: 'key', oldTuple: ['9', null, null, null] }, relation, convert);
    expect(plain(row.columns)).toEqual({ id: 9, body: null, ['__proto__']: null, blob: null });
    expect(plain(row.old)).toEqual({ id: 9 });
    expect(row.oldKind).toBe('key');
    expect(row.key).toEqual(['id']);
  });

  test('delete with the old row: old equals columns', () => {
    const row = rowChange({ tag: 'delete', xid: undefined, relationId: 42, oldKind: 'old', oldTuple: ['9', 'b', 't', null] }, relation, convert);
    expect(plain(row.old)).toEqual(plain(row.columns));
  });

  test('a tuple that does not fit the relation throws TupleMismatchError', () => {
    expect(() => rowChange({ tag: 'insert', xid: undefined, relationId: 42, newTuple: ['1', 'x'] }, relation, convert)).toThrow(TupleMismatchError);
    expect(() => rowChange({ tag: 'insert', xid: undefined, relationId: 42, newTuple: ['1', 'x', null, null, null] }, relation, convert)).toThrow(
      /relation 42 has 4 columns but a tuple has 5/,
    );
  });
});
