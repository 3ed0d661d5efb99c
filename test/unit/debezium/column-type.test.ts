/** TypeRegistry.columnType: the type an encoder writes a column by (ChangeEvent.columnTypes, docs/debezium.md). */
import { expect, test } from 'bun:test';
import { TypeRegistry } from '../../../src/pgtypes/registry.ts';

test('built-in types, arrays, domains, enums and unknown types', () => {
  const r = new TypeRegistry();
  r.define({ oid: 90001, name: 'public.positive', kind: 'domain', baseOid: 23 });
  r.define({ oid: 90002, name: 'public.tags', kind: 'domain', baseOid: 1009 });
  r.define({ oid: 90003, name: 'public.mood', kind: 'enum' });
  r.define({ oid: 90004, name: 'public.mood[]', kind: 'base', elemOid: 90003 });
  r.define({ oid: 90005, name: 'public.positive[]', kind: 'base', elemOid: 90001 });
  r.define({ oid: 90006, name: 'public.hstore', kind: 'base' });
  const of = (oid: number, typmod = -1) => r.columnType(oid, typmod);
  expect(of(1700, ((12 << 16) | 3) + 4)).toEqual({ name: 'numeric', typeModifier: ((12 << 16) | 3) + 4, array: false });
  expect(of(1007)).toEqual({ name: 'int4', typeModifier: -1, array: true });
  expect(of(90001)).toEqual({ name: 'int4', typeModifier: -1, array: false });
  expect(of(90002)).toEqual({ name: 'text', typeModifier: -1, array: true });
  expect(of(90003)).toEqual({ name: 'mood', typeModifier: -1, array: false });
  expect(of(90004)).toEqual({ name: 'mood', typeModifier: -1, array: true });
  expect(of(90005)).toEqual({ name: 'int4', typeModifier: -1, array: true });
  expect(of(90006)).toEqual({ name: 'hstore', typeModifier: -1, array: false });
  expect(of(99999)).toEqual({ name: '', typeModifier: -1, array: false });
});
