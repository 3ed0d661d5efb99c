/**
 * `psql-streamer check --live` against real Kafka brokers, run as an operator would: a private
 * broker (restarted with topic auto-creation off for the last test), a closed port and a port that
 * accepts connections but never answers. Checks exit codes, lines, the JSON, and that an
 * unreachable broker is a FAIL within seconds.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { kafkaSinkToml, kafkaSourceToml, streamerToml } from '../../helpers/configs.ts';
import { createTopic, uniqueTopic } from '../../helpers/kafka.ts';
import { repoRoot } from '../../helpers/env.ts';
import { runCommand, tempDir } from '../../helpers/streamer.ts';
import { RestartableBroker } from '../../helpers/kafka-sink.ts';
import { encodePosition } from '../../../src/sinks/kafka/stream-position.ts';
import { TxnRequests } from '../../../src/sinks/kafka/txn-requests.ts';
import { turnIds } from '../../../src/sinks/kafka/txn-turns.ts';
import { Producer } from '@platformatic/kafka';

let broker: RestartableBroker;
let admin: Admin;
let silent: net.Server;
let silentPort: number;
let closedPort: number;
const sockets: net.Socket[] = [];
const dir = tempDir('check-live-kafka-');
const consumed = uniqueTopic('check-consumed');
const mapped = uniqueTopic('check-mapped');
const missing = uniqueTopic('check-missing');

/** A port nothing listens on: bound, then closed again. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  broker = await RestartableBroker.create();
  admin = new Admin({ clientId: 'check-live-admin', bootstrapBrokers: broker.brokers });
  await createTopic(admin, consumed, 1);
  await createTopic(admin, mapped, 3);
  // Accepts TCP connections and never says a word: only a timeout can end a request to it.
  silent = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as net.AddressInfo).port;
  closedPort = await freePort();
}, 180_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  silent?.close();
  await admin?.close().catch(() => {});
  await broker?.destroy();
}, 60_000);

/** A Kafka relay source and a Kafka sink on `hosts` (the private broker unless told). */
function config(name: string, sinkHosts: string[] = broker.brokers): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, streamerToml({
    sections: [
      kafkaSourceToml({ name: 'relay', brokers: broker.brokers, topics: [consumed], group: 'check-live', quick: false }),
      kafkaSinkToml({ name: 'k', brokers: sinkHosts, sources: ['relay'], sink: `tableTopicMapping = { users = "${mapped}" }\ntopicFallback = "${missing}"` }),
    ],
  }));
  return file;
}

interface JsonReport {
  verdict: string;
  exitCode: number;
  groups: { kind: string; name: string; target: string | null; results: { check: string; subject: string | null; verdict: string; reason: string; remedy: string | null }[] }[];
}

test('topics that exist, and one the brokers will auto-create: OK with the partition counts', async () => {
  const result = await runCommand(['check', '--live', '--json', '-config', config('auto')]);
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as JsonReport;
  const [relay, sink] = report.groups;
  expect(relay!.results.map((r) => `${r.verdict} ${r.check} ${r.subject ?? ''}`.trim())).toEqual(['OK brokers', `OK topic ${consumed}`]);
  expect(relay!.results[0]!.reason).toMatch(/^1 broker\(s\) of cluster \S+ answered metadata via 127\.0\.0\.1:\d+$/);
  expect(sink!.target).toBe(broker.brokers.join(','));
  const byTopic = new Map(sink!.results.map((r) => [r.subject, r]));
  expect(byTopic.get(mapped)).toMatchObject({ verdict: 'OK', reason: 'exists, 3 partition(s) (tableTopicMapping users)' });
  // What the broker said (DescribeConfigs), not an assumption.
  expect(byTopic.get(missing)).toMatchObject({ verdict: 'OK', reason: expect.stringContaining('auto.create.topics.enable = true') });
  // The check only looks: the missing topic was not created.
  expect(await admin.listTopics()).not.toContain(missing);
}, 60_000);

test('a closed port and a broker that never answers: FAIL within seconds, exit 2', async () => {
  for (const port of [closedPort, silentPort]) {
    const result = await runCommand(['check', '--live', '-config', config(`down-${port}`, [`127.0.0.1:${port}`])]);
    expect(result.code).toBe(2);
    const failed = result.stdout.split('\n').find((l) => /^ {2}FAIL +brokers /.test(l));
    expect(failed, result.stdout).toContain(`no metadata from 127.0.0.1:${port}`);
    expect(result.stdout).toContain('remedy: check hosts');
    // The sink's timeout is 2 s: connect 2 s + request 3 s at most, plus process start on a loaded box.
    expect(result.ms).toBeLessThan(port === closedPort ? 5_000 : 9_000);
    // The source on the working broker is still checked.
    expect(result.stdout).toMatch(/^ {2}OK +brokers /m);
  }
}, 60_000);

test('an exactly-once sink: the position stored in Kafka for each source, or none yet; a position topic not compacted', async () => {
  const positionTopic = uniqueTopic('check-positions');
  await createTopic(admin, positionTopic, 1);
  const template = uniqueTopic('check-eo') + '.{source}';
  const file = join(dir, 'exactly-once.toml');
  writeFileSync(file, streamerToml({
    sections: [
      kafkaSourceToml({ name: 'relay', brokers: broker.brokers, topics: [consumed], group: 'check-live-eo', quick: false }),
      kafkaSourceToml({ name: 'other', brokers: broker.brokers, topics: [consumed], group: 'check-live-eo2', quick: false }),
      kafkaSinkToml({
        name: 'k', brokers: broker.brokers, sources: ['relay', 'other'],
        sink: `topicFallback = "${mapped}"\nrequiredAcks = -1\nexactlyOnce = true\ntransactionalId = "${template}"\npositionTopic = "${positionTopic}"`,
      }),
    ],
  }));
  // What the sink commits in a transaction for source "relay": the position as offset metadata of group = the
  // transactional id of the producer whose turn it was (here the second of the source's producers).
  const id = template.replace('{source}', 'relay');
  const second = turnIds(id)[1]!;
  const client = new Producer({ clientId: 'check-live-position', bootstrapBrokers: broker.brokers });
  try {
    const txn = new TxnRequests(client, second, 60_000);
    const producer = await txn.initProducerId();
    if ((await txn.protocol()) === 1) await txn.addOffsets(producer, second);
    const metadata = encodePosition({ lsn: 0x16b3748n, index: 3, stream: '7390000000000000001/slot1' }, 'relay');
    await txn.commitOffsets(producer, { group: second, generation: -1, member: '', offsets: [{ topic: positionTopic, partition: 0, offset: 0n, metadata }] });
    await txn.endTxn(producer, true);
  } finally {
    await client.close().catch(() => {});
  }
  const result = await runCommand(['check', '--live', '--json', '-config', file]);
  const report = JSON.parse(result.stdout) as JsonReport;
  const sink = report.groups.find((g) => g.kind === 'sink')!;
  const positions = sink.results.filter((r) => r.check === 'position');
  expect(positions.map((r) => [r.subject, r.verdict, r.reason])).toEqual([
    ['relay', 'OK', `transactional id "${id}": delivered up to 0/16B3748 #3 of stream 7390000000000000001/slot1`],
    ['other', 'OK', `transactional id "${template.replace('{source}', 'other')}": no position in Kafka yet (nothing delivered exactly once)`],
  ]);
  // The position topic was created with the brokers' defaults (cleanup.policy=delete): a WARN naming the remedy.
  const compaction = sink.results.find((r) => r.check === 'compaction');
  expect(compaction).toMatchObject({ subject: positionTopic, verdict: 'WARN' });
  expect(compaction?.remedy).toContain(`--entity-name ${positionTopic} --add-config cleanup.policy=compact`);
}, 60_000);

// `script` (util-linux) runs the command in a pseudo-terminal, where the progress bar is drawn.
(Bun.which('script') ? test : test.skip)('in a terminal: a progress bar names the check still running, then is erased before the report', async () => {
  const command = `${process.execPath} ${join(repoRoot, 'src', 'main.ts')} check --live -config ${config(`tty-${silentPort}`, [`127.0.0.1:${silentPort}`])}`;
  const proc = Bun.spawn(['script', '-qec', command, '/dev/null'], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, COLUMNS: '100' } });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(2);
  // The source on the working broker answers at once; the sink waits for its timeout meanwhile.
  expect(out).toMatch(/\[#+\.+\] 1\/2 +\d+\.\ds +running: sink k \(kafka\)/);
  // The last drawing is erased (carriage return, clear to the end of the screen), then the report.
  const erased = out.lastIndexOf('\r\x1b[J');
  expect(erased).toBeGreaterThan(0);
  expect(out.slice(erased + 4)).toStartWith('source relay (kafka');
}, 60_000);

test('auto-creation off: a missing topic is a WARN with the command that creates it, exit 1', async () => {
  await broker.stop();
  broker.setProperty('auto.create.topics.enable', 'false');
  await broker.start();
  const human = await runCommand(['check', '--live', '-config', config('noauto')]);
  expect(human.code).toBe(1);
  const warned = human.stdout.split('\n').find((l) => l.startsWith(`  WARN  topic ${missing} `));
  expect(warned, human.stdout).toContain('auto.create.topics.enable = false: writes to it fail');
  expect(human.stdout).toContain(`remedy: kafka-topics.sh --create --topic ${missing}`);
  expect(human.stdout.trimEnd().split('\n').at(-1)).toMatch(/^WARN: \d+ OK, 1 WARN, 0 FAIL .* \(exit 1\)$/);
}, 180_000);
