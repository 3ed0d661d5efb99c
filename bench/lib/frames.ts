/**
 * Real pgoutput messages of the benchmark table for in-process benchmarks: captured from a
 * PostgreSQL server with pg_logical_slot_peek_binary_changes (protocol 1), wrapped in XLogData
 * ('w' + WAL start + WAL end + clock + message) as a walsender sends them; saved to and loaded
 * from a file of length-prefixed records so a run can repeat without a server.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { benchRowsSql, benchTableDdl } from './bench-table.ts';

/** Captures the messages of `rows` inserted rows in one transaction (PG* variables name the server). */
export async function captureFrames(rows: number): Promise<Uint8Array[]> {
  const sql = postgres({ max: 1, onnotice: () => {} });
  const table = 'bench_frames';
  const publication = 'bench_frames_pub';
  const slot = 'bench_frames_slot';
  try {
    await sql.unsafe(`select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${slot}'`);
    await sql.unsafe(`drop publication if exists ${publication}`);
    await sql.unsafe(`drop table if exists ${table}`);
    await sql.unsafe(benchTableDdl(table));
    await sql.unsafe(`create publication ${publication} for table ${table}`);
    await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    await sql.unsafe(benchRowsSql(table, '1', String(rows)));
    const changes = await sql<{ lsn: string; data: Buffer }[]>`
      select (lsn - '0/0')::text as lsn, data
      from pg_logical_slot_peek_binary_changes(${slot}, null, null, 'proto_version', '1', 'publication_names', ${publication})`;
    await sql`select pg_drop_replication_slot(${slot})`;
    await sql.unsafe(`drop publication ${publication}`);
    await sql.unsafe(`drop table ${table}`);
    return changes.map((row) => {
      const out = new Uint8Array(25 + row.data.length);
      const view = new DataView(out.buffer);
      out[0] = 0x77; // 'w'
      view.setBigUint64(1, BigInt(row.lsn));
      view.setBigUint64(9, BigInt(row.lsn));
      view.setBigInt64(17, 0n);
      out.set(row.data, 25);
      return out;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Writes frames as length-prefixed records (u32 big-endian length + payload). */
export function saveFrames(path: string, list: readonly Uint8Array[]): void {
  const out = new Uint8Array(list.reduce((s, f) => s + 4 + f.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of list) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  writeFileSync(path, out);
}

export function loadFrames(path: string): Uint8Array[] {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const list: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = view.getUint32(at);
    list.push(bytes.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return list;
}

/** --frames FILE loads, otherwise captures (and --save-frames FILE keeps them). */
export async function framesFor(options: { frames?: string; saveFrames?: string; rows: number }): Promise<Uint8Array[]> {
  const frames = options.frames ? loadFrames(options.frames) : await captureFrames(options.rows);
  if (options.saveFrames) saveFrames(options.saveFrames, frames);
  return frames;
}
