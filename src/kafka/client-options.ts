/**
 * From the resolved connection keys (client-spec.ts) to @platformatic/kafka client options: brokers,
 * client id, timeouts, TLS files, SASL. Shared by the Kafka sink and the Kafka source. Imports the
 * library's types only, so loading this file never loads the library.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import { StreamerError } from '../core/errors.ts';
import { usesTls, type KafkaClientOptions } from './client-spec.ts';

/** Connection part of the options of every @platformatic/kafka client (Producer, Consumer, Admin). */
export interface KafkaConnectionOptions {
  clientId: string;
  bootstrapBrokers: string[];
  /** Time to open a TCP (and TLS) connection to a broker, ms. */
  connectTimeout?: number;
  /** Time to wait for the answer to one request, ms. */
  requestTimeout?: number;
  /**
   * TLS settings. The TLS server name (SNI) is left to the runtime, which sends the broker's host name
   * and none for an IP address; the client's `tlsServerName: true` would pass IP addresses too,
   * which Bun refuses by throwing inside @platformatic/kafka's connect, where the error is lost and
   * the request never settles.
   */
  tls?: TlsOptions;
  sasl?: SASLOptions;
}

export interface ConnectionTimeouts {
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * Builds the connection options. TLS files are read now, so a missing or unreadable file is a clear
 * CONFIG error at startup (non-retryable) rather than a connection failure later.
 */
export function kafkaConnectionOptions(o: KafkaClientOptions, timeouts: ConnectionTimeouts = {}): KafkaConnectionOptions {
  const options: KafkaConnectionOptions = { clientId: o.clientId, bootstrapBrokers: [...o.hosts] };
  if (timeouts.connectTimeoutMs !== undefined) options.connectTimeout = timeouts.connectTimeoutMs;
  if (timeouts.requestTimeoutMs !== undefined) options.requestTimeout = timeouts.requestTimeoutMs;
  if (usesTls(o)) {
    const tls: TlsOptions = {};
    if (o.tlsCaFile) tls.ca = readPem('tlsCaFile', o.tlsCaFile);
    if (o.tlsCertFile) tls.cert = readPem('tlsCertFile', o.tlsCertFile);
    if (o.tlsKeyFile) tls.key = readPem('tlsKeyFile', o.tlsKeyFile);
    options.tls = tls;
  }
  if (o.saslMechanism) {
    // Validated by client-spec's choices: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
    options.sasl = { mechanism: o.saslMechanism as SASLOptions['mechanism'], username: o.saslUsername ?? '', password: o.saslPassword ?? '' };
  }
  return options;
}

function readPem(key: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new StreamerError('CONFIG', `${key}: cannot read ${JSON.stringify(path)} (${reason}): expected a readable PEM file`, { retryable: false, cause: err });
  }
  if (!text.includes('-----BEGIN ')) {
    throw new StreamerError('CONFIG', `${key}: ${JSON.stringify(path)} is not a PEM file (no "-----BEGIN" line)`, { retryable: false });
  }
  return text;
}

/** The shape of the library's errors that matters for messages (GenericError, MultipleErrors, ProtocolError). */
interface KafkaErrorLike {
  message?: string;
  errors?: unknown[];
  cause?: unknown;
  apiId?: string;
  serverErrorMessage?: string | null;
}

/**
 * One readable line for an error of @platformatic/kafka. Its errors nest (a send that failed after
 * retries is a MultipleErrors of MultipleErrors of ProtocolErrors whose messages say little), so the
 * line is the top message followed by the distinct innermost reasons, e.g.
 * `Producing messages failed.: Connection to 127.0.0.1:9092 failed.: connect ECONNREFUSED 127.0.0.1:9092`.
 */
export function describeKafkaError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const leaves: string[] = [];
  collectLeaves(err, leaves, 0);
  const top = err.message;
  const distinct = [...new Set(leaves)].filter((leaf) => leaf !== top);
  if (distinct.length === 0) return top || 'unknown Kafka error';
  const shown = distinct.length > 3 ? [...distinct.slice(-3), `(and ${distinct.length - 3} more)`] : distinct;
  return top ? `${top}: ${shown.join('; ')}` : shown.join('; ');
}

function collectLeaves(err: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (!(err instanceof Error)) {
    if (err !== undefined && err !== null) out.push(String(err));
    return;
  }
  const e = err as KafkaErrorLike;
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    for (const inner of e.errors) collectLeaves(inner, out, depth + 1);
    return;
  }
  let line = e.message ?? '';
  if (e.apiId) line += ` [${e.apiId}${e.serverErrorMessage ? `: ${e.serverErrorMessage}` : ''}]`;
  for (let cause = e.cause, k = 0; cause instanceof Error && k < 4; cause = cause.cause, k++) {
    if (!line.includes(cause.message)) line += `: ${cause.message}`;
  }
  out.push(line);
}
