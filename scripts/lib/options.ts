/**
 * Number options of the soak drivers (scripts/soak-*.ts): a non-negative number, or the usage and
 * exit code 2.
 */

/** `values[name]` as a non-negative number; otherwise prints what is wrong and `help`, and exits 2. */
export function nonNegative(values: Record<string, unknown>, name: string, help: string): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`--${name}: expected a non-negative number, got ${String(values[name])}\n${help}`);
    process.exit(2);
  }
  return value;
}

/**
 * The kill -9 cycle options of scripts/soak-crash and scripts/soak-exactly-once (both run the
 * writer and cycles of test/helpers/crash/): their help lines, parseArgs specs and defaults.
 */
export const KILL_CYCLE_HELP = `  --cycles N                kill -9 cycles before the final run (default 100)
  --min-ms N                shortest run before the kill, ms (default 150)
  --max-ms N                longest run before the kill, ms (default 3000)
  --startup-share X         share of kills timed from spawn (often during startup) rather than from streaming (default 0.2)
  --changes N               row changes per transaction (default 5)
  --insert-share X          share of changes that insert a new row (default 0.3)
  --writer-pause-ms N       writer pause between transactions (default 1)
  --big-every N             every N-th transaction inserts --big-rows rows at once (default 500, 0 = never)
  --big-rows N              rows of a large transaction (default 20000)
  --batch-size N            the source's batchSize (default 100)
`;

export const killCycleOptions = {
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
} as const;

/** The kill -9 cycle options as the harnesses take them (exits 2 on a bad number, as nonNegative). */
export function killCycleValues(values: Record<string, unknown>, help: string) {
  const num = (name: keyof typeof killCycleOptions) => nonNegative(values, name, help);
  return {
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
  };
}
