/**
 * JetStream publish acknowledgements, as the NATS sink collects them (docs/nats.md, "Delivery"):
 * every message is published with the reply subject `<inbox>.<n>` of one subscription the sink holds,
 * and the server's answer there is one of
 *
 * - `{"stream":"S","seq":N}` (stored), `{"stream":"S","seq":N,"duplicate":true}` (dropped by the
 *   duplicate window: stored before),
 * - `{"error":{"code":400,"err_code":10060,"description":"..."}}` (refused),
 * - an empty message with status 503 (no responders: no stream captures the subject).
 *
 * parseAck() reads one, pure; BatchAcks tracks the acknowledgements of the batch being written.
 * Errors are shaped as the client's (name, code), so failure.ts sorts them the same way.
 */

export type AckOutcome = { ok: true; duplicate: boolean } | { ok: false; error: Error };

const decoder = new TextDecoder();
/** nats-server writes `"duplicate": true` (with a space); either form. */
const DUPLICATE = /"duplicate":\s*true/;

/** An error named as the NATS client names its own. */
function namedError(name: string, message: string, code?: number): Error {
  const err = new Error(message);
  err.name = name;
  if (code !== undefined) Object.assign(err, { code });
  return err;
}

const STREAM_PREFIX = new TextEncoder().encode('{"stream"');
const STORED: AckOutcome = { ok: true, duplicate: false };
const DUPLICATE_ACK: AckOutcome = { ok: true, duplicate: true };

/** Whether `data[start..end)` starts with `prefix`. */
function startsWith(data: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[start + i] !== prefix[i]) return false;
  return true;
}

/** Whether `data[start..end)` contains `"duplicate"` (only a duplicate's acknowledgement has that key). */
function mentionsDuplicate(data: Uint8Array, start: number, end: number): boolean {
  // `"duplicate"`: look for the 'd' after a quote, then compare the rest.
  const word = 'duplicate"';
  for (let i = start + 1; i + word.length <= end; i++) {
    if (data[i] !== 0x64 || data[i - 1] !== 0x22) continue;
    let k = 1;
    while (k < word.length && data[i + k] === word.charCodeAt(k)) k++;
    if (k === word.length) return true;
  }
  return false;
}

/**
 * What one answer on a reply subject says: its payload `data[start..end)` (the whole of `data` by
 * default) and the message's header status, if any.
 */
export function parseAck(data: Uint8Array, status: number | undefined, start = 0, end = data.length): AckOutcome {
  if (status === 503) return { ok: false, error: namedError('NoResponders', 'no responders') };
  // The common answer, read without decoding: `{"stream":"S","seq":N}`, perhaps `"duplicate": true`.
  if (startsWith(data, start, end, STREAM_PREFIX) && !mentionsDuplicate(data, start, end)) return STORED;
  const text = decoder.decode(data.subarray(start, end));
  if (text.startsWith('{"stream"')) return DUPLICATE.test(text) ? DUPLICATE_ACK : STORED;
  try {
    const parsed = JSON.parse(text) as { stream?: unknown; duplicate?: unknown; error?: { code?: number; err_code?: number; description?: string } };
    if (parsed.error !== undefined) {
      return { ok: false, error: namedError('JetStreamApiError', parsed.error.description ?? `error ${parsed.error.code ?? '?'}`, parsed.error.err_code) };
    }
    if (typeof parsed.stream === 'string') return { ok: true, duplicate: parsed.duplicate === true };
  } catch {
    // below
  }
  if (status !== undefined && status >= 400) return { ok: false, error: namedError('JetStreamStatusError', `status ${status}`) };
  return { ok: false, error: namedError('JetStreamError', `unexpected acknowledgement: ${JSON.stringify(text.slice(0, 200))}`) };
}

/**
 * The acknowledgements of one batch's publishes, numbered from `base` (the sink's publish counter
 * when the batch started): which came, which failed, how many are still awaited.
 */
export class BatchAcks {
  /** Per publish: its event's index in the batch and its subject. */
  readonly indices: number[] = [];
  readonly subjects: string[] = [];
  private readonly outcomes: Array<AckOutcome | undefined> = [];
  private settledCount = 0;
  private failed = false;
  private waiter: (() => void) | undefined;
  private waitBelow = 0;

  constructor(readonly base: number) {}

  get published(): number {
    return this.indices.length;
  }

  get outstanding(): number {
    return this.indices.length - this.settledCount;
  }

  /** True once any answer was a failure (the sink stops publishing more of the batch). */
  get hasFailure(): boolean {
    return this.failed;
  }

  /** Position of the first publish not answered yet (published when all are). */
  settledUpTo(): number {
    let k = 0;
    while (k < this.outcomes.length && this.outcomes[k] !== undefined) k++;
    return k;
  }

  /** Forgets the publishes from position `count` on (never sent: no answer will come). */
  truncate(count: number): void {
    for (let k = count; k < this.outcomes.length; k++) if (this.outcomes[k] !== undefined) this.settledCount--;
    this.indices.length = Math.min(count, this.indices.length);
    this.subjects.length = this.indices.length;
    this.outcomes.length = this.indices.length;
  }

  /** Records a publish of event `index` to `subject`; returns its number (base + position). */
  add(index: number, subject: string): number {
    this.indices.push(index);
    this.subjects.push(subject);
    this.outcomes.push(undefined);
    return this.base + this.indices.length - 1;
  }

  /** An answer for publish number `n`; ignored when not of this batch or already answered. */
  settle(n: number, outcome: AckOutcome): void {
    const k = n - this.base;
    if (k < 0 || k >= this.outcomes.length || this.outcomes[k] !== undefined) return;
    this.outcomes[k] = outcome;
    this.settledCount++;
    if (!outcome.ok) this.failed = true;
    if (this.waiter !== undefined && (this.outstanding <= this.waitBelow || this.failed)) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake();
    }
  }

  /**
   * Resolves when at most `below` publishes are unanswered, or one failed, or `timeoutMs` passed
   * without that (then the unanswered ones count as timed out).
   */
  wait(below: number, timeoutMs: number): Promise<void> {
    if (this.outstanding <= below || this.failed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waitBelow = below;
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * The first publish (in batch order) that was not acknowledged: its position and why (a failure,
   * or no answer yet), or undefined when all were; and how many were duplicates.
   */
  result(): { duplicates: number; firstFailure?: { position: number; error: Error | undefined } } {
    let duplicates = 0;
    for (let k = 0; k < this.outcomes.length; k++) {
      const o = this.outcomes[k];
      if (o === undefined) return { duplicates, firstFailure: { position: k, error: undefined } };
      if (!o.ok) return { duplicates, firstFailure: { position: k, error: o.error } };
      if (o.duplicate) duplicates++;
    }
    return { duplicates };
  }
}
