/**
 * `check --live` for a NATS sink (docs/nats.md, "check"): the servers answer with these
 * credentials, JetStream is enabled for the account, the configured `stream` exists (or will be
 * created), and some stream captures each configured subject (the fallback as its wildcard form),
 * the configured stream when one is set. Creates nothing; a short-lived connection.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { describeError } from '../../core/errors.ts';
import { withDeadline } from '../../core/deadline.ts';
import { connectNats, describeNatsConnectError } from '../../sinks/nats/connection.ts';
import type { NatsSinkOptions } from '../../sinks/nats/spec.ts';
import { configuredStreamSubjects } from '../../sinks/nats/subjects.ts';
import { fail, ok, warn, type CheckGroup, type CheckResult } from './result.ts';

/** Cap of the check's own timeouts (the sink's `timeout` when shorter). */
const MAX_MS = 3000;

export async function checkNats(group: CheckGroup, o: NatsSinkOptions): Promise<CheckGroup> {
  group.target = o.servers.join(',');
  const ms = Math.min(o.timeout, MAX_MS);
  const call = <T>(what: string, promise: Promise<T>) => withDeadline(promise, ms + 1000, () => new Error(`${what}: no answer within ${ms + 1000} ms`));
  let nc: NatsConnection;
  try {
    nc = await call('connect', connectNats({ ...o, timeout: ms }, `Sink-NATS (${group.name})`));
  } catch (err) {
    group.results.push(fail('servers', describeNatsConnectError(err, o.servers), 'check servers, that nats-server listens there, and the TLS and authentication keys'));
    return group;
  }
  try {
    group.results.push(ok('servers', `connected to ${nc.getServer()} (nats-server ${nc.info?.version ?? 'unknown version'})`));
    group.results.push(...(await inspect(nc, o, call)));
  } finally {
    await nc.close().catch(() => {});
  }
  return group;
}

type Call = <T>(what: string, promise: Promise<T>) => Promise<T>;

/** Whether every subject matching `pattern` also matches the stream's `subject` (token by token). */
export function subjectCovers(subject: string, pattern: string): boolean {
  const s = subject.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '>') return i < p.length;
    if (i >= p.length) return false;
    if (s[i] !== '*' && s[i] !== p[i]) return false;
  }
  return s.length === p.length;
}

/** Whether one of the subjects of `stream` covers the whole `pattern`. */
async function coversAll(jsm: JetStreamManager, stream: string, pattern: string, call: Call): Promise<boolean> {
  const info = await call('stream info', jsm.streams.info(stream)).catch(() => undefined);
  return info?.config.subjects.some((subject) => subjectCovers(subject, pattern)) ?? false;
}

async function inspect(nc: NatsConnection, o: NatsSinkOptions, call: Call): Promise<CheckResult[]> {
  let jsm: JetStreamManager;
  try {
    jsm = await call('JetStream account info', jetstreamManager(nc, { timeout: Math.min(o.timeout, MAX_MS) }));
  } catch (err) {
    return [fail('jetstream', `JetStream does not answer: ${describeError(err)}`, 'enable JetStream on the server (jetstream {} in its config) and for this account')];
  }
  const results: CheckResult[] = [ok('jetstream', 'JetStream enabled')];
  let streamMissing = false;
  if (o.stream !== undefined) {
    try {
      const info = await call('stream info', jsm.streams.info(o.stream));
      const windowS = Math.round((info.config.duplicate_window ?? 0) / 1e9);
      results.push(ok('stream', `${info.state.messages} messages, subjects ${info.config.subjects.join(', ')}, duplicate window ${windowS} s`, o.stream));
    } catch (err) {
      if ((err as { name?: string }).name !== 'StreamNotFoundError') {
        results.push(fail('stream', `cannot read stream info: ${describeError(err)}`, 'grant the user the JetStream API ($JS.API.>)', o.stream));
        return results;
      }
      streamMissing = true;
      if (o.createStream) results.push(ok('stream', 'does not exist yet; created at startup (createStream = true)', o.stream));
      else {
        results.push(fail('stream', 'does not exist', `nats stream add ${o.stream} --subjects ${configuredStreamSubjects(o).map((s) => `'${s}'`).join(',')}, or set createStream = true`, o.stream));
      }
    }
  }
  if (streamMissing) return results;
  for (const subject of configuredStreamSubjects(o)) {
    let found: string | undefined;
    try {
      found = await call('stream lookup', jsm.streams.find(subject));
    } catch (err) {
      if (!/no stream matches subject/i.test(describeError(err))) {
        results.push(fail('subject', `cannot look up its stream: ${describeError(err)}`, 'grant the user the JetStream API ($JS.API.>)', subject));
        continue;
      }
    }
    if (found === undefined) {
      results.push(fail('subject', 'no stream captures it: events published there are retried until one does', 'add the subject to a stream (nats stream edit ... --subjects), or set stream and createStream = true', subject));
    } else if (o.stream !== undefined && found !== o.stream) {
      results.push(fail('subject', `captured by stream ${found}, not by the configured stream ${o.stream}`, `make ${o.stream} capture it, or change stream`, subject));
    } else if (subject.includes('*') && !(await coversAll(jsm, found, subject, call))) {
      results.push(warn('subject', `only partly captured by stream ${found}: some tables' subjects may fall outside it`, `make ${found} capture ${subject}`, subject));
    } else {
      results.push(ok('subject', `captured by stream ${found}`, subject));
    }
  }
  return results;
}
