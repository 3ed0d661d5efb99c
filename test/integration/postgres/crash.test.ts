/**
 * Crash safety (docs/delivery.md): psql-streamer as a child process, killed with SIGKILL at random
 * moments while transactions commit, restarted each time; every committed row version must reach
 * the file sink, in commit order per row, and what is delivered twice carries the same UUID (and
 * JSON but Timestamp) both times. scripts/soak-crash runs the same for many more cycles.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStream, dropSlot, usePostgres } from '../../helpers/pg.ts';
import { confirmedFlush } from '../../helpers/postgres-source.ts';
import { readPersisted, startStreamer, useTempDirs, waitFor } from '../../helpers/streamer.ts';
import { testOutput } from '../../helpers/quiet.ts';
import { runCrashCycles, streamerConfig, summarize } from '../../helpers/crash/harness.ts';
import { fileSize, parseSegment } from '../../helpers/crash/output.ts';
import { withoutTimestamp } from '../../helpers/crash/identity.ts';
import { EventIdentity } from '../../../src/event/identity.ts';

const pg = usePostgres();
const newDir = useTempDirs('psql-streamer-crash-');

describe('kill -9', () => {
  test('at random moments while transactions commit: nothing lost, per-row commit order', async () => {
    const report = await runCrashCycles({
      server: pg.server,
      dir: newDir(),
      cycles: 15,
      // As fast as it can (≈2,000 transactions/s here): a backlog at each restart makes kills land
      // between a batch's write and its persisted position, which is where duplicates come from.
      writerPauseMs: 0,
      // Each cycle with the test's log (printed if it fails: helpers/quiet.ts); the summary below always.
      log: (line) => testOutput(`[crash] ${line}\n`),
    });
    process.stderr.write(`[crash] ${summarize(report).replaceAll('\n', '\n[crash] ')}\n`);
    expect(report.problems).toEqual([]);
    expect(report.sameIdentityDuplicates).toBe(report.duplicates);
    expect(report.cycles.length).toBe(15);
    expect(report.transactions).toBeGreaterThan(100);
    expect(report.refusals).toBe(0);
    expect(report.finalExitCode).toBe(0);
  }, 120_000);

  test('while one 20,000-row transaction streams: after the restart every row arrives; the replayed ones with the same UUIDs', async () => {
    const rows = 20_000;
    const dir = newDir();
    const sql = pg.sql({ max: 1 });
    const stream = await createStream(sql, 'crash_big', 'id int primary key, payload text, n bigint, at timestamptz');
    try {
      const stateFile = join(dir, 'state.db');
      const outFile = join(dir, 'out.jsonl');
      const config = streamerConfig({ server: pg.server, stateFile, outFile, publication: stream.publication, slot: stream.slot, batchSize: 200, batchFlushInterval: '50ms' });

      const first = startStreamer(dir, config, 'first');
      await first.waitForLog('Streaming from');
      await sql.unsafe(`insert into ${stream.table} select g, repeat('x', 100), g * 1000, now() from generate_series(1, ${rows}) g`);
      // Kill as soon as the first events of the transaction are in the file.
      const deadline = Date.now() + 20_000;
      while (fileSize(outFile) === 0 && Date.now() < deadline && first.proc.exitCode === null) await Bun.sleep(1);
      first.proc.kill('SIGKILL');
      await first.exited;

      const killSize = fileSize(outFile);
      const atKill = parseSegment(readFileSync(outFile), 0);
      const persisted = readPersisted(stateFile, 'crash');
      const confirmed = await confirmedFlush(sql, stream.slot);
      const commitLsn = atKill.events[0]?.commitLsn ?? 0n;
      process.stderr.write(`[crash-big] killed with ${atKill.events.length} of ${rows} events in the file (${atKill.torn} torn line); ` +
        `persisted ${persisted}, confirmed ${confirmed}, transaction's CommitLSN ${commitLsn}\n`);
      expect(atKill.events.length).toBeGreaterThan(0);
      expect(atKill.events.length).toBeLessThan(rows);
      // Not completely delivered: its commit is neither persisted nor confirmed.
      expect(persisted).toBeLessThan(commitLsn);
      expect(confirmed).toBeLessThan(commitLsn);

      const second = startStreamer(dir, config, 'second');
      const rerun = () => parseSegment(readFileSync(outFile).subarray(killSize), 1);
      await waitFor(`all ${rows} rows in the file`, () => rerun().events.length >= rows || second.proc.exitCode !== null, 40_000, () => second.stderr());
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);

      const after = rerun();
      expect(after.torn).toBe(0);
      expect(after.bad).toEqual([]);
      expect(after.events.length).toBe(rows);
      expect(new Set(after.events.map((e) => e.id)).size).toBe(rows);
      expect(after.events.every((e) => e.commitLsn === commitLsn)).toBe(true);
      expect(readPersisted(stateFile, 'crash')).toBeGreaterThan(commitLsn);
      // Event by event, each duplicate equals its redelivery: same (CommitLSN, TxIndex), UUID and JSON but Timestamp.
      expect(after.events.map((e) => e.txIndex)).toEqual(Array.from({ length: rows }, (_, i) => i));
      const [system] = await sql`SELECT system_identifier::text AS id FROM pg_control_system()`;
      const identity = EventIdentity.of(system!.id as string, stream.slot);
      atKill.events.forEach((first, i) => {
        const again = after.events[first.txIndex]!;
        expect({ txIndex: first.txIndex, uuid: again.uuid, json: withoutTimestamp(after.lines[first.txIndex]!) })
          .toEqual({ txIndex: i, uuid: first.uuid, json: withoutTimestamp(atKill.lines[i]!) });
        expect(after.lines[first.txIndex]).not.toBe(atKill.lines[i]); // the Timestamp did change
      });
      expect(after.events.every((e) => e.uuid === identity.stream(commitLsn, e.txIndex))).toBe(true);
      expect(new Set(after.events.map((e) => e.uuid)).size).toBe(rows);
      process.stderr.write(`[crash-big] after the restart: all ${after.events.length} rows; ${atKill.events.length} duplicates from the killed run, each with its first UUID\n`);
    } finally {
      await dropSlot(sql, stream.slot);
    }
  }, 90_000);
});
