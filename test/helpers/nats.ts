/**
 * Real nats-server (JetStream) for integration tests. `useNats()` in a test file gives it a server:
 * the one named by NATS_URL, or else one started here with `scripts/nats/start --private` and
 * stopped after the last test file using it. `startPrivateNats()` gives a test a server of its own
 * that it may stop and start again on the same store (outage tests). Streams are read back with a
 * JetStream consumer. Nothing starts until a hook runs.
 */
import { afterAll, beforeAll } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { SectionSpec } from '../../src/config/fields.ts';
import { Logger } from '../../src/core/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics/catalogue.ts';
import { createNatsSink } from '../../src/sinks/nats/sink.ts';
import { natsSinkOptions, type NatsSinkOptions } from '../../src/sinks/nats/spec.ts';
import type { Sink } from '../../src/sinks/sink.ts';
import { required, runScript, SharedServer } from './env.ts';

export interface NatsServer {
  /** "nats://127.0.0.1:PORT" */
  url: string;
}

const shared = new SharedServer<NatsServer>(async () => {
  if (process.env.NATS_URL) return { server: { url: process.env.NATS_URL } };
  const vars = await runScript('nats/start', ['--private']);
  const dir = required(vars, 'PSQL_STREAMER_NATS_DIR');
  return { server: { url: required(vars, 'NATS_URL') }, stop: async () => void (await runScript('nats/stop', ['--dir', dir])) };
});

let counter = 0;

/** A stream name and subject prefix no other test uses, e.g. "contract_m3x9k2_1". */
export function uniqueName(prefix = 'test'): string {
  counter += 1;
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_${Date.now().toString(36)}_${counter}_${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

/** One message read back from a stream. */
export interface StoredMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  /** The payload as text (the event JSON). */
  data: string;
}

/** Creates a stream capturing `subjects` (file storage, default 2 min duplicate window). */
export async function createStream(jsm: JetStreamManager, name: string, subjects: string[]): Promise<void> {
  await jsm.streams.add({ name, subjects });
}

/** Messages in `stream`. */
export async function streamSize(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** Every message of `stream`, in stream order, read with an ordered JetStream consumer. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const size = await streamSize(nc, stream);
  const out: StoredMessage[] = [];
  if (size === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  while (out.length < size) {
    const batch = await consumer.fetch({ max_messages: Math.min(size - out.length, 10_000), expires: 5_000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, data: m.string() });
    }
    if (got === 0) throw new Error(`stream ${stream} has ${size} messages, read only ${out.length}`);
  }
  return out;
}

/** What useNats gives a test file. */
export interface NatsFixture {
  readonly server: NatsServer;
  /** A connection of this file, closed after its tests. */
  connection(): Promise<NatsConnection>;
  /** Creates a uniquely named stream capturing "<name>.>" (deleted after the file's tests); returns its name (= subject prefix). */
  createStream(prefix?: string): Promise<string>;
}

/** Registers beforeAll/afterAll hooks that provide a JetStream server to this test file. */
export function useNats(): NatsFixture {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const streams: string[] = [];

  beforeAll(async () => {
    server = await shared.acquire();
  }, 60_000);

  afterAll(async () => {
    if (server === undefined) return;
    if (nc !== undefined) {
      const jsm = await jetstreamManager(nc).catch(() => undefined);
      for (const s of streams.splice(0)) await jsm?.streams.delete(s).catch(() => {});
      await nc.close().catch(() => {});
      nc = undefined;
    }
    server = undefined;
    await shared.release();
  }, 30_000);

  const fixture: NatsFixture = {
    get server(): NatsServer {
      if (server === undefined) throw new Error('useNats(): the server exists only inside hooks and tests');
      return server;
    },
    async connection() {
      nc ??= await connect({ servers: fixture.server.url });
      return nc;
    },
    async createStream(prefix = 'test') {
      const name = uniqueName(prefix);
      await createStream(await jetstreamManager(await fixture.connection()), name, [`${name}.>`]);
      streams.push(name);
      return name;
    },
  };
  return fixture;
}

/** A nats-server of one test's own, which it may stop and start again on the same store. */
export interface PrivateNats {
  url: string;
  /** Its directory: nats.conf (a test may edit it between stop() and start()), the store, server.log. */
  dir: string;
  /** Stops the server, keeping its store. */
  stop(): Promise<void>;
  /** Starts it again (same port, same store). */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  remove(): Promise<void>;
}

/** @param extraConf lines appended to the server's config (e.g. `authorization { token: "t" }`). */
export async function startPrivateNats(extraConf?: string): Promise<PrivateNats> {
  const args = ['--private'];
  let confDir: string | undefined;
  if (extraConf !== undefined) {
    confDir = mkdtempSync(join(tmpdir(), 'psql-streamer-nats-conf-'));
    writeFileSync(join(confDir, 'extra.conf'), extraConf);
    args.push('--conf-extra', join(confDir, 'extra.conf'));
  }
  let vars: Record<string, string>;
  try {
    vars = await runScript('nats/start', args);
  } finally {
    if (confDir !== undefined) rmSync(confDir, { recursive: true, force: true });
  }
  const dir = required(vars, 'PSQL_STREAMER_NATS_DIR');
  return {
    url: required(vars, 'NATS_URL'),
    dir,
    stop: async () => void (await runScript('nats/stop', ['--dir', dir, '--keep'])),
    start: async () => void (await runScript('nats/start', ['--dir', dir])),
    remove: async () => void (await runScript('nats/stop', ['--dir', dir])),
  };
}

/** The sink's resolved options: the config defaults, then `overrides`. */
export function natsSinkOptionsFor(overrides: Partial<NatsSinkOptions> & Pick<NatsSinkOptions, 'servers'>): NatsSinkOptions {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(natsSinkOptions as SectionSpec)) if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  return { ...(defaults as NatsSinkOptions), ...overrides };
}

/** A started NATS sink built from config-like options. */
export async function makeNatsSink(
  name: string,
  overrides: Partial<NatsSinkOptions> & Pick<NatsSinkOptions, 'servers'>,
  metrics: Metrics = createMetrics(),
  log = Logger.for('Sink-NATS', name),
): Promise<Sink> {
  return createNatsSink(name, natsSinkOptionsFor(overrides), { log, metrics });
}
