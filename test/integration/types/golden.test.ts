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
import { dropSlot, testSince, uniqueName, usePostgres } from '../../helpers/pg.ts';
import { insertedRows, type InsertedRow } from '../../helpers/pgoutput-text.ts';
import { ALL_COLUMNS, COLUMNS, hasMultiranges, SETUP, SINCE_14 } from '../../helpers/type-cases.ts';

/** The replication session's settings (startup parameters), as the PostgreSQL source sends them. */
const STREAMER_SETTINGS = SESSION_PARAMS;

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
