/**
 * kill -9 of the streamer (a child process, PostgreSQL source → HTTP sink) at random moments while
 * transactions commit, restarted each time (test/helpers/crash/harness.ts). The receiver, in this
 * process, appends every body it accepts to the file the harness checks: every committed row
 * version arrives at least once, in commit order per row, whole transactions, a replay carries its
 * first delivery's UUID; and every Idempotency-Key seen twice came with the same events.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { usePostgres } from '../../helpers/pg.ts';
import { useTempDirs } from '../../helpers/streamer.ts';
import { runCrashCycles, summarize } from '../../helpers/crash/harness.ts';
import { startReceiver } from '../../helpers/http-receiver.ts';

const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-http-crash-');
let stopReceiver: (() => Promise<void>) | undefined;
afterAll(async () => {
  await stopReceiver?.();
});

describe('http sink: kill -9', () => {
  test('at random moments while transactions commit: nothing lost, per-row order, same keys for the same events', async () => {
    const dir = newDir();
    const outFile = `${dir}/out.jsonl`;
    const receiver = startReceiver({ appendTo: outFile });
    stopReceiver = () => receiver.stop();
    const report = await runCrashCycles({
      server: pg.server,
      dir,
      cycles: 10,
      writerPauseMs: 0,
      sink: () => ({ type: 'http', lines: `url = "${receiver.url}/cdc"\nmaxRequestEvents = 50` }),
      log: (line) => process.stderr.write(`[http-crash] ${line}\n`),
    });
    process.stderr.write(`[http-crash] ${summarize(report).replaceAll('\n', '\n[http-crash] ')}\n`);
    expect(report.problems).toEqual([]);
    expect(report.sameIdentityDuplicates).toBe(report.duplicates);
    expect(report.cycles.length).toBe(10);
    expect(report.transactions).toBeGreaterThan(100);
    expect(report.finalExitCode).toBe(0);

    const byKey = new Map<string, string>();
    let conflicts = 0;
    let repeated = 0;
    for (const r of receiver.requests) {
      const key = r.headers['idempotency-key']!;
      const uuids = r.events.map((e) => e.UUID).join(',');
      const before = byKey.get(key);
      if (before !== undefined) {
        repeated++;
        if (before !== uuids) conflicts++;
      }
      byKey.set(key, uuids);
    }
    process.stderr.write(`[http-crash] ${receiver.requests.length} requests, ${repeated} with a key seen before (each with the same events: ${conflicts === 0})\n`);
    expect(conflicts).toBe(0);
  }, 180_000);
});
