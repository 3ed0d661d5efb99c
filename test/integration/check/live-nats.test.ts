/**
 * `psql-streamer check --live` for NATS sinks against a real JetStream server, run as an operator
 * would: a stream that captures everything configured (OK), a missing stream and a subject no
 * stream captures (FAIL with remedies), a closed port (FAIL within seconds). The source points at
 * a closed port: only the sink's group is looked at.
 */
import { expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sinkToml, streamerToml, postgresSourceToml } from '../../helpers/configs.ts';
import { uniqueName, useNats } from '../../helpers/nats.ts';
import { runCommand, tempDir } from '../../helpers/streamer.ts';

const nats = useNats();
const dir = tempDir('check-live-nats-');

function config(name: string, sink: string): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, streamerToml({
    state: join(dir, 'state.db'),
    sections: [
      postgresSourceToml({ dsn: 'host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1', publication: 'p', slot: 's' }),
      sinkToml('n', 'nats', sink),
    ],
  }));
  return file;
}

interface Group { kind: string; name: string; target: string | null; results: { check: string; subject: string | null; verdict: string; reason: string; remedy: string | null }[] }

async function sinkGroup(file: string): Promise<Group> {
  const result = await runCommand(['check', '--live', '--json', '-config', file]);
  if (!result.stdout.startsWith('{')) throw new Error(`check --live printed no JSON (exit ${result.code}): ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { groups: Group[] };
  return report.groups.find((g) => g.kind === 'sink')!;
}

const lines = (g: Group) => g.results.map((r) => `${r.verdict} ${r.check} ${r.subject ?? ''}`.trim());

test('a stream capturing the mapped and fallback subjects: OK, with its facts', async () => {
  const stream = await nats.createStream('check');
  const group = await sinkGroup(config('ok', `servers = ["${nats.server.url}"]\ntableSubjectMapping = { users = "${stream}.users" }\nsubjectFallback = "${stream}.{schema}.{table}"\nstream = "${stream}"`));
  expect(group.target).toBe(nats.server.url);
  expect(lines(group)).toEqual(['OK servers', 'OK jetstream', `OK stream ${stream}`, `OK subject ${stream}.users`, `OK subject ${stream}.*.*`]);
  expect(group.results[0]!.reason).toMatch(/^connected to 127\.0\.0\.1:\d+ \(nats-server 2\.\d+/);
  expect(group.results[2]!.reason).toBe(`0 messages, subjects ${stream}.>, duplicate window 120 s`);
}, 60_000);

test('a missing stream, and a subject no stream captures: FAIL with what to do', async () => {
  const missing = uniqueName('missing');
  const group = await sinkGroup(config('missing', `servers = ["${nats.server.url}"]\nsubjectFallback = "${missing}.{table}"\nstream = "${missing}"`));
  expect(lines(group)).toEqual(['OK servers', 'OK jetstream', `FAIL stream ${missing}`]);
  expect(group.results[2]!.remedy).toBe(`nats stream add ${missing} --subjects '${missing}.*', or set createStream = true`);
  const created = await sinkGroup(config('create', `servers = ["${nats.server.url}"]\nsubjectFallback = "${missing}.{table}"\nstream = "${missing}"\ncreateStream = true`));
  expect(lines(created)).toEqual(['OK servers', 'OK jetstream', `OK stream ${missing}`]);
  const nowhere = await sinkGroup(config('nowhere', `servers = ["${nats.server.url}"]\nsubjectFallback = "${missing}.x"`));
  expect(lines(nowhere)).toEqual(['OK servers', 'OK jetstream', `FAIL subject ${missing}.x`]);
  expect(nowhere.results[2]!.reason).toContain('no stream captures it');
}, 60_000);

test('a closed port: FAIL servers within seconds', async () => {
  const started = Date.now();
  const group = await sinkGroup(config('down', 'servers = ["nats://127.0.0.1:1"]\nsubjectFallback = "x"\ntimeout = "1s"'));
  expect(lines(group)).toEqual(['FAIL servers']);
  expect(group.results[0]!.reason).toBe('cannot reach NATS nats://127.0.0.1:1: connection refused');
  expect(group.results[0]!.remedy).toContain('check servers');
  expect(Date.now() - started).toBeLessThan(10_000);
}, 60_000);
