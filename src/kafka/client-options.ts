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

// Kept here for the modules that import it from the connection options.
export { describeKafkaError } from './errors.ts';
