/**
 * The snapshot crash soak's driver (scripts/soak-snapshot starts PostgreSQL and runs this): many
 * kill -9 cycles during a `snapshot = "initial"` copy (test/helpers/snapshot/crash.ts), then a
 * summary. Exit code 1 when a row is missing or stale, or the copy restarted instead of resuming.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { nonNegative } from './lib/options.ts';
import { pgServerFromEnv } from '../test/helpers/pg.ts';
import { tempDir } from '../test/helpers/streamer.ts';
import { runSnapshotCrash } from '../test/helpers/snapshot/crash.ts';

const HELP = `scripts/soak-snapshot [options]
  --cycles N            kill -9 cycles before the final run (default 50)
  --rows N              pre-filled rows of the table (default 800000)
  --chunk N             snapshotChunkSize (default 2000)
  --spawn-share X       share of kills timed from spawn (default 0.2)
  --streaming-share X   share of kills timed from "Streaming from" (default 0.3); the rest once rows of the run arrived
  --min-ms N            shortest life of a run killed by time, ms (default 100)
  --max-ms N            longest life of a run killed by time, ms (default 1500)
  --writer-pause-ms N   writer pause between transactions (default 1)
  --keep                keep the output dir even when the run passed
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    cycles: { type: 'string', default: '50' },
    rows: { type: 'string', default: '800000' },
    chunk: { type: 'string', default: '2000' },
    'spawn-share': { type: 'string', default: '0.2' },
    'streaming-share': { type: 'string', default: '0.3' },
    'min-ms': { type: 'string', default: '100' },
    'max-ms': { type: 'string', default: '1500' },
    'writer-pause-ms': { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const num = (name: keyof typeof values): number => nonNegative(values, name, HELP);

const dir = tempDir('psql-streamer-soak-snapshot-');
const started = new Date();
process.stdout.write(`snapshot soak: ${num('cycles')} cycles, ${num('rows')} rows in chunks of ${num('chunk')}, output in ${dir}\n`);
const report = await runSnapshotCrash({
  server: pgServerFromEnv(process.env),
  dir,
  rows: num('rows'),
  chunkSize: num('chunk'),
  cycles: num('cycles'),
  spawnKillShare: num('spawn-share'),
  streamingKillShare: num('streaming-share'),
  minRunMs: num('min-ms'),
  maxRunMs: num('max-ms'),
  writerPauseMs: num('writer-pause-ms'),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\n== snapshot soak summary (${started.toISOString()}, ${(report.totalMs / 1000).toFixed(1)} s) ==\n${report.summary}\nfinal run exit code: ${report.finalExitCode}\n`);
if (report.problems.length > 0 || report.finalExitCode !== 0) {
  process.stdout.write(`problems:\n  ${report.problems.join('\n  ')}\nFAILED: output kept in ${dir}\n`);
  process.exit(1);
}
if (values.keep) process.stdout.write(`output kept in ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
process.stdout.write('PASSED\n');
