/**
 * `psql-streamer check --live` for HTTP sinks, run as an operator would, against real receivers:
 * reachable (with the configured headers, and nothing POSTed), credentials refused, a closed port,
 * TLS with and without the CA, and an unusable deadLetterFile.
 */
import { afterAll, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresSourceToml, sinkToml, streamerToml } from '../../helpers/configs.ts';
import { makeCertificates } from '../../helpers/certs.ts';
import { startReceiver, type Receiver } from '../../helpers/http-receiver.ts';
import { runCommand, tempDir } from '../../helpers/streamer.ts';

const dir = tempDir('check-live-http-');
const certs = join(dir, 'certs');
makeCertificates(certs);
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const r of receivers) await r.stop();
});

interface JsonReport {
  groups: { kind: string; name: string; target: string | null; results: { check: string; subject: string | null; verdict: string; reason: string; remedy: string | null }[] }[];
}

/** A config with a (never reached) PostgreSQL source and HTTP sink `hook`; the sink's group of the JSON report. */
async function checkSink(name: string, sinkLines: string, env: Record<string, string> = {}) {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, streamerToml({
    state: join(dir, 'state.db'),
    sections: [
      postgresSourceToml({ dsn: 'host=127.0.0.1 port=1 dbname=none user=none connect_timeout=1', publication: 'p', slot: 's' }),
      sinkToml('hook', 'http', sinkLines),
    ],
  }));
  const started = performance.now();
  const result = await runCommand(['check', '--live', '--json', '-config', file], 60_000, env);
  const report = JSON.parse(result.stdout) as JsonReport;
  return { ms: performance.now() - started, group: report.groups.find((g) => g.kind === 'sink' && g.name === 'hook')! };
}

test('reachable: OK with the answer; one HEAD with the configured headers, no event POSTed', async () => {
  const receiver = startReceiver({ respond: (r) => (r.method === 'HEAD' ? { status: 405 } : undefined) });
  receivers.push(receiver);
  const { group } = await checkSink('ok', `url = "${receiver.url}/cdc?token=\${HOOK_TOKEN}"\nheaders = { Authorization = "Bearer \${HOOK_TOKEN}" }`, { HOOK_TOKEN: 'tok' });
  expect(group.target).toBe(`${receiver.url}/cdc?…`);
  expect(group.results).toEqual([{ check: 'url', verdict: 'OK', reason: expect.stringMatching(/^reachable \(HEAD answered 405 in \d+ ms/), subject: null, remedy: null }]);
  expect(receiver.requests.map((r) => r.method)).toEqual(['HEAD']);
  expect(receiver.requests[0]!.headers.authorization).toBe('Bearer tok');
});

test('credentials refused (401): WARN naming headers', async () => {
  const receiver = startReceiver({ respond: () => ({ status: 401, body: 'bad token' }) });
  receivers.push(receiver);
  const { group } = await checkSink('unauthorized', `url = "${receiver.url}/cdc"`);
  expect(group.results[0]).toMatchObject({ check: 'url', verdict: 'WARN', reason: expect.stringContaining('HEAD answered 401') });
  expect(group.results[0]!.remedy).toContain('headers');
});

test('a closed port: FAIL within seconds; an unusable deadLetterFile: FAIL', async () => {
  // A port nothing listens on: a receiver's, after it stopped.
  const gone = startReceiver();
  const port = gone.port;
  await gone.stop();
  const { group, ms } = await checkSink('closed', `url = "http://127.0.0.1:${port}/cdc"\ndeadLetterFile = "${dir}/missing/dead.jsonl"`);
  expect(group.results.map((r) => `${r.verdict} ${r.check}`)).toEqual(['FAIL url', 'FAIL deadLetterFile']);
  expect(group.results[0]!.remedy).toContain('check the url');
  expect(ms).toBeLessThan(15_000);
});

test('TLS: an unknown CA is a FAIL pointing at tlsCaFile; with tlsCaFile it is OK', async () => {
  const receiver = startReceiver({ tls: { cert: readFileSync(join(certs, 'server.pem'), 'utf8'), key: readFileSync(join(certs, 'server.key'), 'utf8') } });
  receivers.push(receiver);
  const unknown = await checkSink('tls-unknown', `url = "${receiver.url}/cdc"`);
  expect(unknown.group.results[0]).toMatchObject({ check: 'url', verdict: 'FAIL', remedy: expect.stringContaining('tlsCaFile') });
  const known = await checkSink('tls-known', `url = "${receiver.url}/cdc"\ntlsCaFile = "${join(certs, 'ca.pem')}"`);
  expect(known.group.results[0]).toMatchObject({ check: 'url', verdict: 'OK' });
});
