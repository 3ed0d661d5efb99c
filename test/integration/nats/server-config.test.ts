/**
 * The NATS sink against nats-servers configured for each case: authentication and TLS (a token,
 * user/password, an NKEY seed, mutual TLS with a test CA; wrong credentials show in the status:
 * "connecting: ... refused the credentials"), a connection the client gives up on, an event over
 * the server's max_payload. Each server is private to its test. Credentials files (operator/account
 * JWTs): credentials.test.ts.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nkeys, type ConnectionOptions } from '@nats-io/transport-node';
import type { NatsSinkOptions } from '../../../src/sinks/nats/spec.ts';
import { makeTestEvent } from '../../contract/events.ts';
import { makeCertificates } from '../../helpers/certs.ts';
import { createStream, makeNatsSink, startPrivateNats, streamSize, type PrivateNats } from '../../helpers/nats.ts';
import { useTempDirs, waitFor } from '../../helpers/streamer.ts';

const servers: PrivateNats[] = [];
const newDir = useTempDirs('psql-streamer-nats-tls-');
afterAll(async () => {
  for (const s of servers.splice(0)) await s.remove().catch(() => {});
}, 60_000);

/** Starts a server with `conf`, makes stream "AUTH" capturing "auth.>" as `admin`, writes 5 events through a sink with `keys`. */
async function deliverThrough(conf: string, admin: Partial<ConnectionOptions>, keys: Partial<NatsSinkOptions>): Promise<{ stored: number; status: string | null }> {
  const server = await startPrivateNats(conf);
  servers.push(server);
  const url = server.url;
  const nc = await connect({ servers: url, ...admin });
  try {
    await createStream(await jetstreamManager(nc), 'AUTH', ['auth.>']);
    const sink = await makeNatsSink('nats-auth', { servers: [url], subjectFallback: 'auth.{table}', timeout: 3000, ...keys });
    try {
      await sink.write(Array.from({ length: 5 }, (_, k) => makeTestEvent(k, 'db1', 'items')));
      return { stored: await streamSize(nc, 'AUTH'), status: sink.status() };
    } finally {
      await sink.close();
    }
  } finally {
    await nc.close();
  }
}

describe('NATS sink: authentication and TLS', () => {
  test('token', async () => {
    const r = await deliverThrough('authorization { token: "s3cret" }\n', { token: 's3cret' }, { token: 's3cret' });
    expect(r).toMatchObject({ stored: 5, status: null });
  }, 60_000);

  test('user and password, and an NKEY seed, on one server', async () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const conf = `authorization { users = [ { user: "app", password: "pw" }, { nkey: "${user.getPublicKey()}" } ] }\n`;
    const r = await deliverThrough(conf, { user: 'app', pass: 'pw' }, { user: 'app', password: 'pw' });
    expect(r).toMatchObject({ stored: 5, status: null });
    // The same server (its own stream already made): the NKEY user publishes too.
    const server = servers.at(-1)!;
    const sink = await makeNatsSink('nats-nkey', { servers: [server.url], subjectFallback: 'auth.{table}', nkeySeed: seed, timeout: 3000 });
    try {
      await sink.write([makeTestEvent(100, 'db1', 'items')]);
    } finally {
      await sink.close();
    }
    const nc = await connect({ servers: server.url, user: 'app', pass: 'pw' });
    expect(await streamSize(nc, 'AUTH')).toBe(6);
    await nc.close();
  }, 60_000);

  test('wrong credentials: "connecting: ... refused the credentials", the write fails retryable', async () => {
    const server = await startPrivateNats('authorization { token: "right" }\n');
    servers.push(server);
    const sink = await makeNatsSink('nats-wrong', { servers: [server.url], subjectFallback: 'x', token: 'wrong', timeout: 2000 });
    try {
      const err = await sink.write([makeTestEvent(0, 'db1', 'items')]).then(() => undefined, (e: unknown) => e as { retryable: boolean });
      expect(err?.retryable).toBe(true);
      expect(sink.status()).toMatch(/^connecting: NATS nats:\/\/127\.0\.0\.1:\d+ refused the credentials: .*[Aa]uthorization/);
    } finally {
      await sink.close();
    }
  }, 60_000);

  test('the client gives up (credentials refused twice on reconnect): the sink connects again from scratch once they work', async () => {
    const server = await startPrivateNats('authorization { token: "one" }\n');
    servers.push(server);
    const conf = join(server.dir, 'nats.conf');
    const nc = await connect({ servers: server.url, token: 'one' });
    await createStream(await jetstreamManager(nc), 'AUTH', ['auth.>']);
    await nc.close();
    const sink = await makeNatsSink('nats-revoked', { servers: [server.url], subjectFallback: 'auth.{table}', token: 'one', timeout: 2000 });
    try {
      await sink.write(Array.from({ length: 5 }, (_, k) => makeTestEvent(k, 'db1', 'items')));
      await server.stop();
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('token: "one"', 'token: "two"'));
      await server.start();
      await waitFor('the sink to say the connection closed', () => /^reconnecting: (the NATS connection closed|NATS .* refused the credentials)/.test(sink.status() ?? ''), 30_000);
      await server.stop();
      writeFileSync(conf, readFileSync(conf, 'utf8').replace('token: "two"', 'token: "one"'));
      await server.start();
      const batch = Array.from({ length: 5 }, (_, k) => makeTestEvent(5 + k, 'db1', 'items'));
      await waitFor('a write to work again', () => sink.write(batch).then(() => true, () => false), 30_000);
      expect(sink.status()).toBeNull();
    } finally {
      await sink.close();
    }
    const check = await connect({ servers: server.url, token: 'one' });
    expect(await streamSize(check, 'AUTH')).toBe(10);
    await check.close();
  }, 90_000);

  test('an event larger than the server\'s max_payload: permanent error naming it, the events before it delivered', async () => {
    const server = await startPrivateNats('max_payload: 4096\n');
    servers.push(server);
    const nc = await connect({ servers: server.url });
    await createStream(await jetstreamManager(nc), 'AUTH', ['auth.>']);
    const sink = await makeNatsSink('nats-large', { servers: [server.url], subjectFallback: 'auth.{table}', timeout: 2000 });
    try {
      const large = makeTestEvent(2, 'db1', 'items');
      large.columns = { ...large.columns, note: 'x'.repeat(5000) };
      const err = await sink.write([makeTestEvent(0), makeTestEvent(1), large, makeTestEvent(3)]).then(() => undefined, (e: unknown) => e as { retryable: boolean; message: string });
      expect(err?.retryable).toBe(false);
      expect(err?.message).toContain(`event ${large.uuid} (public.items, LSN ${large.lsn})`);
      expect(err?.message).toContain("more than the server's max_payload of 4096");
      expect(await streamSize(nc, 'AUTH')).toBe(2);
    } finally {
      await sink.close();
      await nc.close();
    }
  }, 60_000);

  test('mutual TLS with a test CA (tlsCaFile, tlsCertFile, tlsKeyFile)', async () => {
    const dir = newDir();
    makeCertificates(dir);
    const pem = (name: string) => join(dir, name);
    const conf = `tls { cert_file: "${pem('server.pem')}", key_file: "${pem('server.key')}", ca_file: "${pem('ca.pem')}", verify: true }\n`;
    const admin = { tls: { caFile: pem('ca.pem'), certFile: pem('client.pem'), keyFile: pem('client.key') } };
    const r = await deliverThrough(conf, admin, { tlsCaFile: pem('ca.pem'), tlsCertFile: pem('client.pem'), tlsKeyFile: pem('client.key') });
    expect(r).toMatchObject({ stored: 5, status: null });
    // Without the client certificate the server refuses the connection.
    const server = servers.at(-1)!;
    const sink = await makeNatsSink('nats-nocert', { servers: [server.url], subjectFallback: 'auth.{table}', tlsCaFile: pem('ca.pem'), timeout: 2000 });
    try {
      const err = await sink.write([makeTestEvent(0, 'db1', 'items')]).then(() => undefined, (e: unknown) => e as { retryable: boolean });
      expect(err?.retryable).toBe(true);
      expect(sink.status()).toMatch(/^connecting: /);
    } finally {
      await sink.close();
    }
  }, 60_000);
});
