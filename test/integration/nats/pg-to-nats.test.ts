/**
 * PostgreSQL → NATS JetStream through the whole program (src/main.ts as a child process): `kill -9`
 * while rows commit; after a restart every committed row is in the stream exactly once, because
 * the batches redelivered after the kill carry the same Nats-Msg-Id (the event UUID) and the
 * stream's duplicate window drops them.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { readStream, streamSize, useNats } from '../../helpers/nats.ts';
import { createStream, usePostgres } from '../../helpers/pg.ts';
import { killChildrenAndDropSlots, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];

// Registered before the server fixtures' hooks, so it runs while the servers are still there.
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
});
const nats = useNats();
const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-pg-nats-');

describe('PostgreSQL → NATS through src/main.ts', () => {
  test('kill -9 while rows commit: after a restart every committed row is in the stream exactly once', async () => {
    const sql = pg.sql({ max: 2 });
    const table = await createStream(sql, 'pgn_crash', 'id int primary key, payload text');
    slots.push(table.slot);
    const stream = await nats.createStream('pgcrash');
    const nc = await nats.connection();
    const dir = newDir();
    const config = streamerToml({
      state: join(dir, 'state.db'),
      sections: [
        postgresSourceToml({ server: pg.server, publication: table.publication, slot: table.slot, statusInterval: '500ms', source: 'startRetryInterval = "100ms"\nbatchSize = 200\n' }),
        sinkToml('nats', 'nats', `servers = ["${nats.server.url}"]\nsubjectFallback = "${stream}.{schema}.{table}"\nstream = "${stream}"\n`),
      ],
    });
    const start = (name: string) => {
      const child = startStreamer(dir, config, name);
      children.push(child);
      return child;
    };
    const first = start('first');
    await first.waitForLog('Streaming from');

    let committed = 0;
    let writing = true;
    const writer = (async () => {
      for (let id = 1; writing; id++) {
        await sql.unsafe(`insert into ${table.table} values (${id}, repeat('x', 200))`);
        committed = id;
      }
    })();
    await waitFor('some rows in the stream', async () => (await streamSize(nc, stream)) > 200, 30_000);
    first.proc.kill('SIGKILL');
    await first.exited;
    const atKill = await streamSize(nc, stream);
    await Bun.sleep(300); // rows keep committing while nothing streams

    const second = start('second');
    await second.waitForLog('Streaming from');
    await waitFor('more rows after the restart', async () => (await streamSize(nc, stream)) > atKill + 200, 30_000);
    writing = false;
    await writer;
    await waitFor(`all ${committed} rows in the stream`, async () => (await streamSize(nc, stream)) >= committed, 60_000, () => second.stderr());
    await Bun.sleep(500); // anything redelivered late would show now
    const stats = await (await fetch(`${await second.httpUrl()}/stats`)).text();
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const read = await readStream(nc, stream);
    const ids = read.map((m) => (JSON.parse(m.data) as { Columns: { id: number } }).Columns.id);
    const missing: number[] = [];
    const present = new Set(ids);
    for (let id = 1; id <= committed; id++) if (!present.has(id)) missing.push(id);
    expect(missing).toEqual([]);
    // Exactly once: one message per change, each under its event UUID.
    expect(read.length).toBe(committed);
    expect(present.size).toBe(committed);
    expect(read.every((m) => m.msgId === (JSON.parse(m.data) as { UUID: string }).UUID)).toBe(true);
    // The restart redelivered what the first process had published past the position it had saved
    // (the second run resumes there): each of those was dropped by the duplicate window. How many
    // depends on the kill's moment (none when it came right after a save), so it is counted here.
    const resume = /Streaming from ([0-9A-F]+)\/([0-9A-F]+)/.exec(second.stderr());
    expect(resume).not.toBeNull();
    const resumeLsn = (BigInt(`0x${resume![1]}`) << 32n) | BigInt(`0x${resume![2]}`);
    const replayed = read.filter((m) => m.seq <= atKill && BigInt((JSON.parse(m.data) as { CommitLSN: number }).CommitLSN) > resumeLsn).length;
    const duplicates = Number(/Sink-NATS \(nats\): .*duplicates dropped: (\d+)/.exec(stats)?.[1]);
    expect(duplicates).toBe(replayed);
    process.stderr.write(`[pg-to-nats kill -9] ${committed} rows committed, ${read.length} messages, ${atKill} in the stream at the kill, ${duplicates} redeliveries dropped by the duplicate window (the first run's messages after its saved position)\n`);
  }, 180_000);
});
