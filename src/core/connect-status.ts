/**
 * What a component says in `/status` about its connection until it works (docs/operations.md,
 * "Status: connecting"). A source or sink that has not connected yet is not OK: from its start, with
 * "connecting: first attempt in progress" while the first attempt has neither worked nor failed, and
 * from the first failed attempt with that failure's reason, how many attempts failed in a row and
 * when the next one starts. After it worked once, a lost connection reads "reconnecting: ...".
 *
 * Pure: the caller reports what happened and passes the clock; the text is built on demand, so the
 * "retrying in" part counts down.
 */

/** How the last failure is shown. */
interface Failure {
  reason: string;
  /** When the next attempt starts (ms since epoch), if the caller knows. */
  retryAt: number | undefined;
}

export class ConnectStatus {
  private everConnected = false;
  private connected = false;
  private failures = 0;
  private failure: Failure | undefined;
  private startedAt: number | undefined;
  private inProgress = 'first attempt in progress';

  /** @param now the clock (ms since epoch); Date.now unless a test drives it. */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The component started trying (its first attempt is under way); `inProgress` says what it does
   * meanwhile, e.g. `joining consumer group "g1" via 127.0.0.1:9092`.
   */
  start(inProgress?: string): void {
    this.startedAt ??= this.now();
    if (inProgress !== undefined) this.inProgress = inProgress;
  }

  /** An attempt failed for `reason` (one line); the next starts in `retryInMs` when known. */
  failed(reason: string, retryInMs?: number): void {
    this.start();
    this.connected = false;
    this.failures++;
    this.failure = { reason, retryAt: retryInMs === undefined ? undefined : this.now() + retryInMs };
  }

  /** The connection works (the first answer came); status is OK again. */
  succeeded(): void {
    this.start();
    this.everConnected = true;
    this.connected = true;
    this.failures = 0;
    this.failure = undefined;
  }

  /** A working connection was lost for `reason`, before any new attempt failed. */
  lost(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.failure = { reason, retryAt: undefined };
  }

  /** True once an attempt worked since the component started. */
  get hasConnected(): boolean {
    return this.everConnected;
  }

  /** True while the connection works. */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Failed attempts in a row (0 once one works). */
  get failedAttempts(): number {
    return this.failures;
  }

  /**
   * Null while connected (or before start()); otherwise one line:
   * `connecting: first attempt in progress (2 s)` (or what start() was told),
   * `connecting: cannot reach broker 127.0.0.1:1: connection refused (attempt 3 failed, retrying in 4 s)`,
   * `reconnecting: ...` once it had worked before.
   */
  problem(): string | null {
    if (this.connected || this.startedAt === undefined) return null;
    const verb = this.everConnected ? 'reconnecting' : 'connecting';
    if (this.failure === undefined) {
      return `${verb}: ${this.inProgress} (${seconds(this.now() - this.startedAt)})`;
    }
    return `${verb}: ${this.failure.reason}${this.attemptNote()}`;
  }

  private attemptNote(): string {
    if (this.failures === 0) return '';
    const attempt = this.failures === 1 ? 'attempt 1 failed' : `${this.failures} attempts failed in a row`;
    const retryAt = this.failure?.retryAt;
    if (retryAt === undefined) return ` (${attempt})`;
    const left = retryAt - this.now();
    return ` (${attempt}, ${left > 0 ? `retrying in ${seconds(left)}` : 'retrying now'})`;
  }
}

/** 1234 → "1 s", 40 → "0 s"... rounded up to whole seconds above one, "0.4 s" below. */
function seconds(ms: number): string {
  if (ms < 1000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  return `${Math.ceil(ms / 1000)} s`;
}
