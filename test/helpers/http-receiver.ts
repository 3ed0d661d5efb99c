/**
 * A real HTTP(S) webhook receiver for the HTTP sink's tests (Bun.serve in the test process): it
 * records every request (headers, events, idempotency key) in arrival order, answers as the test
 * says (a status, a delay, a Retry-After), can be stopped and started again on the same port (an
 * outage), and can append every accepted body to a file (the crash harness reads it like the file
 * sink's output).
 */
import { appendFileSync } from 'node:fs';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  /** 0-based arrival number. */
  n: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The events of the body (NDJSON lines or the JSON array's items). */
  events: Array<Record<string, unknown>>;
  /** What the receiver answered (after any delay). */
  status: number;
}

/** The test's answer to a request: a status (default 200), an optional delay and extra headers. */
export interface Answer {
  status?: number;
  delayMs?: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Responder = (request: Omit<ReceivedRequest, 'status'>) => Answer | undefined;

export interface ReceiverOptions {
  /** Answers each request; default 200. */
  respond?: Responder;
  /** Serve HTTPS with this certificate (PEM texts); `ca` asks for and checks client certificates. */
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean; rejectUnauthorized?: boolean };
  /** Append the body of every 2xx-answered POST to this file, before answering. */
  appendTo?: string;
  /** A fixed port (default: a free one, kept across stop/start). */
  port?: number;
}

export interface Receiver {
  /** The base URL (`http://127.0.0.1:PORT`). */
  readonly url: string;
  readonly port: number;
  /** Every request answered so far, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** The events of the 2xx-answered POSTs, in arrival order (duplicates included). */
  accepted(): Array<Record<string, unknown>>;
  /** Replaces the responder. */
  respond(responder: Responder | undefined): void;
  /** Stops listening, closing open connections (an outage). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): void;
}

function parseEvents(body: string, contentType: string): Array<Record<string, unknown>> {
  if (body === '') return [];
  if (contentType.includes('ndjson')) return body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const parsed = JSON.parse(body) as unknown;
  return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [parsed as Record<string, unknown>];
}

/** Starts a receiver; stop it in the test's cleanup. */
export function startReceiver(options: ReceiverOptions = {}): Receiver {
  let responder = options.respond;
  const requests: ReceivedRequest[] = [];
  let server: ReturnType<typeof Bun.serve> | undefined;
  let port = options.port ?? 0;
  const scheme = options.tls ? 'https' : 'http';

  const listen = () => {
    server = Bun.serve({
      hostname: '127.0.0.1',
      port,
      idleTimeout: 30,
      ...(options.tls ? { tls: options.tls } : {}),
      async fetch(req) {
        const url = new URL(req.url);
        const body = await req.text();
        const headers = Object.fromEntries(req.headers.entries());
        let events: Array<Record<string, unknown>> = [];
        try {
          events = parseEvents(body, headers['content-type'] ?? '');
        } catch {
          return new Response('unparseable body', { status: 400 });
        }
        const seen = { n: requests.length, method: req.method, path: url.pathname, headers, body, events };
        const answer = responder?.(seen) ?? {};
        const status = answer.status ?? 200;
        requests.push({ ...seen, status });
        if (answer.delayMs) await Bun.sleep(answer.delayMs);
        if (status >= 200 && status < 300 && status !== 207 && options.appendTo !== undefined && req.method === 'POST' && body !== '') {
          appendFileSync(options.appendTo, body.endsWith('\n') ? body : `${body}\n`);
        }
        return new Response(answer.body ?? (status < 300 ? '' : `refused with ${status}`), { status, headers: answer.headers });
      },
    });
    port = server.port!;
  };
  listen();

  return {
    get url() {
      return `${scheme}://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    accepted: () => requests.filter((r) => r.method === 'POST' && r.status >= 200 && r.status < 300 && r.status !== 207).flatMap((r) => r.events),
    respond: (next) => {
      responder = next;
    },
    async stop() {
      const s = server;
      server = undefined;
      await s?.stop(true);
    },
    start() {
      if (server === undefined) listen();
    },
  };
}
