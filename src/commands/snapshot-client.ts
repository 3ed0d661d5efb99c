/**
 * The `snapshot` command's way to the running streamer: its HTTP API as the config describes it
 * (`http`, `httpToken`, `httpTlsCertFile`; docs/snapshots.md, "Operating snapshots"). A wildcard
 * listen address is reached on loopback. Over HTTPS the configured certificate is trusted as it is
 * (the API often serves a self-signed one): the server may present exactly that certificate under
 * any name, or any other certificate that verifies for the host against the system roots and the
 * configured file. Every answer becomes a value; only the caller prints.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { clientOrigin } from '../config/listen-address.ts';
import type { Config } from '../config/schema.ts';
import { describeError } from '../core/errors.ts';

export interface Endpoint {
  /** e.g. `http://127.0.0.1:12080`. */
  origin: string;
  token?: string;
  /** Fetch's TLS options for an HTTPS API. */
  tls?: { ca: string[]; checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined };
}

/** An answer of the API, or why there is none. */
export type ApiResult =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status?: number; message: string };

/** Where and how to reach the streamer described by `config`; throws a readable Error when the certificate cannot be read. */
export function endpointOf(config: Pick<Config, 'http' | 'httpSecurity'>): Endpoint {
  const { token, tls } = config.httpSecurity;
  const endpoint: Endpoint = { origin: clientOrigin(config.http, tls !== undefined), ...(token === undefined ? {} : { token }) };
  if (tls === undefined) return endpoint;
  let pem: string;
  let fingerprint: string | undefined;
  try {
    pem = readFileSync(tls.certFile, 'utf8');
  } catch (err) {
    throw new Error(`httpTlsCertFile = "${tls.certFile}": cannot read it: ${describeError(err)}`);
  }
  try {
    fingerprint = new X509Certificate(pem).fingerprint256;
  } catch {
    fingerprint = undefined;
  }
  endpoint.tls = {
    ca: [...rootCertificates, pem],
    checkServerIdentity: (host, cert) => (fingerprint !== undefined && cert.fingerprint256 === fingerprint ? undefined : checkServerIdentity(host, cert)),
  };
  return endpoint;
}

export type Fetch = (url: string, init: RequestInit & { tls?: Endpoint['tls'] }) => Promise<Response>;

/** Requests of the snapshot API of one streamer. */
export class ApiClient {
  constructor(readonly endpoint: Endpoint, private readonly fetcher: Fetch = fetch as Fetch) {}

  /** `method path` with an optional JSON body; a refused connection says the streamer may not be running. */
  async request(method: string, path: string, body?: unknown): Promise<ApiResult> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.endpoint.token !== undefined) headers.Authorization = `Bearer ${this.endpoint.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetcher(`${this.endpoint.origin}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(this.endpoint.tls === undefined ? {} : { tls: this.endpoint.tls }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      return { ok: false, message: unreachable(this.endpoint.origin, err) };
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return { ok: true, status: response.status, body: parsed };
    return { ok: false, status: response.status, message: refusal(this.endpoint, response.status, parsed, text) };
  }
}

/** Why a request got no answer. */
function unreachable(origin: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ConnectionRefused' || code === 'FailedToOpenSocket') return `cannot reach the streamer at ${origin}: is it running?`;
  if ((err as { name?: string }).name === 'TimeoutError') return `the streamer at ${origin} did not answer within 30s`;
  return `cannot reach the streamer at ${origin}: ${describeError(err)}`;
}

/** What an error answer means for the operator. */
function refusal(endpoint: Endpoint, status: number, body: unknown, text: string): string {
  const error = body !== null && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : undefined;
  if (status === 401) {
    return endpoint.token === undefined
      ? `the streamer at ${endpoint.origin} asks for a token: set httpToken in the config to the one it runs with`
      : `the streamer at ${endpoint.origin} refused the token: httpToken in the config differs from the one it runs with`;
  }
  if (error !== undefined) return error;
  if (status === 404) return `the streamer at ${endpoint.origin} has no snapshot API (${text.trim() || '404'}): is it an older version?`;
  return `the streamer at ${endpoint.origin} answered ${status}: ${text.trim().slice(0, 200) || '(no body)'}`;
}
