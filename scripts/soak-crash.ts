/**
 * The crash soak's driver (scripts/soak-crash starts PostgreSQL and runs this): many kill -9 cycles
 * of test/helpers/crash/harness.ts, then a summary. Exit code 1 when the contract broke.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KILL_CYCLE_HELP, killCycleOptions, killCycleValues } from './lib/options.ts';
import { pgServerFromEnv } from '../test/helpers/pg.ts';
import { tempDir } from '../test/helpers/streamer.ts';
import { runCrashCycles, summarize } from '../test/helpers/crash/harness.ts';

const HELP = `scripts/soak-crash [options]
${KILL_CYCLE_HELP}  --keep                    keep the output dir even when the run passed
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    ...killCycleOptions,
    keep: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const cycleOptions = killCycleValues(values, HELP);

const dir = tempDir('psql-streamer-soak-');
const started = new Date();
process.stdout.write(`crash soak: ${cycleOptions.cycles} cycles, output in ${dir}\n`);
const report = await runCrashCycles({
  server: pgServerFromEnv(process.env),
  dir,
  ...cycleOptions,
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
