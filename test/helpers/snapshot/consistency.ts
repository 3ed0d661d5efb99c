/**
 * One run of the snapshot consistency tests (test/integration/snapshot/consistency.test.ts, and
 * test/integration/kafka/snapshot-consistency.test.ts for Kafka): fills the table, starts the
 * streamer (src/main.ts as a child process) and, once its slot exists, the writer; waits for the
 * copy's last row (or, with `never`, lets the writer run), stops the writer, waits for a sentinel
 * row committed after the writer's last transaction (so every change is delivered), stops the
 * streamer, and compares the consumer's copy with the table (observer.ts).
 */
import { expect } from 'bun:test';
import { join } from 'node:path';
import type { KafkaFixture } from '../kafka.ts';
import type { PgFixture } from '../pg.ts';
import { keepTestDirs, startStreamer, waitFor, type StreamerProcess } from '../streamer.ts';
import { snapshotConfig } from './config.ts';
import { FileFollower, followTopic } from './follow.ts';
import { SnapshotObserver } from './observer.ts';
import { ChurnWriter, createSnapshotTable, endMark, insertMarker, type ChurnCounts } from './table.ts';

/** What a test file gives the runs: its servers, where to record children and slots for cleanup, a temp dir maker. */
export interface ConsistencyFixture {
  pg: PgFixture;
  kafka?: KafkaFixture;
  children: StreamerProcess[];
  slots: string[];
  newDir: () => string;
}

export const CONSISTENCY_ROWS = 100_000;
const CHUNK = 2_000;
const log = (line: string) => process.stderr.write(`[snapshot-consistency] ${line}\n`);

export interface Outcome {
  observer: SnapshotObserver;
  counts: ChurnCounts;
  final: Awaited<ReturnType<SnapshotObserver['finalProblems']>>;
  exitCode: number;
}

/** One run (see the module comment); `neverMs`: how long the writer runs with `never`. */
export async function runConsistency(f: ConsistencyFixture, sink: 'file' | 'kafka', mode: 'initial' | 'never', rows: number, options: { neverMs?: number; chunk?: number; toastEvery?: number; mix?: 'all' | 'keep-blob' | 'move-toast' } = {}): Promise<Outcome> {
  const { pg, kafka, children, slots, newDir } = f;
  const sql = pg.sql({ max: 4 });
  const stream = await createSnapshotTable(sql, `snap_${sink}`, rows, { slotBeforeFill: mode === 'never', toastEvery: options.toastEvery });
  slots.push(stream.slot);
  const dir = newDir();
  const observer = new SnapshotObserver(stream.table, rows, sink === 'kafka');
  let poll = () => {};
  let stopFollowing = async () => {};
  let kafkaTarget: { brokers: string[]; topic: string } | undefined;
  const keyPartitions = new Map<string, number>();
  const routing: string[] = [];
  if (sink === 'kafka') {
    if (kafka === undefined) throw new Error('runConsistency: a Kafka run needs the kafka fixture');
    kafkaTarget = { brokers: kafka.server.brokers, topic: await kafka.createTopic({ prefix: 'snapshot', partitions: 3 }) };
    // Each key's events are in one partition, in order; an update that changes the key is in its
    // new key's partition, which the replica orders by stream position (replica.ts, partitioned).
    // Checked: each message's Kafka key is its row's key, and a key never shows up in two
    // partitions, snapshot rows (merged ones included) as live events.
    const follower = await followTopic(kafkaTarget.brokers, kafkaTarget.topic, (m) => {
      const id = /"Columns":\{.*?"id":(-?\d+)/.exec(m.value ?? '')?.[1];
      if (m.key !== `["public.${stream.table}",${id}]` && routing.length < 5) routing.push(`message with key ${m.key} for row ${id}`);
      const seen = keyPartitions.get(m.key ?? '');
      if (seen !== undefined && seen !== m.partition && routing.length < 5) routing.push(`key ${m.key} in partitions ${seen} and ${m.partition}`);
      keyPartitions.set(m.key ?? '', m.partition);
      observer.onEvent(m.value ?? '', 0, m.partition);
    });
    poll = () => {
      if (follower.error() !== undefined) throw follower.error();
    };
    stopFollowing = () => follower.stop();
  } else {
    const follower = new FileFollower(join(dir, 'out.jsonl'), (line, r) => observer.onEvent(line, r));
    poll = () => follower.poll();
  }

  // Kept dirs are for post-mortems: the streamer logs at debug level into them (see finally).
  const config = snapshotConfig({ server: pg.server, dir, publication: stream.publication, slot: stream.slot, mode, chunkSize: options.chunk ?? CHUNK, kafka: kafkaTarget, top: keepTestDirs ? 'logLevel = "debug"' : undefined });
  const streamer = startStreamer(dir, config, `${sink}-${mode}`);
  children.push(streamer);
  const detail = () => streamer.stderr().slice(-4000);
  // Once the slot exists (created at the first start): every change after it is in the stream.
  await streamer.waitForLog('Streaming from', 30_000);
  const writer = new ChurnWriter(sql, stream.table, rows, { toastEvery: options.toastEvery, mix: options.mix }).start();
  try {
    if (mode === 'initial') {
      await waitFor(`the snapshot row of the end mark ${endMark(rows)}`, () => {
        poll();
        return observer.endSeen || streamer.proc.exitCode !== null;
      }, 120_000, detail);
      expect(streamer.proc.exitCode).toBeNull();
    } else {
      await Bun.sleep(options.neverMs ?? 2_000);
    }
    const counts = await writer.stop();
    const sentinel = endMark(rows) + 2;
    await insertMarker(sql, stream.table, sentinel);
    await waitFor('the sentinel row committed after the writer stopped', () => {
      poll();
      return observer.sawStreamKey(sentinel) || streamer.proc.exitCode !== null;
    }, 90_000, detail);
    streamer.proc.kill('SIGTERM');
    const exitCode = await streamer.exited;
    const final = await observer.finalProblems(sql);
    final.problems.push(...routing);
    log(`${sink}, snapshot = "${mode}": ${observer.summary()}`);
    log(`writer: ${JSON.stringify(counts)}; table ${final.tableRows} rows, ${final.differences} differing`);
    return { observer, counts, final, exitCode };
  } finally {
    if (keepTestDirs) await Bun.write(join(dir, 'streamer.log'), streamer.stderr());
    await writer.stop().catch(() => {});
    await stopFollowing();
  }
}

/** The checks every snapshot run must pass. */
export function expectConsistentSnapshot(o: Outcome, rows: number): void {
  expect(o.final.problems).toEqual([]);
  expect(o.exitCode).toBe(0);
  const { stats } = o.observer.replica;
  // Each key copied at most once in a run without restarts; most of the table came by the copy.
  expect(stats.snapshotIds.size).toBe(stats.snapshotRows);
  expect(stats.snapshotRows).toBeGreaterThan(rows * 0.5);
  // The writer really raced the copy, with every kind of change.
  expect(o.counts.inserts).toBeGreaterThan(0);
  expect(o.counts.updatesKeepingBlob).toBeGreaterThan(0);
  expect(o.counts.updatesOfBlob).toBeGreaterThan(0);
  expect(o.counts.deletes).toBeGreaterThan(0);
  expect(stats.streamEvents).toBeGreaterThan(0);
  expect(stats.unchanged).toBeGreaterThan(0);
}
