import { describe, expect, test } from 'bun:test';
import { UnknownRelationError } from '../../../src/pgoutput/errors.ts';
import type { Relation } from '../../../src/pgoutput/messages.ts';
import { RelationCache } from '../../../src/pgoutput/relations.ts';

function relation(relationId: number, columns: [string, boolean][], name = 'items'): Relation {
  return {
    tag: 'relation', xid: undefined, relationId, namespace: 'public', name, replicaIdentity: 'd',
    columns: columns.map(([column, isKey]) => ({ flags: isKey ? 1 : 0, isKey, name: column, typeOid: 25, typeModifier: -1 })),
  };
}

describe('RelationCache', () => {
  test('stores relations by OID with their key columns', () => {
    const cache = new RelationCache();
    const info = cache.setRelation(relation(100, [['tenant', true], ['id', true], ['name', false]]));
    expect(info.keyColumns).toEqual(['tenant', 'id']);
    expect(cache.get(100)).toBe(info);
    expect(cache.require(100).name).toBe('items');
    expect(cache.keyColumns(100)).toEqual(['tenant', 'id']);
    expect(cache.size).toBe(1);
  });

  test('unknown OIDs: get returns undefined, require and keyColumns throw UnknownRelationError', () => {
    const cache = new RelationCache();
    expect(cache.get(5)).toBeUndefined();
    expect(() => cache.require(5)).toThrow(UnknownRelationError);
    expect(() => cache.keyColumns(5)).toThrow(/relation 5 is unknown/);
  });

  test('a re-sent Relation (schema change) replaces the entry', () => {
    const cache = new RelationCache();
    cache.setRelation(relation(100, [['id', true]]));
    cache.apply(relation(100, [['id', true], ['added', false]], 'renamed'));
    expect(cache.require(100).columns.map((c) => c.name)).toEqual(['id', 'added']);
    expect(cache.require(100).name).toBe('renamed');
    expect(cache.size).toBe(1);
  });

  test('entries do not change when the decoded message is changed later', () => {
    const cache = new RelationCache();
    const message = relation(1, [['id', true]]);
    cache.setRelation(message);
    message.columns[0]!.name = 'changed';
    message.columns.push({ flags: 0, isKey: false, name: 'x', typeOid: 25, typeModifier: -1 });
    expect(cache.require(1).columns.map((c) => c.name)).toEqual(['id']);
    expect(Object.isFrozen(cache.require(1).columns)).toBe(true);
  });

  test('apply stores Relation and Type messages and ignores the rest', () => {
    const cache = new RelationCache();
    expect(cache.apply({ tag: 'type', xid: undefined, typeOid: 16500, namespace: 'public', name: 'mood' })).toBe(true);
    expect(cache.getType(16500)).toMatchObject({ name: 'mood', namespace: 'public' });
    expect(cache.apply({ tag: 'begin', finalLsn: 1n, commitTime: 0n, xid: 1 })).toBe(false);
    expect(cache.apply(relation(7, []))).toBe(true);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.getType(16500)).toBeUndefined();
  });
});
