/**
 * The crash soak's driver (scripts/soak-crash starts PostgreSQL and runs this): many kill -9 cycles
 * of test/helpers/crash/harness.ts, then a summary. Exit code 1 when the contract broke.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { nonNegative } from './lib/options.ts';
import { pgServerFromEnv } from '../test/helpers/pg.ts';
import { tempDir } from '../test/helpers/streamer.ts';
import { runCrashCycles, summarize } from '../test/helpers/crash/harness.ts';

const HELP = `scripts/soak-crash [options]
  --cycles N            kill -9 cycles before the final run (default 100)
  --min-ms N            shortest run before the kill, ms (default 150)
  --max-ms N            longest run before the kill, ms (default 3000)
  --startup-share X     share of kills timed from spawn (often during startup) rather than from streaming (default 0.2)
  --changes N           row changes per transaction (default 5)
  --insert-share X      share of changes that insert a new row (default 0.3)
  --writer-pause-ms N   writer pause between transactions (default 1)
  --big-every N         every N-th transaction inserts --big-rows rows at once (default 500, 0 = never)
  --big-rows N          rows of a large transaction (default 20000)
  --batch-size N        the source's batchSize (default 100)
  --keep                keep the output dir even when the run passed
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    cycles: { type: 'string', default: '100' },
    'min-ms': { type: 'string', default: '150' },
    'max-ms': { type: 'string', default: '3000' },
    'startup-share': { type: 'string', default: '0.2' },
    changes: { type: 'string', default: '5' },
    'insert-share': { type: 'string', default: '0.3' },
    'writer-pause-ms': { type: 'string', default: '1' },
    'big-every': { type: 'string', default: '500' },
    'big-rows': { type: 'string', default: '20000' },
    'batch-size': { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const num = (name: keyof typeof values): number => nonNegative(values, name, HELP);

const dir = tempDir('psql-streamer-soak-');
const started = new Date();
process.stdout.write(`crash soak: ${num('cycles')} cycles, output in ${dir}\n`);
const report = await runCrashCycles({
  server: pgServerFromEnv(process.env),
  dir,
  cycles: num('cycles'),
  minRunMs: num('min-ms'),
  maxRunMs: num('max-ms'),
  startupKillShare: num('startup-share'),
  changesPerTxn: num('changes'),
  insertShare: num('insert-share'),
  writerPauseMs: num('writer-pause-ms'),
  bigTxnEvery: num('big-every'),
  bigTxnRows: num('big-rows'),
  batchSize: num('batch-size'),
  catchUpTimeoutMs: 120_000,
  log: (line) => process.stdout.write(`${line}\n`),
});
const perCrash = report.cycles.length > 0 ? (report.duplicates / report.cycles.length).toFixed(1) : '0';
process.stdout.write(`\n== crash soak summary (${started.toISOString()}) ==\n${summarize(report)}\nduplicates per kill: ${perCrash} on average\n`);
if (report.problems.length > 0) {
  process.stdout.write(`FAILED: output kept in ${dir}\n`);
  process.exit(1);
}
if (values.keep) process.stdout.write(`output kept in ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
process.stdout.write('PASSED\n');
