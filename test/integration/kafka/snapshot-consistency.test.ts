/**
 * Snapshot consistency to Kafka (test/integration/snapshot/consistency.test.ts has the method and
 * the file sink's runs): a pre-filled table of 100,000 rows copied with `snapshot = "initial"`
 * under concurrent inserts, updates and deletes, to a topic of 3 partitions; a consumer applying
 * each partition's events in order (a key's events are all in one partition) ends with exactly the
 * table's final contents, row by row.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { useKafka } from '../../helpers/kafka.ts';
import { usePostgres } from '../../helpers/pg.ts';
import { killChildrenAndDropSlots, useTempDirs, type StreamerProcess } from '../../helpers/streamer.ts';
import { CONSISTENCY_ROWS, expectConsistentSnapshot, runConsistency, type ConsistencyFixture } from '../../helpers/snapshot/consistency.ts';

const children: StreamerProcess[] = [];
const slots: string[] = [];
// Registered before the server fixtures' hooks, so it runs while the servers are still there.
afterAll(async () => {
  await killChildrenAndDropSlots(children, slots, pg.sql());
});
const kafka = useKafka();
const pg = usePostgres();
const fixture: ConsistencyFixture = { pg, kafka, children, slots, newDir: useTempDirs('psql-streamer-snapshot-kafka-') };

describe('snapshot → Kafka: the consumer\'s copy equals the table', () => {
  test('snapshot = "initial" to Kafka (3 partitions): 100,000 rows in chunks of 2,000 under concurrent inserts, updates (TOAST changed or Unchanged) and deletes; each key\'s events in order in its partition', async () => {
    expectConsistentSnapshot(await runConsistency(fixture, 'kafka', 'initial', CONSISTENCY_ROWS), CONSISTENCY_ROWS);
  }, 240_000);

  test('updates leaving TOAST values (Unchanged) during the copy, merged into snapshot rows: each still reaches its key\'s partition, the copy equals the table', async () => {
    const o = await runConsistency(fixture, 'kafka', 'initial', 1_500, { chunk: 100, toastEvery: 1, mix: 'keep-blob' });
    expect(o.final.problems).toEqual([]);
    expect(o.exitCode).toBe(0);
    expect(o.observer.replica.stats.unchanged).toBeGreaterThan(0);
  }, 180_000);
});
