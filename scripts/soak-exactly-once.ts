/**
 * The exactly-once soak's driver (scripts/soak-exactly-once starts PostgreSQL and runs this): a
 * private Kafka broker, many kill -9 cycles of test/helpers/exactly-once/harness.ts, then a
 * summary. Exit code 1 when a committed change was lost, duplicated (with exactlyOnce) or out of
 * order, or the run itself broke.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KILL_CYCLE_HELP, killCycleOptions, killCycleValues, nonNegative } from './lib/options.ts';
import { pgServerFromEnv } from '../test/helpers/pg.ts';
import { tempDir } from '../test/helpers/streamer.ts';
import { RestartableBroker } from '../test/helpers/kafka-sink.ts';
import { runExactlyOnceCycles, summarizeExactlyOnce } from '../test/helpers/exactly-once/harness.ts';
import { runRelayGroup, summarizeRelayGroup } from '../test/helpers/exactly-once/relay-group.ts';

const HELP = `scripts/soak-exactly-once [options]
${KILL_CYCLE_HELP}  --partitions N            partitions of the data topic (default 3)
  --broker-restart-every N  every N-th cycle stops and starts the broker mid-run (default 0 = never)
  --relay                   a Kafka -> Kafka relay instead: a Kafka source reading a topic that a transactional producer writes
  --abort-share X           with --relay: share of the upstream transactions aborted (default 0.2)
  --members N               with --relay: N relay processes in one consumer group (default 1); with 2 or more,
                            each cycle is a round of one member joining, the oldest leaving (SIGTERM) and a random
                            one killed (-9) (test/helpers/exactly-once/relay-group.ts)
  --no-exactly-once         the at-least-once baseline: exactlyOnce off, duplicates reported, not a failure
  --keep                    keep the output dir (config, state, logs) even when the run passed
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    ...killCycleOptions,
    partitions: { type: 'string', default: '3' },
    'broker-restart-every': { type: 'string', default: '0' },
    'no-exactly-once': { type: 'boolean', default: false },
    relay: { type: 'boolean', default: false },
    'abort-share': { type: 'string', default: '0.2' },
    members: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const num = (name: keyof typeof values): number => nonNegative(values, name, HELP);
const cycleOptions = killCycleValues(values, HELP);
const exactlyOnce = !values['no-exactly-once'];

const dir = tempDir('psql-streamer-soak-eo-');
const started = new Date();
process.stdout.write(`exactly-once soak: ${cycleOptions.cycles} cycles, exactlyOnce = ${exactlyOnce}, output in ${dir}; starting a private Kafka broker\n`);
const broker = await RestartableBroker.create();
// run_soak passes Ctrl-C on as SIGTERM: the private broker must not outlive the soak.
process.on('SIGTERM', () => void broker.destroy().finally(() => process.exit(143)));
/** The relay group soak (--relay --members N, N >= 2): one round per cycle; true when it failed. */
async function relayGroupSoak(): Promise<boolean> {
  if (!exactlyOnce) throw new Error('--members needs exactly once (no --no-exactly-once)');
  const report = await runRelayGroup({
    brokers: broker.brokers, dir, rounds: cycleOptions.cycles, members: num('members'), abortShare: num('abort-share'),
    catchUpTimeoutMs: 900_000, log: (line) => process.stdout.write(`${line}\n`),
  });
  const c = report.check;
  process.stdout.write(`\n== exactly-once relay group soak summary (${started.toISOString()}) ==\n${summarizeRelayGroup(report)}\n`);
  return c.lost > 0 || c.duplicates > 0 || c.reordered > 0 || c.unknown > 0 || c.split > 0 || report.log.lost > 0 || report.log.duplicates > 0 ||
    report.problems.length > 0;
}

/** The kill cycles of one streamer (PostgreSQL source, or a single relay); true when it failed. */
async function killCycleSoak(): Promise<boolean> {
  const report = await runExactlyOnceCycles({
    pg: pgServerFromEnv(process.env),
    brokers: broker.brokers,
    dir,
    ...cycleOptions,
    exactlyOnce,
    upstream: values.relay ? 'kafka' : 'postgres',
    abortShare: num('abort-share'),
    partitions: num('partitions'),
    broker,
    brokerRestartEvery: num('broker-restart-every'),
    // Exactly once is slower than the writer here: the final run may have a million changes to write.
    catchUpTimeoutMs: 900_000,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const c = report.check;
  const perKill = report.cycles.length > 0 ? (c.duplicates / report.cycles.length).toFixed(1) : '0';
  process.stdout.write(`\n== exactly-once soak summary (${started.toISOString()}) ==\n${summarizeExactlyOnce(report)}\nduplicates per kill: ${perKill} on average\n`);
  const broken = c.lost > 0 || c.reordered > 0 || c.unknown > 0 || c.split > 0 || (exactlyOnce && c.duplicates > 0);
  return broken || report.problems.length > 0;
}

let failed = true;
try {
  failed = values.relay && num('members') >= 2 ? await relayGroupSoak() : await killCycleSoak();
} finally {
  if (failed || values.keep) process.stdout.write(`output kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
  await broker.destroy();
}
process.stdout.write(failed ? 'FAILED\n' : 'PASSED\n');
process.exit(failed ? 1 : 0);
