/**
 * Golden test of type conversion against the real server: a table with a column of every type,
 * edge values inserted by SQL, the rows read back as real pgoutput messages (through
 * pg_logical_slot_peek_binary_changes, whose tuple text is the type output text a walsender
 * sends), converted, and the event JSON of each value asserted. The decoding session uses the
 * settings the streamer's replication session uses (DateStyle ISO, TimeZone UTC, ...).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type postgres from 'postgres';
import { goJsonValue } from '../../../src/event/go-json.ts';
import { parseTypeLookupRow, TYPE_LOOKUP_SQL, typeLookupSql } from '../../../src/pgtypes/lookup.ts';
import { SESSION_PARAMS } from '../../../src/sources/postgres/source.ts';
import { TypeRegistry } from '../../../src/pgtypes/registry.ts';
import { dropSlot, serverMajor, testSince, uniqueName, usePostgres } from '../../helpers/pg.ts';
import { insertedRows, type InsertedRow } from '../../helpers/pgoutput-text.ts';

/** The replication session's settings (startup parameters), as the PostgreSQL source sends them. */
const STREAMER_SETTINGS = SESSION_PARAMS;

const BIG_NUMERIC = '123456789012345678901234567890.123456789012345678901234567890';

/** [column, SQL type, [SQL literal, expected JSON][]]; row k holds every column's k-th value (NULL when absent). */
const ALL_COLUMNS: [string, string, [string, string][]][] = [
  ['c_bool', 'bool', [['true', 'true'], ['false', 'false']]],
  ['c_int2', 'int2', [['-32768', '-32768'], ['32767', '32767']]],
  ['c_int4', 'int4', [['-2147483648', '-2147483648'], ['2147483647', '2147483647'], ['0', '0']]],
  ['c_int8', 'int8', [
    ['-9223372036854775808', '-9223372036854775808'], ['9223372036854775807', '9223372036854775807'],
    ['9007199254740993', '9007199254740993'], ['42', '42'],
  ]],
  ['c_oid', 'oid', [['4294967295', '4294967295'], ['0', '0']]],
  ['c_xid8', 'xid8', [["'18446744073709551615'", '18446744073709551615']]],
  ['c_float4', 'float4', [
    ["'NaN'", '"NaN"'], ["'Infinity'", '"Infinity"'], ["'-Infinity'", '"-Infinity"'], ['3.4028235e38', '3.4028235e+38'],
    ['1.1', '1.1'], ["'-0'", '-0'], ['1e-45', '1e-45'],
  ]],
  ['c_float8', 'float8', [
    ['0.1', '0.1'], ['1.7976931348623157e308', '1.7976931348623157e+308'], ['5e-324', '5e-324'], ["'NaN'", '"NaN"'],
    ["'-Infinity'", '"-Infinity"'], ["'-0'", '-0'], ['123456789.125', '123456789.125'],
  ]],
  ['c_numeric', 'numeric', [
    [BIG_NUMERIC, `"${BIG_NUMERIC}"`], ["'NaN'", '"NaN"'], ['1.50', '"1.50"'], ["'Infinity'", '"Infinity"'],
    ['-0.000000000000000000001', '"-0.000000000000000000001"'], ['1e30', '"1000000000000000000000000000000"'],
  ]],
  ['c_money', 'money', [['12.5', '"$12.50"'], ['-1234.56', '"-$1,234.56"']]],
  ['c_text', 'text', [
    [`E'a<b>&"\\\\\\n\\t'`, '"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\t"'], ["'日本語 😀 naïve'", '"日本語 😀 naïve"'], ["''", '""'],
  ]],
  ['c_varchar', 'varchar(20)', [["'hello'", '"hello"']]],
  ['c_bpchar', 'char(5)', [["'ab'", '"ab   "']]],
  ['c_name', 'name', [["'pg_class'", '"pg_class"']]],
  ['c_char', '"char"', [["'x'", '"x"']]],
  ['c_uuid', 'uuid', [["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"']]],
  ['c_json', 'json', [
    [`'{"b" : [1e1000, 0.10000000000000000001],\n  "a": "x\\ny"}'`, '{"b":[1e1000,0.10000000000000000001],"a":"x\\ny"}'],
    [`'"str"'`, '"str"'], ["'null'", 'null'],
  ]],
  ['c_jsonb', 'jsonb', [
    [`'{"b": [1.50, 12345678901234567890.5], "a": {"c": null}}'`, '{"a": {"c": null}, "b": [1.50, 12345678901234567890.5]}'],
    [`'[true, "\\u00e9 <"]'`, '[true, "é <"]'], ["'1e30'", '1000000000000000000000000000000'],
  ]],
  ['c_bytea', 'bytea', [[`'\\x00ff5c'`, '"\\\\x00ff5c"'], [`''`, '"\\\\x"']]],
  ['c_date', 'date', [
    ["'2020-01-02'", '"2020-01-02T00:00:00Z"'], ["'infinity'", '"infinity"'], ["'-infinity'", '"-infinity"'],
    ["'0044-03-15 BC'", '"-0043-03-15T00:00:00Z"'], ["'10000-01-01'", '"10000-01-01T00:00:00Z"'],
  ]],
  ['c_timestamp', 'timestamp', [
    ["'2020-01-02 03:04:05.123456'", '"2020-01-02T03:04:05.123456Z"'], ["'infinity'", '"infinity"'],
    ["'0044-03-15 12:00:00 BC'", '"-0043-03-15T12:00:00Z"'], ["'2020-01-02 03:04:05.1'", '"2020-01-02T03:04:05.1Z"'],
    ["'10000-01-01 00:00:00'", '"10000-01-01T00:00:00Z"'],
  ]],
  ['c_timestamptz', 'timestamptz', [
    ["'2020-01-02 03:04:05.5+05:30'", '"2020-01-01T21:34:05.5Z"'], ["'-infinity'", '"-infinity"'],
    ["'2020-06-01 12:00:00+00'", '"2020-06-01T12:00:00Z"'], ["'2020-01-02 03:04:05.120000+00'", '"2020-01-02T03:04:05.12Z"'],
  ]],
  ['c_time', 'time', [["'03:04:05.123'", '"03:04:05.123"']]],
  ['c_timetz', 'timetz', [["'03:04:05+05:30'", '"03:04:05+05:30"']]],
  ['c_interval', 'interval', [["'1 year 2 months 3 days 04:05:06.5'", '"1 year 2 mons 3 days 04:05:06.5"'], ["'-1 day'", '"-1 days"']]],
  ['c_inet', 'inet', [["'192.168.1.5/24'", '"192.168.1.5/24"'], ["'10.0.0.1'", '"10.0.0.1/32"'], ["'::1'", '"::1/128"']]],
  ['c_cidr', 'cidr', [["'10.0.0.0/8'", '"10.0.0.0/8"']]],
  ['c_macaddr', 'macaddr', [["'08:00:2b:01:02:03'", '"08:00:2b:01:02:03"']]],
  ['c_macaddr8', 'macaddr8', [["'08:00:2b:01:02:03:04:05'", '"08:00:2b:01:02:03:04:05"']]],
  ['c_bit', 'bit(3)', [["B'101'", '"101"']]],
  ['c_varbit', 'varbit', [["B'10101'", '"10101"']]],
  ['c_tsvector', 'tsvector', [["'fat cat'", '"\'cat\' \'fat\'"']]],
  ['c_tsquery', 'tsquery', [["'fat & rat'", '"\'fat\' \\u0026 \'rat\'"']]],
  ['c_xml', 'xml', [["'<a>b</a>'", '"\\u003ca\\u003eb\\u003c/a\\u003e"']]],
  ['c_point', 'point', [["'(1.5,2)'", '"(1.5,2)"']]],
  ['c_box', 'box', [["'(0,0),(1,1)'", '"(1,1),(0,0)"']]],
  ['c_pg_lsn', 'pg_lsn', [["'16/B374D848'", '"16/B374D848"']]],
  ['c_snapshot', 'pg_snapshot', [["'10:20:10,14,15'", '"10:20:10,14,15"']]],
  ['c_tid', 'tid', [["'(0,1)'", '"(0,1)"']]],
  ['c_int4range', 'int4range', [["'[1,10)'", '"[1,10)"'], ["'empty'", '"empty"'], ["'(,5]'", '"(,6)"']]],
  ['c_int4_array', 'int4[]', [
    ["'{{1,2},{3,NULL}}'", '[[1,2],[3,null]]'], ["'[0:1]={1,2}'", '[1,2]'], ["'{}'", '[]'],
  ]],
  ['c_int8_array', 'int8[]', [["'{9223372036854775807,-1}'", '[9223372036854775807,-1]']]],
  ['c_text_array', 'text[]', [
    [`'{"a,b","c\\"d",NULL,"NULL","","x\\\\y"," sp "}'`, '["a,b","c\\"d",null,"NULL","","x\\\\y"," sp "]'],
  ]],
  ['c_jsonb_array', 'jsonb[]', [[`ARRAY['{"a": 1}'::jsonb, 'null', '[1, "x,y"]', NULL]`, '[{"a": 1},null,[1, "x,y"],null]']]],
  ['c_timestamptz_array', 'timestamptz[]', [
    ["ARRAY['2020-01-02 03:04:05.5+00'::timestamptz, 'infinity', NULL]", '["2020-01-02T03:04:05.5Z","infinity",null]'],
  ]],
  ['c_box_array', 'box[]', [["ARRAY['(0,0),(1,1)'::box, '(2,2),(3,3)']", '["(1,1),(0,0)","(3,3),(2,2)"]']]],
  ['c_bytea_array', 'bytea[]', [["ARRAY['\\x0102'::bytea, '']", '["\\\\x0102","\\\\x"]']]],
  ['c_uuid_array', 'uuid[]', [["'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", '["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]']]],
  ['c_numeric_array', 'numeric[]', [["'{1.50,NaN}'", '["1.50","NaN"]']]],
  ['c_float8_array', 'float8[]', [["'{1.5,NaN,-Infinity}'", '[1.5,"NaN","-Infinity"]']]],
  ['c_bool_array', 'bool[]', [["'{t,f,NULL}'", '[true,false,null]']]],
  ['c_date_array', 'date[]', [["ARRAY['2020-01-02'::date, '0044-03-15 BC']", '["2020-01-02T00:00:00Z","-0043-03-15T00:00:00Z"]']]],
  ['c_inet_array', 'inet[]', [["'{10.0.0.1,192.168.1.5/24}'", '["10.0.0.1/32","192.168.1.5/24"]']]],
  // User-defined types, learnt through the lookup query.
  ['c_mood', 'mood', [["'happy'", '"happy"']]],
  ['c_mood_array', 'mood[]', [["'{happy,NULL,\"very sad\"}'", '["happy",null,"very sad"]']]],
  ['c_positive', 'positive', [['42', '42']]],
  ['c_positive_array', 'positive[]', [["'{1,2}'", '[1,2]']]],
  ['c_tags', 'tags', [["'{a,\"b c\"}'", '["a","b c"]']]],
  ['c_pair', 'pair', [["ROW(1, 'x y')", '"(1,\\"x y\\")"']]],
  ['c_pair_array', 'pair[]', [["ARRAY[ROW(1, 'a')::pair, NULL]", '["(1,a)",null]']]],
  ['c_citext', 'citext', [["'MiXeD'", '"MiXeD"']]],
  ['c_hstore', 'hstore', [[`'a=>1, b=>NULL'`, '"\\"a\\"=\\u003e\\"1\\", \\"b\\"=\\u003eNULL"']]],
  ['c_floatrange', 'floatrange', [["'[1.5,2.5]'", '"[1.5,2.5]"']]],
  ['c_floatmultirange', 'floatmultirange', [["'{[1,2], [3,4)}'", '"{[1,2],[3,4)}"']]],
  ['c_int4multirange', 'int4multirange', [["'{[1,3), [5,6]}'", '"{[1,3),[5,7)}"']]],
];

/**
 * Multirange types and numeric ±Infinity exist from PostgreSQL 14 on: on older servers the
 * multirange columns and the numeric infinities are left out (and shown as skipped tests).
 */
const SINCE_14 = 14;
const hasMultiranges = serverMajor() >= SINCE_14;
const isNumericInfinity = (type: string, literal: string) => type === 'numeric' && literal.includes('Infinity');
const COLUMNS = ALL_COLUMNS
  .filter(([, type]) => hasMultiranges || !type.endsWith('multirange'))
  .map(([name, type, cases]): (typeof ALL_COLUMNS)[number] =>
    [name, type, cases.filter(([literal]) => hasMultiranges || !isNumericInfinity(type, literal))]);

const SETUP = `
  CREATE EXTENSION citext;
  CREATE EXTENSION hstore;
  CREATE TYPE mood AS ENUM ('happy', 'very sad');
  CREATE DOMAIN positive AS int4 CHECK (VALUE > 0);
  CREATE DOMAIN tags AS text[];
  CREATE TYPE pair AS (n int4, s text);
  CREATE TYPE floatrange AS RANGE (subtype = float8);
`;

const pg = usePostgres();
let sql: postgres.Sql;
let slot: string;
let rows: InsertedRow[];
let registry: TypeRegistry;
const problems: string[] = [];

/** Peeks the slot's changes in a session with the given settings and returns the inserted rows. */
async function peekRows(database: string, settings: Record<string, string>): Promise<InsertedRow[]> {
  const session = pg.sql({ database, max: 1, connection: settings });
  // base64: the client's own bytea parser assumes bytea_output=hex, and one test changes that.
  const changes = await session<{ data: string }[]>`
    SELECT encode(data, 'base64') AS data FROM pg_logical_slot_peek_binary_changes(${slot}, NULL, NULL,
      'proto_version', '1', 'publication_names', 'types_pub')`;
  return insertedRows(changes.map((change) => Buffer.from(change.data, 'base64')));
}

describe('type conversion against the real server', () => {
  beforeAll(async () => {
    const database = await pg.createDatabase('types');
    sql = pg.sql({ database, max: 1 });
    await sql.unsafe(SETUP);
    const columns = COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
    await sql.unsafe(`CREATE TABLE golden (id int PRIMARY KEY, ${columns}); CREATE PUBLICATION types_pub FOR TABLE golden`);
    slot = uniqueName('types_slot');
    await sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    const rowCount = Math.max(...COLUMNS.map(([, , values]) => values.length));
    for (let k = 0; k < rowCount; k++) {
      const values = COLUMNS.map(([, type, cases]) => `(${cases[k]?.[0] ?? 'NULL'})::${type}`);
      await sql.unsafe(`INSERT INTO golden VALUES (${k}, ${values.join(', ')})`);
    }
    rows = await peekRows(database, STREAMER_SETTINGS);

    // Learn the user-defined types the way the source will: needsLookup, one query, define.
    registry = new TypeRegistry({ onProblem: (oid, text, why) => problems.push(`${oid} ${JSON.stringify(text)}: ${why}`) });
    const unknown = rows[0]!.columns.map((c) => c.typeOid).filter((oid) => registry.needsLookup(oid));
    const typeRows = await sql.unsafe(typeLookupSql(unknown));
    for (const row of typeRows) registry.define(parseTypeLookupRow(row as unknown as Record<string, string | null>));
  });

  // Inside the describe, so it runs before usePostgres closes the clients (file-level hooks run in order).
  afterAll(async () => {
    if (slot !== undefined) await dropSlot(sql, slot);
  });

  describe('type conversion golden test (real pgoutput text)', () => {
    test('every row and column arrived', () => {
      expect(rows.length).toBe(Math.max(...COLUMNS.map(([, , values]) => values.length)));
      expect(rows[0]!.columns.map((c) => c.name)).toEqual(['id', ...COLUMNS.map(([name]) => name)]);
    });

    test('the lookup taught every user-defined type', () => {
      for (const column of rows[0]!.columns) expect(registry.needsLookup(column.typeOid)).toBe(false);
    });

    // On older servers the left-out columns show as skipped tests, with the reason.
    for (const [, type] of ALL_COLUMNS.filter(([, type]) => type.endsWith('multirange') && !hasMultiranges)) {
      testSince(SINCE_14, 'multirange types')(type, () => {});
    }
    if (!hasMultiranges) testSince(SINCE_14, 'numeric Infinity')('numeric Infinity', () => {});

    for (const [index, [name, type, cases]] of COLUMNS.entries()) {
      test(`${type}`, () => {
        const got: string[] = [];
        const want: string[] = [];
        for (const [k, row] of rows.entries()) {
          const column = row.columns[index + 1]!;
          const text = row.values[index + 1]!;
          got.push(text === null ? 'null' : goJsonValue(registry.converter(column.typeOid)(text)));
          want.push(cases[k]?.[1] ?? 'null');
        }
        expect({ name, json: got }).toEqual({ name, json: want });
      });
    }

    test('no value was reported as a problem', () => {
      expect(problems).toEqual([]);
    });

    test('the lookup query also runs with its oid[] parameter', async () => {
      const oids = rows[0]!.columns.map((c) => c.typeOid).filter((oid) => oid >= 16384);
      const viaParameter = await sql.unsafe(TYPE_LOOKUP_SQL, [`{${oids.join(',')}}`]);
      const viaLiteral = await sql.unsafe(typeLookupSql(oids));
      expect(viaParameter.map((r) => parseTypeLookupRow(r as never))).toEqual(viaLiteral.map((r) => parseTypeLookupRow(r as never)));
      const kinds = new Set(viaLiteral.map((r) => parseTypeLookupRow(r as never).kind));
      const expected: string[] = ['base', 'composite', 'domain', 'enum', ...(hasMultiranges ? ['multirange'] : []), 'range'];
      expect([...kinds].sort() as string[]).toEqual(expected);
    });
  });

  describe('other session settings', () => {
    const timestamptzColumn = COLUMNS.findIndex(([name]) => name === 'c_timestamptz') + 1;
    const byteaColumn = COLUMNS.findIndex(([name]) => name === 'c_bytea') + 1;

    test('a TimeZone with a +05:30 offset keeps the offset', async () => {
      const local = await peekRows(sql.options.database, { ...STREAMER_SETTINGS, TimeZone: 'Asia/Kolkata' });
      const text = local[0]!.values[timestamptzColumn]!;
      expect(text).toBe('2020-01-02 03:04:05.5+05:30');
      expect(registry.converter(local[0]!.columns[timestamptzColumn]!.typeOid)(text)).toBe('2020-01-02T03:04:05.5+05:30');
    });

    test('a historical offset with seconds is converted to UTC', async () => {
      await sql`INSERT INTO golden (id, c_timestamptz) VALUES (100, '1900-01-01 00:00:00+00')`;
      // Dublin Mean Time (-00:25:21) until 1916 is in every tzdata release; Amsterdam's +00:19:32
      // is not (newer tzdata, e.g. the one in PostgreSQL 17's own build, links it to Brussels).
      const local = await peekRows(sql.options.database, { ...STREAMER_SETTINGS, TimeZone: 'Europe/Dublin' });
      const row = local.find((r) => r.values[0] === '100')!;
      expect(row.values[timestamptzColumn]).toBe('1899-12-31 23:34:39-00:25:21');
      expect(registry.converter(row.columns[timestamptzColumn]!.typeOid)(row.values[timestamptzColumn]!)).toBe('1900-01-01T00:00:00Z');
    });

    test('bytea_output=escape gives the same hex form', async () => {
      const escaped = await peekRows(sql.options.database, { ...STREAMER_SETTINGS, bytea_output: 'escape' });
      const text = escaped[0]!.values[byteaColumn]!;
      expect(text).toBe('\\000\\377\\\\');
      expect(registry.converter(escaped[0]!.columns[byteaColumn]!.typeOid)(text)).toBe('\\x00ff5c');
    });

    test('another DateStyle is reported and the value kept as text, never dropped', async () => {
      const sqlStyle = await peekRows(sql.options.database, { ...STREAMER_SETTINGS, DateStyle: 'SQL, DMY' });
      const seen: string[] = [];
      const strict = new TypeRegistry({ onProblem: (_oid, text) => seen.push(text) });
      const text = sqlStyle[0]!.values[timestamptzColumn]!;
      expect(strict.converter(sqlStyle[0]!.columns[timestamptzColumn]!.typeOid)(text)).toBe(text);
      expect(seen).toEqual([text]);
    });
  });
});
