/**
 * Connecting to NATS with the sink's keys (docs/nats.md, "Connecting"): servers, TLS files,
 * authentication (a credentials file or an NKEY seed; a token; user/password), timeouts.
 * Shared by the sink and `check --live`. Imports the NATS client: load it lazily.
 */
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { NatsSinkOptions } from './spec.ts';

type ConnectKeys = Pick<NatsSinkOptions,
  'servers' | 'tlsCaFile' | 'tlsCertFile' | 'tlsKeyFile' | 'credentialsFile' | 'nkeySeed' | 'token' | 'user' | 'password' | 'timeout'>;

/** The client's options for `o`; reads the credentials file. Throws a permanent StreamerError when it cannot be read or is not one. */
export async function natsConnectionOptions(o: ConnectKeys, component: string): Promise<NodeConnectionOptions> {
  const options: NodeConnectionOptions = {
    servers: o.servers,
    name: 'psql-streamer',
    timeout: o.timeout,
    // After the first connection, the client reconnects for ever (publishes fail meanwhile and are retried).
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
  };
  if (o.tlsCaFile !== undefined || o.tlsCertFile !== undefined || o.servers.some((s) => s.startsWith('tls://'))) {
    options.tls = {};
    if (o.tlsCaFile !== undefined) options.tls.caFile = o.tlsCaFile;
    if (o.tlsCertFile !== undefined) options.tls.certFile = o.tlsCertFile;
    if (o.tlsKeyFile !== undefined) options.tls.keyFile = o.tlsKeyFile;
  }
  if (o.credentialsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await readFile(o.credentialsFile);
    } catch (err) {
      throw new StreamerError('SINK_PERMANENT', `cannot read credentialsFile '${o.credentialsFile}': ${describeError(err)}`, { component, retryable: false, cause: err });
    }
    options.authenticator = credsAuthenticator(creds);
    try {
      // Signs a nonce as at connect: a file without a user JWT and a valid NKEY seed fails here, once, for good.
      options.authenticator('check');
    } catch (err) {
      throw new StreamerError('SINK_PERMANENT', `credentialsFile '${o.credentialsFile}' is not a NATS credentials file (a user JWT and its NKEY seed, as \`nsc generate creds\` writes it): ${describeError(err)}`, { component, retryable: false, cause: err });
    }
  } else if (o.nkeySeed !== undefined) {
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(o.nkeySeed.trim()));
  }
  // A token and user/password go along with either (the server uses what its configuration asks for).
  if (o.token !== undefined) options.token = o.token;
  if (o.user !== undefined) {
    options.user = o.user;
    options.pass = o.password ?? '';
  }
  return options;
}

/** One connection attempt to any of the servers; rejects with the client's error. */
export async function connectNats(o: ConnectKeys, component: string): Promise<NatsConnection> {
  return connect(await natsConnectionOptions(o, component));
}

/** The client's error in one line, e.g. "cannot reach NATS nats://127.0.0.1:4222: connection refused". */
export function describeNatsConnectError(err: unknown, servers: readonly string[]): string {
  const text = describeError(err);
  const where = servers.join(', ');
  if (/ECONNREFUSED|CONNECTION_REFUSED/i.test(text)) return `cannot reach NATS ${where}: connection refused`;
  if (/timeout/i.test(text)) return `cannot reach NATS ${where}: no answer (timeout)`;
  if (/authorization|authentication/i.test(text)) return `NATS ${where} refused the credentials: ${text}`;
  return `cannot connect to NATS ${where}: ${text}`;
}
