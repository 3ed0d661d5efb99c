/**
 * The Debezium golden scenario (docs/debezium.md, "Golden fixtures"): the SQL that both Debezium
 * (scripts/debezium/generate-fixtures, saved under test/fixtures/debezium/) and our own source
 * (test/integration/debezium/golden.test.ts) run, so that the two outputs can be compared event
 * by event. The rows are the type golden cases (type-cases.ts) plus small tables for every
 * operation: snapshot rows (op "r"), then inserts, updates, an unchanged TOAST value, deletes
 * with and without REPLICA IDENTITY FULL, a truncate, and a marker row that ends the run.
 */
import { ALL_COLUMNS, SETUP as TYPE_SETUP } from './type-cases.ts';

/** Rows of the type table: row k holds every column's k-th case (NULL when absent). */
export const TYPE_ROWS = Math.max(...ALL_COLUMNS.map(([, , cases]) => cases.length));
/** Streamed copies of the type rows get ids from here on (the snapshot copies have 0..TYPE_ROWS-1). */
export const STREAMED_ID_BASE = 100;

function typeRow(id: number, k: number): string {
  const values = ALL_COLUMNS.map(([, type, cases]) => `(${cases[k]?.[0] ?? 'NULL'})::${type}`);
  return `INSERT INTO golden VALUES (${id}, ${values.join(', ')});`;
}

/** A value stored out of line (STORAGE EXTERNAL, 6400 bytes): an update that leaves it alone sends it as unchanged TOAST. */
const BIG = `(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i)`;

/** Schema and the rows present before the connector starts (they arrive as snapshot rows). */
export const SETUP_SQL = [
  TYPE_SETUP.trim(),
  `CREATE TABLE golden (id int PRIMARY KEY, ${ALL_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')});`,
  ...Array.from({ length: TYPE_ROWS }, (_, k) => typeRow(k, k)),
  `CREATE TABLE cud (id int PRIMARY KEY, amount numeric(12,3), note text, big text);`,
  `ALTER TABLE cud ALTER COLUMN big SET STORAGE EXTERNAL;`,
  `CREATE TABLE full_identity (id int PRIMARY KEY, amount numeric(12,3), note text);`,
  `ALTER TABLE full_identity REPLICA IDENTITY FULL;`,
  `CREATE TABLE two_keys (a int, b text, v int, PRIMARY KEY (a, b));`,
  `INSERT INTO two_keys VALUES (1, 'x', 10);`,
  `CREATE TABLE done (id int PRIMARY KEY);`,
].join('\n');

/** The changes made once the snapshot is complete, one transaction per statement; the insert into `done` is last. */
export const CHANGE_STATEMENTS: string[] = [
  ...Array.from({ length: TYPE_ROWS }, (_, k) => typeRow(STREAMED_ID_BASE + k, k)),
  `INSERT INTO cud VALUES (1, 12.5, 'one', ${BIG});`,
  `INSERT INTO cud VALUES (2, -0.001, NULL, 'small');`,
  `UPDATE cud SET note = 'changed', amount = 99999999.999 WHERE id = 1;`,
  `UPDATE cud SET id = 3 WHERE id = 2;`,
  `DELETE FROM cud WHERE id = 1;`,
  `INSERT INTO full_identity VALUES (1, 1.5, 'a');`,
  `UPDATE full_identity SET note = 'b' WHERE id = 1;`,
  `DELETE FROM full_identity WHERE id = 1;`,
  `UPDATE two_keys SET v = 11 WHERE a = 1;`,
  `DELETE FROM two_keys WHERE a = 1;`,
  `TRUNCATE cud;`,
  `INSERT INTO done VALUES (1);`,
];

/** Tables the connector captures (Debezium's table.include.list; our publication). */
export const TABLES = ['golden', 'cud', 'full_identity', 'two_keys', 'done'];

/** The `decimal.handling.mode` values a fixture file exists for. */
export const DECIMAL_MODES = ['precise', 'string', 'double'] as const;
export type DecimalMode = (typeof DECIMAL_MODES)[number];

/** Topic prefix (Debezium's `topic.prefix`) the fixtures were made with. */
export const TOPIC_PREFIX = 'fixtures';
