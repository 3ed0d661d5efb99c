/**
 * What an HTTP sink makes of an answer, pure: which statuses mean delivered, retry, split or
 * refused for good; the wait a `Retry-After` header asks for; a short printable snippet of a
 * response body for messages (docs/http-sink.md, "Status codes").
 */

/**
 * - `delivered`: 2xx except 207 (the receiver has the whole request);
 * - `split`: 413, the body is too large: sent again in halves (one event alone: refused);
 * - `retry`: 408, 429, 5xx, 207 (a multi-status answer means some events were not taken, so the
 *   whole request is sent again under the same Idempotency-Key), and anything else that is not a
 *   final refusal (1xx, 3xx: redirects are not followed);
 * - `refused`: every other 4xx: sending the same request again cannot succeed.
 */
export type Verdict = 'delivered' | 'retry' | 'split' | 'refused';

export function classifyStatus(status: number): Verdict {
  if (status >= 200 && status < 300 && status !== 207) return 'delivered';
  if (status === 413) return 'split';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'refused';
  return 'retry';
}

/**
 * Milliseconds a `Retry-After` value asks to wait (RFC 9110 §10.2.3: delay-seconds, or an HTTP
 * date), at most `maxMs`; undefined when absent or unreadable. `nowMs` is the current time.
 */
export function retryAfterMs(value: string | null | undefined, nowMs: number, maxMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, maxMs);
  // An HTTP date names a day of the week and GMT; Date.parse also takes far looser text, so insist on both.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - nowMs, 0), maxMs);
}

/** Longest body snippet put in a message. */
export const SNIPPET_CHARS = 200;

/** A response body for a log line: whitespace runs collapsed, control characters out, cut at SNIPPET_CHARS. */
export function bodySnippet(body: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = body.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}
