/**
 * The snapshot tests' table and its writer: a pre-filled table of many types (int8 key and an int8
 * beyond 2^53, text, numeric, timestamptz, jsonb, bool, bytea, text[], and a TOAST column holding
 * 10–100 KB on every 200th row, stored out of line), and a writer that inserts, updates and deletes
 * while a snapshot runs. Its final contents are read back with the SQL of replica.ts's column specs.
 *
 * Layout of the keys: the pre-filled rows have the even ids 2..2N; the writer inserts odd ids
 * anywhere in 1..2N (ahead of and behind the snapshot's cursor) and updates and deletes any id in
 * 1..2N. Ids above 2N are the test's own markers (never touched by the writer): END_MARK(N), the
 * last row of the table when the snapshot starts, so its snapshot row means the copy is complete.
 */
import type postgres from 'postgres';
import { createStream, uniqueName } from '../pg.ts';
import type { ColumnSpec } from './replica.ts';

/** The key of the row that ends the pre-filled table. */
export const endMark = (rows: number): number => 2 * rows + 2;

/** By default every 200th pre-filled row has a TOAST value (10–100 KB). */
export const TOAST_EVERY = 200;

export const COLUMNS_DDL = `id int8 primary key, big int8, txt text, num numeric, ts timestamptz, doc jsonb,
  flag bool, bin bytea, tags text[], blob text`;

/** Each column's text as the event JSON renders it (docs/types.md; the reading session is UTC, bytea hex). */
export const COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', kind: 'int', sql: 'id::text' },
  { name: 'big', kind: 'int', sql: 'big::text' },
  { name: 'txt', kind: 'string', sql: 'txt' },
  { name: 'num', kind: 'string', sql: 'num::text' },
  // RFC 3339 in UTC, the fraction without trailing zeros (and without the dot when it is zero).
  { name: 'ts', kind: 'string', sql: `regexp_replace(to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z'` },
  { name: 'doc', kind: 'json', sql: 'doc::text' },
  { name: 'flag', kind: 'bool', sql: 'flag::text' },
  { name: 'bin', kind: 'string', sql: `'\\x' || encode(bin, 'hex')` },
  { name: 'tags', kind: 'array', sql: 'array_to_json(tags)::text' },
  { name: 'blob', kind: 'string', sql: 'blob' },
];

/** Values of row `g` (an SQL expression) with key `id` (the pre-fill's is 2g); every `toastEvery`-th g has a TOAST value. */
function rowValuesSql(g: string, id = `${g} * 2`, toastEvery = TOAST_EVERY): string {
  return `${id},
    case ${g} % 7 when 0 then 9007199254740993 + ${g} * 1000 when 1 then -${g}::int8 * 12345 when 2 then null else ${g}::int8 * 1000003 end,
    case ${g} % 5 when 0 then 'a <&> b "q" \\ ' || ${g} when 1 then 'ünïcødé ✓ ' || ${g} when 2 then '' else 'row ' || md5(${g}::text) end,
    case ${g} % 4 when 0 then ${g}::numeric * 1.10 when 1 then 123456789012345678901234567890.000001 + ${g} when 2 then null else -${g}::numeric / 8 end,
    case when ${g} % 11 = 0 then null else timestamptz '2024-01-01 00:00:00+00' + ${g} * interval '1.000123 second' end,
    case when ${g} % 13 = 0 then null else jsonb_build_object('g', ${g}, 'big', 12345678901234567890 + ${g}, 'x', jsonb_build_array('a"b', ${g} % 3 = 0, null)) end,
    case ${g} % 3 when 0 then true when 1 then false else null end,
    decode(md5(${g}::text), 'hex') || '\\x00ff'::bytea,
    case when ${g} % 9 = 0 then null else array['a,b', 'c"d', null, ${g}::text] end,
    case when ${g} % ${toastEvery} = 0 then repeat(md5(${g}::text), 313 + ((${g}::int8 * 7919) % 2812)::int) else 'short ' || ${g} end`;
}

/**
 * Creates the table (TOAST column stored out of line, uncompressed: every value over ≈2 KB is an
 * external TOAST value) with `rows` rows plus the end mark, and its publication. The slot is named
 * but not created (the streamer creates it on its first start, after the data: only the snapshot
 * copies the pre-filled rows), unless `slotBeforeFill` (then the stream carries the pre-fill too).
 */
export async function createSnapshotTable(sql: postgres.Sql, prefix: string, rows: number, options: { slotBeforeFill?: boolean; toastEvery?: number } = {}): Promise<{ table: string; publication: string; slot: string }> {
  let stream: { table: string; publication: string; slot: string };
  if (options.slotBeforeFill) {
    stream = await createStream(sql, prefix, COLUMNS_DDL);
  } else {
    stream = { table: uniqueName(`${prefix}_t`), publication: uniqueName(`${prefix}_pub`), slot: uniqueName(`${prefix}_slot`) };
    await sql.unsafe(`create table ${stream.table} (${COLUMNS_DDL})`);
    await sql.unsafe(`create publication ${stream.publication} for table ${stream.table}`);
  }
  await sql.unsafe(`alter table ${stream.table} alter column blob set storage external`);
  await sql.unsafe(`insert into ${stream.table} select ${rowValuesSql('g', undefined, options.toastEvery)} from generate_series(1, ${rows + 1}) g`);
  await sql.unsafe(`analyze ${stream.table}`);
  return stream;
}

/** The table's rows with each column's text as the event renders it (COLUMNS' SQL). */
export async function tableRows(sql: postgres.Sql, table: string): Promise<Array<Record<string, string | null>>> {
  return sql.unsafe(`select ${COLUMNS.map((c) => `${c.sql} as ${c.name}`).join(', ')} from ${table}`);
}

/** Counts of what the writer committed. */
export interface ChurnCounts {
  transactions: number;
  inserts: number;
  updates: number;
  /** Updates that left `blob` as it was (on a row whose blob is out of line, the event lists it in Unchanged). */
  updatesKeepingBlob: number;
  /** Updates that set `blob` (a new TOAST value, or a small one). */
  updatesOfBlob: number;
  /** Updates that moved a row to another key (an odd one, free), leaving its other values. */
  keyMoves: number;
  deletes: number;
}

/**
 * Commits small transactions of inserts, updates (some setting a new TOAST value, some leaving it,
 * some moving the row to another key) and deletes on random ids of 1..2N, until stopped.
 */
export class ChurnWriter {
  readonly counts: ChurnCounts = { transactions: 0, inserts: 0, updates: 0, updatesKeepingBlob: 0, updatesOfBlob: 0, keyMoves: 0, deletes: 0 };
  error: unknown;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();

  /**
   * `toastEvery`: as the table was filled with. `mix`: 'all' (default) every kind of change, key
   * moves only of rows without a TOAST value; 'keep-blob' only updates leaving the TOAST value as
   * it is (on a pre-filled TOAST row: the event lists it in Unchanged); 'move-toast' only moves of
   * rows with a TOAST value to another key (the event lists it in Unchanged too).
   */
  constructor(private readonly sql: postgres.Sql, private readonly table: string, private readonly rows: number,
    private readonly options: { opsPerTxn?: number; pauseMs?: number; toastEvery?: number; mix?: 'all' | 'keep-blob' | 'move-toast' } = {}) {}

  start(): this {
    this.done = this.loop();
    return this;
  }

  async stop(): Promise<ChurnCounts> {
    this.stopped = true;
    await this.done;
    if (this.error !== undefined) throw this.error;
    return this.counts;
  }

  private randomId(): number {
    // A third of the picks land on a pre-filled TOAST row: updates leaving it unchanged are the case to prove.
    const every = this.options.toastEvery ?? TOAST_EVERY;
    if (this.options.mix === 'keep-blob' || Math.random() < 0.33) return 2 * every * (1 + Math.floor(Math.random() * Math.floor(this.rows / every)));
    return 1 + Math.floor(Math.random() * 2 * this.rows);
  }

  private async loop(): Promise<void> {
    const ops = this.options.opsPerTxn ?? 4;
    try {
      while (!this.stopped) {
        const done = { inserts: 0, updates: 0, keep: 0, toast: 0, moves: 0, deletes: 0 };
        await this.sql.begin(async (tx) => {
          for (let i = 0; i < ops; i++) {
            const mix = this.options.mix ?? 'all';
            const r = mix === 'keep-blob' ? 0.5 : mix === 'move-toast' ? 0.77 : Math.random();
            const id = this.randomId();
            if (r < 0.3) {
              // An odd id (never pre-filled): ahead of or behind the snapshot's cursor.
              const odd = id | 1;
              const result = await tx.unsafe(`insert into ${this.table} select ${rowValuesSql(String(Math.floor(Math.random() * this.rows)), String(odd))} on conflict (id) do nothing`);
              done.inserts += result.count;
            } else if (r < 0.55) {
              const result = await tx.unsafe(`update ${this.table} set txt = $1, num = $2::numeric, ts = clock_timestamp(), flag = not coalesce(flag, false),
                doc = jsonb_build_object('u', $3::int8, 'at', clock_timestamp()), tags = array[$1, null] where id = $4`, [`updated ${Math.random()}`, (Math.random() * 1e6).toFixed(4), Date.now(), id]);
              done.updates += result.count;
              done.keep += result.count;
            } else if (r < 0.75) {
              const size = 313 + Math.floor(Math.random() * 2812);
              const result = await tx.unsafe(`update ${this.table} set blob = case when random() < 0.2 then 'small again' else repeat(md5(random()::text), ${size}) end, big = $1::int8 where id = $2`, [String(BigInt(Date.now()) * 1_000_003n), id]);
              done.updates += result.count;
              done.toast += result.count;
            } else if (r < 0.8) {
              // To a free odd key anywhere: from behind the snapshot's cursor to ahead of it, or back.
              const to = (1 + Math.floor(Math.random() * 2 * this.rows)) | 1;
              const which = mix === 'move-toast' ? 'length(blob) >= 2000' : 'length(blob) < 2000';
              const result = await tx.unsafe(`update ${this.table} set id = $1 where id = $2 and ${which} and not exists (select 1 from ${this.table} where id = $1)`, [to, id]);
              done.updates += result.count;
              done.moves += result.count;
            } else {
              const result = await tx.unsafe(`delete from ${this.table} where id = $1`, [id]);
              done.deletes += result.count;
            }
          }
        });
        this.counts.transactions++;
        this.counts.inserts += done.inserts;
        this.counts.updates += done.updates;
        this.counts.updatesKeepingBlob += done.keep;
        this.counts.updatesOfBlob += done.toast;
        this.counts.keyMoves += done.moves;
        this.counts.deletes += done.deletes;
        if (this.options.pauseMs) await Bun.sleep(this.options.pauseMs);
      }
    } catch (err) {
      this.error = err;
    }
  }
}

/** Inserts one row with key `id` (above 2N: a marker the writer never touches) and the values of row `g`. */
export async function insertMarker(sql: postgres.Sql, table: string, id: number): Promise<void> {
  await sql.unsafe(`insert into ${table} select ${rowValuesSql(String(id), String(id))}`);
}
