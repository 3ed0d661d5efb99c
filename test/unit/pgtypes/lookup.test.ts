import { describe, expect, test } from 'bun:test';
import { parseTypeLookupRow, TYPE_LOOKUP_SQL, typeLookupSql } from '../../../src/pgtypes/lookup.ts';

describe('type lookup SQL', () => {
  test('TYPE_LOOKUP_SQL takes the OIDs as one oid[] parameter', () => {
    expect(TYPE_LOOKUP_SQL).toContain('$1::pg_catalog.oid[]');
    expect(TYPE_LOOKUP_SQL).not.toContain('$2');
  });

  test('typeLookupSql writes the OIDs in as an array literal', () => {
    const sql = typeLookupSql([16385, 16390]);
    expect(sql).toContain("'{16385,16390}'::pg_catalog.oid[]");
    expect(sql).not.toContain('$1');
  });

  test('typeLookupSql refuses anything but OIDs (nothing can be injected)', () => {
    expect(() => typeLookupSql([1.5])).toThrow(RangeError);
    expect(() => typeLookupSql([-1])).toThrow(RangeError);
    expect(() => typeLookupSql([2 ** 32])).toThrow(RangeError);
    expect(() => typeLookupSql(['1}\'; drop table x; --' as unknown as number])).toThrow(RangeError);
    expect(typeLookupSql([])).toContain("'{}'::pg_catalog.oid[]");
  });
});

describe('parseTypeLookupRow', () => {
  test('rows by column name', () => {
    expect(parseTypeLookupRow({ oid: '16400', name: 'mood', typtype: 'e', base_oid: null, elem_oid: null, delimiter: null }))
      .toEqual({ oid: 16400, name: 'mood', kind: 'enum' });
    expect(parseTypeLookupRow({ oid: '16399', name: 'mood[]', typtype: 'b', base_oid: null, elem_oid: '16400', delimiter: ',' }))
      .toEqual({ oid: 16399, name: 'mood[]', kind: 'base', elemOid: 16400, delimiter: ',' });
    expect(parseTypeLookupRow({ oid: '16410', name: 'positive', typtype: 'd', base_oid: '23', elem_oid: null, delimiter: null }))
      .toEqual({ oid: 16410, name: 'positive', kind: 'domain', baseOid: 23 });
  });

  test('rows as arrays in the query column order', () => {
    expect(parseTypeLookupRow(['16420', 'pair', 'c', null, null, null])).toEqual({ oid: 16420, name: 'pair', kind: 'composite' });
    expect(parseTypeLookupRow(['16421', 'floatrange', 'r', null, null, null]).kind).toBe('range');
    expect(parseTypeLookupRow(['16422', 'floatmultirange', 'm', null, null, null]).kind).toBe('multirange');
    expect(parseTypeLookupRow(['2249', 'record', 'p', null, null, null]).kind).toBe('pseudo');
    expect(parseTypeLookupRow(['16423', 'x', 'z', '0', '0', ''])).toEqual({ oid: 16423, name: 'x', kind: 'base' });
  });

  test('a row without an oid is an error', () => {
    expect(() => parseTypeLookupRow({ oid: null, name: 'x', typtype: 'b', base_oid: null, elem_oid: null, delimiter: null }))
      .toThrow(/without a valid oid/);
    expect(() => parseTypeLookupRow(['abc', 'x', 'b', null, null, null])).toThrow(/without a valid oid/);
  });
});
