/**
 * One POST of an HTTP sink, the I/O edge: Bun's fetch (keep-alive connections are pooled and
 * reused by it), the sink's TLS settings, a deadline covering connect to the end of the response.
 * Returns what happened as a value; never throws. Bun's fetch over node:http: docs/http-sink.md
 * ("Client") has the measurement.
 */
import { readFileSync } from 'node:fs';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { HttpSinkOptions } from './spec.ts';

/** What one request came to. */
export type Outcome =
  | { kind: 'answer'; status: number; retryAfter: string | null; body: string }
  | { kind: 'timeout' }
  | { kind: 'network'; reason: string };

/** The fixed part of every request of one sink: URL, headers, TLS, deadline. */
export interface Endpoint {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
}

/** Longest answer body read (the rest is discarded); enough for a message snippet. */
const MAX_ANSWER_CHARS = 64 * 1024;

function readPem(key: string, path: string, component: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new StreamerError('CONFIG', `cannot read ${key} "${path}": ${describeError(err)}`, { component, retryable: false, cause: err });
  }
}

/** The endpoint of a sink's options: reads the TLS files (throws a CONFIG error when one is unreadable). */
export function endpointOf(o: HttpSinkOptions, contentType: string, component: string): Endpoint {
  const headers: Record<string, string> = { 'Content-Type': contentType, 'User-Agent': 'psql-streamer' };
  for (const [name, value] of Object.entries(o.headers)) {
    // The configured spelling replaces ours (Content-Type included).
    for (const own of Object.keys(headers)) if (own.toLowerCase() === name.toLowerCase()) delete headers[own];
    headers[name] = value;
  }
  const endpoint: Endpoint = { url: o.url, headers, timeoutMs: o.timeout };
  if (o.url.startsWith('https:')) {
    endpoint.tls = { rejectUnauthorized: !o.tlsInsecureSkipVerify };
    if (o.tlsCaFile !== undefined) endpoint.tls.ca = readPem('tlsCaFile', o.tlsCaFile, component);
    if (o.tlsCertFile !== undefined) endpoint.tls.cert = readPem('tlsCertFile', o.tlsCertFile, component);
    if (o.tlsKeyFile !== undefined) endpoint.tls.key = readPem('tlsKeyFile', o.tlsKeyFile, component);
  }
  return endpoint;
}

/** Sends `body` with the endpoint's headers plus `extra`, and reads the answer. */
export async function send(endpoint: Endpoint, body: Uint8Array, extra: Readonly<Record<string, string>>, method = 'POST'): Promise<Outcome> {
  // One timer per request, cleared at the answer (AbortSignal.timeout's would linger for `timeout`).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), endpoint.timeoutMs);
  try {
    const response = await fetch(endpoint.url, {
      method,
      headers: { ...endpoint.headers, ...extra },
      body: method === 'POST' ? body : undefined,
      signal: controller.signal,
      redirect: 'manual',
      keepalive: true,
      ...(endpoint.tls === undefined ? {} : { tls: endpoint.tls }),
    } as RequestInit);
    const text = await response.text();
    return {
      kind: 'answer',
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: text.length > MAX_ANSWER_CHARS ? text.slice(0, MAX_ANSWER_CHARS) : text,
    };
  } catch (err) {
    if (controller.signal.aborted) return { kind: 'timeout' };
    return { kind: 'network', reason: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
}
