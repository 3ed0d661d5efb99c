/**
 * The type golden cases (test/integration/types/golden.test.ts): a column of every type with edge
 * values, as SQL literals and the exact JSON of each converted value, and the user-defined types
 * they need. Also the rows of the snapshot parity test (test/integration/snapshot/parity.test.ts).
 */
import { serverMajor } from './pg.ts';

export const BIG_NUMERIC = '123456789012345678901234567890.123456789012345678901234567890';

/** [column, SQL type, [SQL literal, expected JSON][]]; row k holds every column's k-th value (NULL when absent). */
export const ALL_COLUMNS: [string, string, [string, string][]][] = [
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
export const SINCE_14 = 14;
export const hasMultiranges = serverMajor() >= SINCE_14;
export const isNumericInfinity = (type: string, literal: string) => type === 'numeric' && literal.includes('Infinity');
export const COLUMNS = ALL_COLUMNS
  .filter(([, type]) => hasMultiranges || !type.endsWith('multirange'))
  .map(([name, type, cases]): (typeof ALL_COLUMNS)[number] =>
    [name, type, cases.filter(([literal]) => hasMultiranges || !isNumericInfinity(type, literal))]);

export const SETUP = `
  CREATE EXTENSION citext;
  CREATE EXTENSION hstore;
  CREATE TYPE mood AS ENUM ('happy', 'very sad');
  CREATE DOMAIN positive AS int4 CHECK (VALUE > 0);
  CREATE DOMAIN tags AS text[];
  CREATE TYPE pair AS (n int4, s text);
  CREATE TYPE floatrange AS RANGE (subtype = float8);
`;
