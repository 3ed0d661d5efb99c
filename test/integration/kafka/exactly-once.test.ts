/**
 * Exactly-once into Kafka (docs/kafka.md, "Exactly-once"; docs/testing.md): psql-streamer as a
 * child process, PostgreSQL → Kafka sink with `exactlyOnce = true`, killed with SIGKILL at random
 * moments while transactions commit (and, in one test, with the broker stopped and started again
 * mid-stream); a read_committed consumer must then read every committed row version exactly once,
 * in commit order per row (test/helpers/exactly-once/). scripts/soak-exactly-once runs 100 cycles.
 *
 * The at-least-once baseline (`exactlyOnce = false`) runs the same harness and must see the
 * duplicates kills cause: it shows the check can fail. A Kafka → Kafka relay (Kafka source, read
 * committed, on a topic whose producer also aborts transactions) is killed the same way.
 */
import { describe, expect, test } from 'bun:test';
import { useKafka } from '../../helpers/kafka.ts';
import { RestartableBroker } from '../../helpers/kafka-sink.ts';
import { usePostgres } from '../../helpers/pg.ts';
import { useTempDirs } from '../../helpers/streamer.ts';
import { testOutput } from '../../helpers/quiet.ts';
import { runExactlyOnceCycles, summarizeExactlyOnce, type ExactlyOnceRunReport } from '../../helpers/exactly-once/harness.ts';

const pg = usePostgres();
const kafka = useKafka();
const newDir = useTempDirs('psql-streamer-exactly-once-');

// Cycle lines go with the test's log (shown when it fails); the summary is always printed.
const log = (tag: string) => (line: string) => testOutput(`[${tag}] ${line}\n`);

function report(tag: string, r: ExactlyOnceRunReport): void {
  process.stderr.write(`[${tag}] ${summarizeExactlyOnce(r).replaceAll('\n', `\n[${tag}] `)}\n`);
}

/** The run itself went as planned: no streamer died early, no refusal, the final run caught up and stopped cleanly. */
function expectCleanRun(r: ExactlyOnceRunReport, cycles: number): void {
  expect(r.problems).toEqual([]);
  expect(r.cycles.length).toBe(cycles);
  expect(r.transactions).toBeGreaterThan(100);
  expect(r.finalExitCode).toBe(0);
  expect(r.check.lost).toBe(0);
  expect(r.check.reordered).toBe(0);
  expect(r.check.unknown).toBe(0);
  expect(r.check.split).toBe(0);
  // The log itself (read uncommitted, fates from the markers) agrees: the consumer is not the judge alone.
  expect(r.log.lost).toBe(0);
  expect(r.log.reordered).toBe(0);
  expect(r.log.duplicates).toBe(r.check.duplicates);
}

describe('kill -9 while PostgreSQL → Kafka streams', () => {
  test('at-least-once baseline (exactlyOnce off): nothing lost, per-row order; the check sees the duplicates', async () => {
    const r = await runExactlyOnceCycles({
      pg: pg.server, brokers: kafka.server.brokers, dir: newDir(), cycles: 8, exactlyOnce: false,
      // Kills while streaming, with a backlog at each restart: where at-least-once duplicates come from.
      startupKillShare: 0, minRunMs: 400, maxRunMs: 1200, log: log('at-least-once'),
    });
    report('at-least-once', r);
    expectCleanRun(r, 8);
    expect(r.check.distinct).toBe(r.committedChanges);
    // Every record is a committed change or a second delivery of one; kills with a backlog replay some.
    expect(r.check.records).toBe(r.check.distinct + r.check.duplicates);
    expect(r.check.duplicates).toBeGreaterThan(0);
  }, 300_000);

  test('exactlyOnce = true, 20 kills at random moments: every committed change exactly once, in commit order per row', async () => {
    const r = await runExactlyOnceCycles({
      pg: pg.server, brokers: kafka.server.brokers, dir: newDir(), cycles: 20, exactlyOnce: true, log: log('exactly-once'),
    });
    report('exactly-once', r);
    expectCleanRun(r, 20);
    expect(r.check.duplicates).toBe(0);
    expect(r.check.distinct).toBe(r.committedChanges);
    expect(r.check.records).toBe(r.committedChanges);
  }, 600_000);

  test('Kafka → Kafka relay, exactlyOnce = true, upstream transactions committed and aborted, 8 kills: every committed change exactly once, in order per row', async () => {
    const r = await runExactlyOnceCycles({
      pg: pg.server, brokers: kafka.server.brokers, dir: newDir(), cycles: 8, exactlyOnce: true, upstream: 'kafka', abortShare: 0.2,
      minRunMs: 300, maxRunMs: 1500, log: log('exactly-once-relay'),
    });
    report('exactly-once-relay', r);
    expectCleanRun(r, 8);
    expect(r.aborted).toBeGreaterThan(0);
    expect(r.check.duplicates).toBe(0);
    expect(r.check.records).toBe(r.committedChanges);
  }, 600_000);

  test('exactlyOnce = true with the broker restarted mid-stream: still exactly once', async () => {
    const broker = await RestartableBroker.create();
    try {
      const r = await runExactlyOnceCycles({
        pg: pg.server, brokers: broker.brokers, dir: newDir(), cycles: 6, exactlyOnce: true, broker, brokerRestartEvery: 2,
        minRunMs: 1000, maxRunMs: 3000, log: log('exactly-once-broker'),
      });
      report('exactly-once-broker', r);
      expectCleanRun(r, 6);
      expect(r.cycles.filter((c) => c.brokerRestarted).length).toBe(3);
      expect(r.check.duplicates).toBe(0);
      expect(r.check.records).toBe(r.committedChanges);
    } finally {
      await broker.destroy();
    }
  }, 900_000);
});
