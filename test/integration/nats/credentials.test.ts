/**
 * The NATS sink with a credentials file against a nats-server in operator (JWT) mode: an operator,
 * a system and an application account preloaded in a memory resolver, users' JWTs and `.creds`
 * files made by the test (test/helpers/nats-jwt.ts). The sink connects with `credentialsFile` and
 * publishes; a credentials file of a user the server does not trust (another operator's) is named
 * in `/status` and by `check --live`; a file that cannot be read stops the sink for good.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { checkNats } from '../../../src/commands/check/nats.ts';
import { natsConnectionOptions } from '../../../src/sinks/nats/connection.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { makeOperator, type Operator } from '../../helpers/nats-jwt.ts';
import { createStream, makeNatsSink, natsSinkOptionsFor, startPrivateNats, streamSize, type PrivateNats } from '../../helpers/nats.ts';
import { useTempDirs } from '../../helpers/streamer.ts';

const newDir = useTempDirs('psql-streamer-nats-creds-');
let server: PrivateNats;
let operator: Operator;
let admin: NatsConnection;
let dir: string;

/** Writes a `.creds` text to a file of the test's directory; returns its path. */
function credsPath(name: string, text: string): string {
  const file = join(dir, `${name}.creds`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  operator = makeOperator();
  server = await startPrivateNats(operator.serverConf);
  dir = newDir();
  admin = await connect({ servers: server.url, authenticator: credsAuthenticator(new TextEncoder().encode(operator.credsFor('admin'))) });
  await createStream(await jetstreamManager(admin), 'CREDS', ['creds.>']);
}, 60_000);

afterAll(async () => {
  await admin?.close().catch(() => {});
  await server?.remove().catch(() => {});
}, 60_000);

const events = (from: number, n: number) => Array.from({ length: n }, (_, k) => makeTestEvent(from + k, 'db1', 'items'));

describe('NATS sink: credentials file (operator/JWT mode)', () => {
  test('a user of the trusted account: connects with credentialsFile and publishes; check --live is OK', async () => {
    const credentialsFile = credsPath('app', operator.credsFor('streamer'));
    const sink = await makeNatsSink('nats-creds', { servers: [server.url], subjectFallback: 'creds.{table}', stream: 'CREDS', credentialsFile, timeout: 3000 });
    try {
      await sink.write(events(0, 5));
      expect(sink.status()).toBeNull();
    } finally {
      await sink.close();
    }
    expect(await streamSize(admin, 'CREDS')).toBe(5);
    const group = await checkNats({ kind: 'sink', name: 'n', type: 'nats', results: [] }, natsSinkOptionsFor({ servers: [server.url], subjectFallback: 'creds.{table}', stream: 'CREDS', credentialsFile }));
    expect(group.results.map((r) => `${r.verdict} ${r.check}`)).toEqual(['OK servers', 'OK jetstream', 'OK stream', 'OK subject']);
  }, 60_000);

  test('a user of another operator: "connecting: ... refused the credentials" in status and check, the write fails retryable', async () => {
    const credentialsFile = credsPath('stranger', makeOperator('other').credsFor('stranger'));
    const sink = await makeNatsSink('nats-stranger', { servers: [server.url], subjectFallback: 'creds.{table}', credentialsFile, timeout: 2000 });
    try {
      const err = await sink.write(events(100, 1)).then(() => undefined, (e: unknown) => e as { retryable: boolean });
      expect(err?.retryable).toBe(true);
      expect(sink.status()).toMatch(/^connecting: NATS nats:\/\/127\.0\.0\.1:\d+ refused the credentials: .*[Aa]uthorization [Vv]iolation/);
    } finally {
      await sink.close();
    }
    const group = await checkNats({ kind: 'sink', name: 'n', type: 'nats', results: [] }, natsSinkOptionsFor({ servers: [server.url], subjectFallback: 'creds.{table}', credentialsFile }));
    expect(group.results).toHaveLength(1);
    expect(group.results[0]).toMatchObject({ check: 'servers', verdict: 'FAIL' });
    expect(group.results[0]!.reason).toMatch(/refused the credentials: .*[Aa]uthorization [Vv]iolation/);
    expect(await streamSize(admin, 'CREDS')).toBe(5);
  }, 60_000);

  test('a credentials file that is not one, or cannot be read: the sink stops for good, saying which file', async () => {
    const garbage = credsPath('garbage', 'not a credentials file\n');
    // A JWT without a valid seed block is refused as well.
    expect(await natsConnectionOptions(natsSinkOptionsFor({ servers: [server.url], credentialsFile: credsPath('bad-seed', operator.credsFor('x').replace(/SU[A-Z2-7]{56}/, 'SUNOPE')) }), 'c').then(() => '', (e: Error) => e.message))
      .toContain('is not a NATS credentials file');
    const sink = await makeNatsSink('nats-garbage', { servers: [server.url], subjectFallback: 'creds.{table}', credentialsFile: garbage, timeout: 2000 });
    try {
      const err = await sink.write(events(200, 1)).then(() => undefined, (e: unknown) => e as { retryable: boolean; message: string });
      expect(err).toBeDefined();
      expect(err?.retryable).toBe(false);
      expect(sink.status()).toBe(`credentialsFile '${garbage}' is not a NATS credentials file (a user JWT and its NKEY seed, as \`nsc generate creds\` writes it): unable to parse credentials`);
    } finally {
      await sink.close();
    }
    const missing = join(dir, 'missing.creds');
    const gone = await makeNatsSink('nats-missing', { servers: [server.url], subjectFallback: 'creds.{table}', credentialsFile: missing, timeout: 2000 });
    try {
      const err = await gone.write(events(300, 1)).then(() => undefined, (e: unknown) => e as { retryable: boolean; message: string });
      expect(err?.retryable).toBe(false);
      expect(gone.status()).toContain(`cannot read credentialsFile '${missing}'`);
    } finally {
      await gone.close();
    }
  }, 60_000);
});
