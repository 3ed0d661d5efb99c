/**
 * `[sink.NAME]` with `type = "http"`: its keys, defaults and cross-key rules (docs/http-sink.md).
 * The sink itself (sink.ts) is imported only when one is configured.
 */
import type { OptionProblem } from '../../component/type.ts';
import { defineComponentType } from '../../component/type.ts';
import { defineSection, positive, type Resolved } from '../../config/fields.ts';
import type { Sink } from '../sink.ts';
import { clientCertificateFields, clientCertificateProblems } from '../../config/client-certificate.ts';
import { debeziumKeyProblems, debeziumValueKeys, handlerCountProblems, SINK_HANDLERS } from '../handler-keys.ts';

/** Request body layouts: one event JSON per line, or one JSON array of them. */
export const HTTP_FORMATS = ['ndjson', 'json_array'] as const;
export type HttpFormat = (typeof HTTP_FORMATS)[number];

export const httpSinkOptions = defineSection({
  url: {
    kind: 'string', required: true,
    doc: 'http:// or https:// URL every batch is POSTed to; may use ${ENV} (e.g. "https://hooks.example.com/cdc?token=${HOOK_TOKEN}")',
  },
  format: {
    kind: 'string', default: 'ndjson', choices: HTTP_FORMATS,
    doc: 'Request body: "ndjson" one event JSON per line (Content-Type application/x-ndjson), "json_array" one JSON array of events (application/json)',
  },
  handlers: {
    kind: 'stringList', default: ['passthrough'], unique: true, choices: SINK_HANDLERS,
    doc: 'What the body items are: "passthrough" the event JSON in the original\'s format, "debezium" the value of each of Debezium\'s change records (no tombstones: docs/debezium.md); one of them',
  },
  ...debeziumValueKeys,
  headers: {
    kind: 'stringMap', default: {}, secret: true,
    doc: 'Extra request headers, e.g. { Authorization = "Bearer ${HOOK_TOKEN}" }; values may use ${ENV}; Idempotency-Key and X-Psql-Streamer-* are set by the sink',
  },
  timeout: { kind: 'duration', default: 10_000, check: positive, doc: 'Time one request may take, connect to end of response; a timed-out request is retried' },
  maxRequestEvents: { kind: 'int', default: 5000, check: positive, doc: 'Most events in one request; a larger batch is sent as several requests, in order' },
  maxRequestBytes: {
    kind: 'size', default: 4 * 1024 * 1024, check: positive,
    doc: 'Largest request body (an event larger than this still goes alone in one request); a receiver answering 413 gets the request split in halves',
  },
  maxRetryAfter: {
    kind: 'duration', default: 60_000, check: positive,
    doc: 'Longest wait a Retry-After header (seconds or HTTP date) of a 408/429/503 answer can impose before the next attempt',
  },
  tlsCaFile: { kind: 'path', doc: 'PEM file of the CA that signed the server\'s certificate (default: the system CAs)' },
  ...clientCertificateFields,
  tlsInsecureSkipVerify: {
    kind: 'bool', default: false,
    doc: 'Accept any server certificate (no chain or host name check): for tests only, it allows a man in the middle',
  },
  deadLetterFile: {
    kind: 'path',
    doc: 'File the events of a request refused for good (a 4xx other than 408/429) are appended to as JSON lines with the status and answer, after which the batch counts as delivered; unset means such a refusal stops the pipeline',
  },
});

/** Resolved keys of an HTTP sink. */
export type HttpSinkOptions = Resolved<typeof httpSinkOptions>;

/** RFC 9110 token characters: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the sink sets itself (compared in lower case). */
const OWN_HEADERS = new Set(['content-length', 'host', 'transfer-encoding', 'connection']);

/** Cross-key rules: a usable URL, TLS keys that fit it, well-formed headers. */
export function validateHttpSink(o: HttpSinkOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  let url: URL | undefined;
  try {
    url = new URL(o.url);
  } catch {
    problems.push({ key: 'url', message: `expected an http:// or https:// URL, found ${JSON.stringify(o.url)}` });
  }
  if (url !== undefined) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push({ key: 'url', message: `expected an http:// or https:// URL, found the scheme ${JSON.stringify(url.protocol.slice(0, -1))}` });
    } else if (url.protocol === 'http:') {
      for (const key of ['tlsCaFile', 'tlsCertFile', 'tlsKeyFile'] as const) {
        if (o[key] !== undefined) problems.push({ key, message: 'needs an https:// url' });
      }
      if (o.tlsInsecureSkipVerify) problems.push({ key: 'tlsInsecureSkipVerify', message: 'needs an https:// url' });
    }
  }
  problems.push(...clientCertificateProblems(o));
  problems.push(...handlerCountProblems(o.handlers), ...debeziumKeyProblems(o));
  for (const [name, value] of Object.entries(o.headers)) {
    if (!HEADER_NAME.test(name)) problems.push({ key: 'headers', message: `${JSON.stringify(name)} is not a valid header name` });
    else if (OWN_HEADERS.has(name.toLowerCase())) problems.push({ key: 'headers', message: `${name} is set by the HTTP client: remove it` });
    if (/[\r\n\0]/.test(value)) problems.push({ key: 'headers', message: `the value of ${JSON.stringify(name)} contains a line break or NUL` });
  }
  return problems;
}

/** `type = "http"`: batches POSTed to a webhook. */
export const httpSinkType = defineComponentType<typeof httpSinkOptions, Sink>({
  type: 'http',
  componentType: 'Sink-HTTP',
  options: httpSinkOptions,
  validate: validateHttpSink,
  async create(name, options, deps) {
    const { createHttpSink } = await import('./sink.ts');
    return createHttpSink(name, options, deps);
  },
});
