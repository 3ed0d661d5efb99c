/**
 * The benchmark table shared by bench/pg-source.ts and bench/pg-source-stages.ts: 8 mixed columns
 * (int, bigint, text, numeric, bool, timestamptz, jsonb, uuid), rows generated in SQL.
 */

/** CREATE TABLE for a benchmark table (autovacuum off: no background work during measurements). */
export function benchTableDdl(table: string): string {
  return `create table ${table} (
    id int primary key, big bigint, txt text, num numeric, flag bool, ts timestamptz, doc jsonb, uid uuid
  ) with (autovacuum_enabled = false)`;
}

/** INSERT ... SELECT of rows `from`..`to` (SQL expressions, e.g. loop variables). */
export function benchRowsSql(table: string, from: string, to: string): string {
  return `
    insert into ${table}
    select g, g::bigint * 1000003, 'customer ' || g || ' ' || md5(g::text), (g % 100000) + (g % 100) / 100.0,
           g % 2 = 0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second',
           jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b'), 'ok', g % 3 = 0),
           md5(g::text)::uuid
    from generate_series(${from}, ${to}) g`;
}

/**
 * One statement (a DO block, one round trip) inserting rows 1..`rows` in transactions of `txnRows`
 * rows, each committed: the "batched" WAL of the PostgreSQL benchmarks.
 */
export function benchRowsInTransactionsSql(table: string, rows: number, txnRows: number): string {
  return `do $$
    begin
      for i in 0..${Math.ceil(rows / txnRows) - 1} loop
        ${benchRowsSql(table, `i * ${txnRows} + 1`, `least((i + 1) * ${txnRows}, ${rows})`)};
        commit;
      end loop;
    end $$`;
}
