/**
 * End to end through the whole program: src/main.ts as a child process, a postgres source and a
 * `file` sink. A row with a column of many types is written by SQL and each output line's JSON
 * text is asserted: the original's first eight keys in its order, then Schema, XID, CommitLSN,
 * CommitTime, TxIndex, Old, Key; Columns exact byte for byte (Go's escaping, every digit, sorted
 * names); the UUID the one docs/kafka.md ("Event identity (UUID)") derives from the cluster, the
 * slot, CommitLSN and TxIndex.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventIdentity } from '../../../src/event/identity.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { currentLsn, useSourceTests } from '../../helpers/postgres-source.ts';
import { startStreamer, tempDir, waitFor, type StreamerProcess, completeLines } from '../../helpers/streamer.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-golden-');
let streamer: StreamerProcess | undefined;

afterAll(async () => {
  if (streamer && streamer.proc.exitCode === null) {
    streamer.proc.kill('SIGKILL');
    await streamer.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Column definition, SQL literal, and the exact JSON text of the value in Columns. */
const COLUMNS: [name: string, type: string, literal: string, json: string][] = [
  ['i2', 'smallint', '-32768', '-32768'],
  ['i4', 'int', '2147483647', '2147483647'],
  ['i8', 'bigint', '9007199254740993', '9007199254740993'],
  ['i8min', 'bigint', '-9223372036854775808', '-9223372036854775808'],
  ['num', 'numeric', '12345678901234567890.000000000000000001', '"12345678901234567890.000000000000000001"'],
  ['numnan', 'numeric', "'NaN'", '"NaN"'],
  ['f8', 'float8', '0.1', '0.1'],
  ['f8small', 'float8', '1.5e-7', '1.5e-7'],
  ['f8big', 'float8', '1e21', '1e+21'],
  ['f8nan', 'float8', "'NaN'", '"NaN"'],
  ['f8inf', 'float8', "'Infinity'", '"Infinity"'],
  ['f8ninf', 'float8', "'-Infinity'", '"-Infinity"'],
  ['f4', 'real', '0.1', '0.1'],
  ['bt', 'bool', 'true', 'true'],
  ['bf', 'bool', 'false', 'false'],
  ['txt', 'text', `E'<a href="x">&amp;</a> \\u00e9 \\u2603 \\U0001F600 \\u2028 tab\\there\\nnew "q" \\\\ end'`,
    '"\\u003ca href=\\"x\\"\\u003e\\u0026amp;\\u003c/a\\u003e é ☃ 😀 \\u2028 tab\\there\\nnew \\"q\\" \\\\ end"'],
  ['vc', 'varchar(10)', "'short'", '"short"'],
  ['uu', 'uuid', "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'],
  ['jb', 'jsonb', `'{"b": [1, 2.50, {"c": null}], "a": "x", "big": 12345678901234567890}'`, '{"a": "x", "b": [1, 2.50, {"c": null}], "big": 12345678901234567890}'],
  ['js', 'json', `'[1, "two", {"three": 3}]'`, '[1, "two", {"three": 3}]'],
  ['by', 'bytea', "'\\x00ff10'", '"\\\\x00ff10"'],
  ['dt', 'date', "'2024-02-29'", '"2024-02-29T00:00:00Z"'],
  ['dtinf', 'date', "'infinity'", '"infinity"'],
  ['dtbc', 'date', "'0044-03-15 BC'", '"-0043-03-15T00:00:00Z"'],
  ['ts', 'timestamp', "'2024-01-02 03:04:05.123456'", '"2024-01-02T03:04:05.123456Z"'],
  ['tsninf', 'timestamp', "'-infinity'", '"-infinity"'],
  ['tstz', 'timestamptz', "'2024-01-02 03:04:05.5+02'", '"2024-01-02T01:04:05.5Z"'],
  ['iv', 'interval', "'1 year 2 mons 3 days 04:05:06.7'", '"1 year 2 mons 3 days 04:05:06.7"'],
  ['ip', 'inet', "'192.168.1.5/24'", '"192.168.1.5/24"'],
  ['ip6', 'inet', "'::1'", '"::1/128"'],
  ['arr', 'int[]', "'{{1,2},{3,NULL}}'", '[[1,2],[3,null]]'],
  ['tarr', 'text[]', `'{"a,b",NULL,"NULL",""}'`, '["a,b",null,"NULL",""]'],
  ['i8arr', 'bigint[]', "'{9223372036854775807}'", '[9223372036854775807]'],
  ['nul', 'text', 'NULL', 'null'],
];

/** Go's encoding/json sorts map keys by bytes; the names here are ASCII. */
const sortedColumns = [...COLUMNS].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const TIMESTAMP = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,9})?';
const UUID_V8 = '[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** A regex for one whole output line; captures WALPosition, UUID, XID and CommitLSN. */
function lineRegex(table: string, action: string, columns: string, rest: string): RegExp {
  return new RegExp(
    '^\\{"Host":"127\\.0\\.0\\.1","Database":"streamer_test","Table":"' + escapeRegex(table) + '","Action":"' + action + '"' +
      ',"WALPosition":([1-9]\\d*)' +
      // The child runs with TZ=Asia/Kolkata: the processing time carries the local offset.
      ',"Timestamp":"' + TIMESTAMP + '\\+05:30"' +
      ',"UUID":"(' + UUID_V8 + ')"' +
      ',"Columns":' + escapeRegex(columns) +
      // One change per transaction: TxIndex 0.
      ',"Schema":"public","XID":([1-9]\\d*),"CommitLSN":([1-9]\\d*),"CommitTime":"' + TIMESTAMP + 'Z","TxIndex":0' +
      escapeRegex(rest) + '\\}$',
  );
}

describe('event JSON through the whole program', () => {
  test('insert, update and delete of a row with many types: exact passthrough lines', async () => {
    const table = uniqueName('golden');
    const mood = uniqueName('mood');
    const slot = uniqueName('slot');
    const publication = uniqueName('pub');
    db.dropLater(slot);
    await db.sql.unsafe(`
      CREATE TYPE ${mood} AS ENUM ('sad', 'happy');
      CREATE TABLE ${table} (id int PRIMARY KEY, mood ${mood}, ${COLUMNS.map(([n, type]) => `${n} ${type}`).join(', ')});
      CREATE PUBLICATION ${publication} FOR TABLE ${table}`);
    const out = join(dir, 'out.jsonl');
    const server = db.pg.server;
    streamer = startStreamer(dir, postgresToFileToml({ server, publication, slot, state: join(dir, 'state.db'), out }), 'golden', { TZ: 'Asia/Kolkata' });
    // No slot yet: the program creates it, then streams from the slot's start.
    await streamer.waitForLog(`Created replication slot "${slot}"`);
    await streamer.waitForLog('Streaming from');

    await db.sql.unsafe(`INSERT INTO ${table} VALUES (1, 'happy', ${COLUMNS.map(([, , literal]) => literal).join(', ')})`);
    await db.sql.unsafe(`UPDATE ${table} SET id = 2, i4 = 1 WHERE id = 1`);
    await db.sql.unsafe(`DELETE FROM ${table} WHERE id = 2`);
    const after = await currentLsn(db.sql);

    const lines = () => completeLines(out);
    await waitFor('three lines in the file sink', () => lines().length >= 3, 20_000, () => streamer!.stderr());
    const [insert, update, del] = lines();

    const all = (id: number, i4: string) => {
      const values = new Map(sortedColumns.map(([n, , , json]) => [n, json]));
      values.set('i4', i4);
      values.set('id', String(id));
      values.set('mood', '"happy"');
      const names = [...values.keys()].sort();
      return '{' + names.map((n) => `"${n}":${values.get(n)}`).join(',') + '}';
    };
    const nullsExcept = (id: number) => '{' + [...COLUMNS.map(([n]) => n), 'id', 'mood'].sort().map((n) => `"${n}":${n === 'id' ? id : 'null'}`).join(',') + '}';

    const insertMatch = lineRegex(table, 'insert', all(1, '2147483647'), ',"Key":["id"]').exec(insert!);
    expect(insertMatch, `insert line:\n${insert}\nexpected Columns:\n${all(1, '2147483647')}`).not.toBeNull();
    const updateMatch = lineRegex(table, 'update', all(2, '1'), ',"Old":{"id":1},"Key":["id"]').exec(update!);
    expect(updateMatch, `update line:\n${update}`).not.toBeNull();
    const deleteMatch = lineRegex(table, 'delete', nullsExcept(2), ',"Old":{"id":2},"Key":["id"]').exec(del!);
    expect(deleteMatch, `delete line:\n${del}`).not.toBeNull();

    // Positions: each change before its commit, commits in order, all before the WAL end we read after.
    const [system] = await db.sql`SELECT system_identifier::text AS id FROM pg_control_system()`;
    const identity = EventIdentity.of(system!.id as string, slot);
    for (const m of [insertMatch!, updateMatch!, deleteMatch!]) {
      expect(BigInt(m[1]!)).toBeLessThan(BigInt(m[4]!));
      expect(BigInt(m[4]!)).toBeLessThan(after);
      expect(m[2]).toBe(identity.stream(BigInt(m[4]!), 0));
    }
    expect(BigInt(insertMatch![4]!)).toBeLessThan(BigInt(updateMatch![4]!));
    expect(BigInt(updateMatch![4]!)).toBeLessThan(BigInt(deleteMatch![4]!));
    // Every line is valid JSON, with the original's eight keys first in its order.
    for (const line of [insert!, update!, del!]) {
      expect(Object.keys(JSON.parse(line)).slice(0, 8)).toEqual(['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns']);
    }

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
  });
});
