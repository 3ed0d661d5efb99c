/**
 * Exactly-once relays with several members in one consumer group (docs/kafka.md, "Relays"):
 * psql-streamer processes (src/main.ts children) relay an upstream topic of several partitions, which
 * a transactional producer writes without pause (committing and aborting transactions,
 * kafka-writer.ts), into a data topic through an exactly-once Kafka sink, all as members of one
 * consumer group, each with its own transactional id. While the writer writes, the group changes
 * round after round: members join (up to one more than at the start), the oldest one leaves
 * (SIGTERM), a random one is killed (-9) and, every other round, started again with its
 * transactional id. A transaction it left open holds the offsets of its partitions until the brokers
 * time it out (`transactionTimeout`), and their new owner must wait for that. Then the writer stops, the
 * survivors catch up and stop gracefully, and a read_committed consumer (reader.ts) and an audit of
 * the data topic's log (log-audit.ts) must both find every committed upstream change exactly once,
 * in commit order per row (check.ts).
 */
import { Admin } from '@platformatic/kafka';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaSinkToml, kafkaSourceToml, streamerToml } from '../configs.ts';
import { createTopic, deleteTopics, uniqueTopic } from '../kafka.ts';
import { startStreamer, waitFor, type StreamerProcess } from '../streamer.ts';
import { kill9 } from '../crash/harness.ts';
import { randomBetween } from '../crash/writer.ts';
import { ExactlyOnceCheck, checkExactlyOnce, type ExactlyOnceReport } from './check.ts';
import { KafkaWriter } from './kafka-writer.ts';
import { CommittedReader, rowVersion } from './reader.ts';
import { auditTopic, recordsOfFate } from './log-audit.ts';

const SOURCE = 'eo';
const CATCH_UP_TIMEOUT_MS = 240_000;
/** The log line of a member that left relayed events of a moved partition out of its transaction (relay-ownership.ts). */
const MOVED_LINE = /Exactly once: partitions .* moved to another member/g;

export interface RelayGroupOptions {
  brokers: readonly string[];
  /** Temp dir for configs and logs. */
  dir: string;
  /** Join → leave → kill rounds. */
  rounds: number;
  /** Members running at the start (default 2). */
  members?: number;
  /** Partitions of the upstream topic (default 6) and of the data topic (default 3). */
  upstreamPartitions?: number;
  partitions?: number;
  /** Share of the upstream transactions aborted (default 0.2). */
  abortShare?: number;
  /** Time between two changes of the group, ms (default 1500–3000). */
  minStepMs?: number;
  maxStepMs?: number;
  /** The sink's transactionTimeout (how long a killed member's open transaction holds its offsets; default "10s"). */
  transactionTimeout?: string;
  catchUpTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RelayGroupReport {
  rounds: number;
  /** Member processes started, joins, graceful leaves and kills. */
  started: number;
  left: number;
  killed: number;
  transactions: number;
  aborted: number;
  committedChanges: number;
  rows: number;
  check: ExactlyOnceReport;
  log: ExactlyOnceReport & { aborted: number; open: number };
  /** "moved to another member" log lines of all members (each: a rebalance that made one leave events out). */
  movedLines: number;
  catchUpMs: number;
  problems: string[];
  totalMs: number;
}

interface Member {
  name: string;
  process: StreamerProcess;
  /** Expected to end (SIGTERM, SIGKILL): its exit is no problem. */
  ending: boolean;
}

export async function runRelayGroup(options: RelayGroupOptions): Promise<RelayGroupReport> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 50) problems.push(text);
  };
  const admin = new Admin({ clientId: 'relay-group-admin', bootstrapBrokers: [...options.brokers] });
  const upstreamTopic = uniqueTopic('relay-group-upstream');
  const topic = uniqueTopic('relay-group');
  const group = uniqueTopic('relay-group');
  const idPrefix = uniqueTopic('relay-group-txn');
  const upstreamPartitions = options.upstreamPartitions ?? 6;
  const members: Member[] = [];
  const ended: Member[] = [];
  let runs = 0;
  let counters = { started: 0, left: 0, killed: 0 };
  let writer: KafkaWriter | undefined;

  const configOf = (name: string) => streamerToml({
    top: 'shutdownTimeout = "20s"',
    sections: [
      kafkaSourceToml({ name: SOURCE, brokers: options.brokers, topics: [upstreamTopic], group, source: 'batchSize = 100\n' }),
      kafkaSinkToml({
        brokers: options.brokers, sources: [SOURCE],
        sink: `topicFallback = "${topic}"\nkey = "row"\nrequiredAcks = -1\nexactlyOnce = true\ntransactionalId = "${idPrefix}-${name}"\n` +
          `transactionTimeout = "${options.transactionTimeout ?? '10s'}"\n`,
      }),
    ],
  });
  const start = (name: string): Member => {
    const member: Member = { name, process: startStreamer(options.dir, configOf(name), `${name}-run${runs++}`), ending: false };
    members.push(member);
    counters.started++;
    void member.process.exited.then((code) => {
      if (!member.ending) problem(`member ${name} exited by itself (code ${code}):\n${member.process.stderr().slice(-4000)}`);
    });
    return member;
  };
  const remove = (member: Member) => {
    members.splice(members.indexOf(member), 1);
    ended.push(member);
  };
  const step = () => Bun.sleep(randomBetween(options.minStepMs ?? 1500, options.maxStepMs ?? 3000));

  try {
    await createTopic(admin, upstreamTopic, upstreamPartitions);
    await createTopic(admin, topic, options.partitions ?? 3);
    writer = new KafkaWriter(options.brokers, upstreamTopic, {
      changesPerTxn: 5, insertShare: 0.3, abortShare: options.abortShare ?? 0.2, pauseMs: 0, partitions: upstreamPartitions,
    });
    writer.start();
    let next = 1;
    const initial = Array.from({ length: options.members ?? 2 }, () => start(`m${next++}`));
    for (const m of initial) await m.process.waitForLog('Partitions assigned', 60_000);
    for (let round = 1; round <= options.rounds; round++) {
      await step();
      // New members join, one at least, up to one more than the group started with.
      const joined: Member[] = [];
      do joined.push(start(`m${next++}`)); while (members.length < initial.length + 1);
      for (const m of joined) await m.process.waitForLog('Partitions assigned', 60_000).catch((err: Error) => problem(`round ${round}: ${err.message}`));
      await step();
      const leaving = members[0]!;
      leaving.ending = true;
      leaving.process.proc.kill('SIGTERM');
      const code = await leaving.process.exited;
      if (code !== 0) problem(`round ${round}: member ${leaving.name} exited with code ${code} after SIGTERM:\n${leaving.process.stderr().slice(-4000)}`);
      remove(leaving);
      counters.left++;
      await step();
      const victim = members[Math.floor(Math.random() * members.length)]!;
      victim.ending = true;
      await kill9(victim.process);
      remove(victim);
      counters.killed++;
      const restart = round % 2 === 1 || members.length === 0;
      if (restart) start(victim.name);
      log(`round ${round}/${options.rounds}: ${joined.map((m) => m.name).join(', ')} joined, ${leaving.name} left, ${victim.name} killed${restart ? ' and started again' : ' (its open transaction waits for the brokers\' timeout)'}; ` +
        `running ${members.map((m) => m.name).join(', ')}; writer ${writer.transactions} txns`);
      if (writer.error !== undefined) throw writer.error;
    }
    await step();
    await writer.stop();
    log(`writer stopped: ${writer.transactions} transactions (and ${writer.aborted} aborted), ${writer.changes} changes, ${writer.committed.size} rows`);

    const check = new ExactlyOnceCheck(writer.committed);
    const finalStart = performance.now();
    const reader = await CommittedReader.start(options.brokers, topic, (record) => check.add(record));
    let catchUpMs = 0;
    try {
      await waitFor('every committed change read from Kafka', async () => {
        await Bun.sleep(200);
        return check.complete();
      }, options.catchUpTimeoutMs ?? CATCH_UP_TIMEOUT_MS, () => `${reader.records} records read`).catch((err: Error) => problem(err.message));
      catchUpMs = performance.now() - finalStart;
      for (const member of [...members]) {
        member.ending = true;
        member.process.proc.kill('SIGTERM');
        const code = await Promise.race([member.process.exited, Bun.sleep(30_000).then(() => -1)]);
        if (code === -1) await kill9(member.process);
        if (code !== 0) problem(`final stop: member ${member.name} exited with code ${code} after SIGTERM:\n${member.process.stderr().slice(-4000)}`);
        remove(member);
      }
      // Whatever the graceful stops still committed (a late duplicate would be here too).
      await reader.settle(2_000, 30_000);
    } finally {
      await reader.close();
    }
    if (reader.error !== undefined) problem(`reading the data topic: ${String(reader.error)}`);
    for (const bad of reader.bad) problem(`not an event of the test table: ${bad}`);
    let movedLines = 0;
    ended.forEach((member, i) => {
      const stderr = member.process.stderr();
      movedLines += stderr.match(MOVED_LINE)?.length ?? 0;
      if (/fenced \(/.test(stderr)) problem(`member ${member.name} was fenced: two members shared a transactional id?`);
      writeFileSync(join(options.dir, `${member.name}-${i}.log`), stderr);
    });
    const audited = await auditTopic(options.brokers, topic, rowVersion, new Map());
    return {
      rounds: options.rounds,
      ...counters,
      transactions: writer.transactions,
      aborted: writer.aborted,
      committedChanges: writer.changes,
      rows: writer.committed.size,
      check: check.finish(),
      log: {
        ...checkExactlyOnce(writer.committed, recordsOfFate(audited, 'committed')),
        aborted: audited.filter((r) => r.fate === 'aborted').length,
        open: audited.filter((r) => r.fate === 'open').length,
      },
      movedLines,
      catchUpMs,
      problems,
      totalMs: performance.now() - began,
    };
  } finally {
    for (const member of members) {
      member.ending = true;
      await kill9(member.process).catch(() => {});
    }
    await writer?.stop().catch(() => {});
    await deleteTopics(admin, [upstreamTopic, topic]).catch(() => {});
    await admin.close().catch(() => {});
  }
}

/** Human-readable summary of a report. */
export function summarizeRelayGroup(r: RelayGroupReport): string {
  const c = r.check;
  const verdict = c.lost === 0 && c.duplicates === 0 && c.reordered === 0 && c.unknown === 0 && c.split === 0;
  return [
    `Kafka → Kafka relay group, exactly once: ${r.rounds} rounds; ${r.started} member processes started, ${r.left} left (SIGTERM), ${r.killed} killed (-9)`,
    `${r.transactions} upstream transactions (and ${r.aborted} aborted), ${r.committedChanges} committed changes on ${r.rows} rows`,
    `read_committed consumer: ${c.records} records, ${c.distinct} distinct; lost ${c.lost}, duplicates ${c.duplicates}, reordered ${c.reordered}, never committed ${c.unknown}, rows split over partitions ${c.split}`,
    `the log itself: ${r.log.records} committed records, ${r.log.distinct} distinct; lost ${r.log.lost}, duplicates ${r.log.duplicates}, reordered ${r.log.reordered}; aborted records ${r.log.aborted}, open ${r.log.open}`,
    `"moved to another member" log lines: ${r.movedLines}; caught up in ${Math.round(r.catchUpMs)} ms; total ${(r.totalMs / 1000).toFixed(1)} s`,
    verdict ? 'every committed change exactly once, in commit order per row' : `check: ${c.problems.join('\n')}`,
    ...(r.problems.length === 0 ? [] : [`${r.problems.length} run problem(s):\n${r.problems.join('\n')}`]),
  ].join('\n');
}
