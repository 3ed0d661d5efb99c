import { describe, expect, test } from 'bun:test';
import { shapeTable, type CatalogColumn, type CatalogTable, type SnapshotTable } from '../../../../../src/sources/postgres/snapshot/table-shape.ts';
import { chunkQuery, keysQuery } from '../../../../../src/sources/postgres/snapshot/chunk-query.ts';

const column = (attnum: number, name: string, typeName = 'integer', generated = ''): CatalogColumn =>
  ({ attnum, name, typeOid: typeName === 'text' ? 25 : 23, typeModifier: -1, generated, typeName });

function catalog(overrides: Partial<CatalogTable> = {}): CatalogTable {
  return {
    relationId: 16400, schema: 'public', name: 'orders', replicaIdentity: 'd',
    columns: [column(1, 'id'), column(2, 'region', 'text'), column(3, 'total'), column(5, 'twice', 'integer', 's')],
    published: undefined, generatedByList: false, primaryKey: [2, 1], identityIndex: [], estimatedRows: 41.6, rowFilter: undefined,
    ...overrides,
  };
}

function shaped(overrides: Partial<CatalogTable> = {}): SnapshotTable {
  const result = shapeTable(catalog(overrides));
  if (!('table' in result)) throw new Error(result.refused.reason);
  return result.table;
}

const flags = (t: SnapshotTable) => t.relation.columns.map((c) => `${c.name}${c.isKey ? '*' : ''}${c.flags}`);

describe('shapeTable', () => {
  test('DEFAULT: the primary key flagged and read in key order; generated columns left out', () => {
    const t = shaped();
    expect(flags(t)).toEqual(['id*1', 'region*1', 'total0']);
    expect([t.keyColumns, t.keyTypes, t.qualified, t.estimatedRows]).toEqual([['region', 'id'], ['text', 'integer'], 'public.orders', 42]);
    expect(t.relation).toMatchObject({ tag: 'relation', xid: undefined, relationId: 16400, namespace: 'public', name: 'orders', replicaIdentity: 'd' });
  });

  test('FULL flags every sent column; NOTHING none; USING INDEX that index', () => {
    expect(flags(shaped({ replicaIdentity: 'f' }))).toEqual(['id*1', 'region*1', 'total*1']);
    const nothing = shaped({ replicaIdentity: 'n' });
    expect([flags(nothing), nothing.keyColumns]).toEqual([['id0', 'region0', 'total0'], ['region', 'id']]);
    const index = shaped({ replicaIdentity: 'i', identityIndex: [3] });
    expect([flags(index), index.keyColumns]).toEqual([['id0', 'region0', 'total*1'], ['total']]);
  });

  test('no usable key: refused with the reason', () => {
    for (const overrides of [{ primaryKey: [] }, { replicaIdentity: 'f' as const, primaryKey: [] }, { replicaIdentity: 'i' as const, identityIndex: [] }]) {
      expect(shapeTable(catalog(overrides))).toEqual({ refused: { table: 'public.orders', reason:
        'public.orders has no primary key or replica identity index: snapshots read in key order; add one (ALTER TABLE ... ADD PRIMARY KEY (...)) or leave it out' } });
    }
    expect(shapeTable(catalog({ schema: 'a.b', primaryKey: [] }))).toMatchObject({ refused: { table: '"a.b".orders' } });
    expect((shapeTable(catalog({ schema: 'a.b', primaryKey: [] })) as { refused: { reason: string } }).refused.reason).toStartWith('"a.b".orders has no');
  });

  test('a column list: only its columns, in column order; the key is read even when left out', () => {
    const t = shaped({ published: ['total', 'region'] });
    expect([flags(t), t.keyColumns]).toEqual([['region*1', 'total0'], ['region', 'id']]);
  });

  test('generated columns: never before PostgreSQL 18 even when listed, as listed from 18', () => {
    expect(flags(shaped({ published: ['id', 'twice'] }))).toEqual(['id*1']);
    expect(flags(shaped({ published: ['id', 'twice'], generatedByList: true }))).toEqual(['id*1', 'twice0']);
    expect(flags(shaped({ published: ['id'], generatedByList: true }))).toEqual(['id*1']);
  });

  test('the qualified name reads back as the table', () => {
    expect(shaped({ schema: 'My Schema', name: 'odd.t' }).qualified).toBe('My Schema."odd.t"');
    expect(shaped({ schema: 'Sales', name: 'Orders' }).qualified).toBe('Sales.Orders');
  });

  test('an unknown row count is 0', () => {
    expect(shaped({ estimatedRows: -1 }).estimatedRows).toBe(0);
  });
});

describe('chunkQuery', () => {
  test('the first chunk, then after a key; quoted names; row filter and where on lines of their own', () => {
    const t = shaped({ schema: 'My "S"', name: 'odd.t', rowFilter: '(total > 0)' });
    expect(chunkQuery(t, undefined, undefined, 10)).toEqual({
      text: 'SELECT "id", "region", "total" FROM "My ""S"""."odd.t" WHERE (\n(total > 0)\n) ORDER BY "region", "id" LIMIT 10',
      relationColumns: 3,
      keyIndexes: [1, 0],
    });
    // The key's text as literals (standard strings: a quote doubled, a backslash as it is).
    expect(chunkQuery({ ...t, rowFilter: undefined }, ["it's", '\\x'], 'id > 1 -- c', 5).text).toBe(
      'SELECT "id", "region", "total" FROM "My ""S"""."odd.t" WHERE ("region", "id") > (\'it\'\'s\'::text::text, \'\\x\'::text::integer) AND (\nid > 1 -- c\n) ORDER BY "region", "id" LIMIT 5');
  });

  test('key columns the relation does not send are selected after its columns', () => {
    const t = shaped({ published: ['total'] });
    expect(chunkQuery(t, undefined, undefined, 1)).toEqual({
      text: 'SELECT "total", "region", "id" FROM "public"."orders" ORDER BY "region", "id" LIMIT 1', relationColumns: 1, keyIndexes: [1, 2],
    });
  });

  test('at least one row; a key of the wrong width is refused', () => {
    expect(() => chunkQuery(shaped(), undefined, undefined, 0)).toThrow(RangeError);
    expect(() => chunkQuery(shaped(), ['1'], undefined, 5)).toThrow(/has 2 column/);
  });
});

describe('keysQuery', () => {
  test('each key a tuple of literals, with the row filter and where', () => {
    const t = shaped({ rowFilter: '(total > 0)' });
    expect(keysQuery(t, [['eu', '1'], ['us', '2']], 'id < 9').text).toBe(
      'SELECT "id", "region", "total" FROM "public"."orders" WHERE ("region", "id") IN ((\'eu\'::text::text, \'1\'::text::integer), (\'us\'::text::text, \'2\'::text::integer)) ' +
      'AND (\n(total > 0)\n) AND (\nid < 9\n) ORDER BY "region", "id"');
    expect(() => keysQuery(t, [], undefined)).toThrow(RangeError);
  });
});
