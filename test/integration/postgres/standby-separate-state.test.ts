/**
 * Warm standby on two hosts: two instances share one replication slot, each with its own state
 * file (docs/operations.md "Two instances on one slot"). PostgreSQL lets one walsender use the slot
 * at a time, so the second stands by; when it takes over with no saved position it streams from
 * the slot, but once it holds a position of its own that the other instance has since confirmed
 * past, the start check sees the slot ahead of it and refuses (exit 3, `slot_ahead`): it cannot
 * tell the other instance apart from a stranger that consumed the changes.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { confirmedFlush, useSourceTests } from '../../helpers/postgres-source.ts';
import { completeLines, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';
import { uniqueName } from '../../helpers/pg.ts';

const db = useSourceTests();
const dir = tempDir('psql-streamer-standby-');
const children: StreamerProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await child.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const EXIT_REFUSED = 3;

function ids(out: string): number[] {
  return completeLines(out).map((line) => Number(/"id":(\d+)/.exec(line)![1]));
}

describe('two instances on one slot with separate state files (two hosts)', () => {
  test('the first takeover streams from the slot; a takeover with a stale saved position refuses slot_ahead', async () => {
    const t = uniqueName('t');
    const slot = uniqueName('slot');
    const publication = uniqueName('pub');
    await db.sql.unsafe(`CREATE TABLE ${t} (id int PRIMARY KEY)`);
    await db.sql.unsafe(`CREATE PUBLICATION ${publication} FOR TABLE ${t}`);
    await db.sql`SELECT pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    db.dropLater(slot);
    const host = (name: string) => {
      const state = join(dir, `${t}-${name}.db`);
      const out = join(dir, `${t}-${name}.jsonl`);
      const config = postgresToFileToml({ server: db.pg.server, publication, slot, state, out, source: 'startRetryInterval = "100ms"' });
      return { out, start: (run: string, args: string[] = []) => {
        const child = startStreamer(dir, config, `${name}-${run}`, {}, args);
        children.push(child);
        return child;
      } };
    };
    const a = host('a');
    const b = host('b');
    const insert = (from: number, to: number) => db.sql.unsafe(`INSERT INTO ${t} SELECT generate_series(${from}, ${to})`);

    // A streams; B stands by while PostgreSQL gives the slot to A only.
    const a1 = a.start('1');
    await a1.waitForLog('Streaming from');
    const b1 = b.start('1');
    await b1.waitForLog('is in use by another process');
    await insert(1, 3);
    await waitFor('A delivered 1..3', () => completeLines(a.out).length >= 3, 30_000, () => a1.stderr());
    a1.proc.kill('SIGTERM');
    expect(await a1.exited).toBe(0);

    // B takes over: no saved position of its own, so it streams from where A confirmed.
    await b1.waitForLog('Streaming from', 30_000);
    expect(b1.stderr()).toContain('no saved position: streaming from replication slot');
    await insert(4, 5);
    await waitFor('B delivered 4..5', () => completeLines(b.out).length >= 2, 30_000, () => b1.stderr());
    b1.proc.kill('SIGTERM');
    expect(await b1.exited).toBe(0);
    expect(ids(a.out)).toEqual([1, 2, 3]);
    expect(ids(b.out)).toEqual([4, 5]);

    // A's saved position is now behind the slot B confirmed: A refuses and confirms nothing.
    const slotBefore = await confirmedFlush(db.sql, slot);
    const a2 = a.start('2');
    expect(await a2.exited).toBe(EXIT_REFUSED);
    expect(a2.stderr()).toContain(`replication slot "${slot}" has confirmed`);
    expect(a2.stderr()).toContain('--accept-gap');
    expect(await confirmedFlush(db.sql, slot)).toBe(slotBefore);

    // The operator's remedy today: --accept-gap once (the "gap" went to B's sinks).
    const a3 = a.start('3', ['--accept-gap']);
    await a3.waitForLog('Streaming from');
    await insert(6, 6);
    await waitFor('A delivered 6', () => ids(a.out).includes(6), 30_000, () => a3.stderr());
    a3.proc.kill('SIGTERM');
    expect(await a3.exited).toBe(0);
    expect(ids(a.out)).toEqual([1, 2, 3, 6]);
  }, 90_000);
});
