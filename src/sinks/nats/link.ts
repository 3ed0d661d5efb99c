/**
 * The NATS sink's connection (docs/nats.md, "Connecting"): the first connection in the background
 * (retried every 5 s, `/status` saying "connecting: ..." meanwhile), the stream check, the one
 * subscription that receives every publish's acknowledgement, the client's reconnects followed for
 * status, and a connection the client gave up on replaced as at startup.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { ConnectStatus } from '../../core/connect-status.ts';
import { StreamerError, describeError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { readAcksFirst } from './ack-reader.ts';
import { connectNats, describeNatsConnectError } from './connection.ts';
import { FrameWriter } from './frames.ts';
import type { NatsSinkOptions } from './spec.ts';
import { ensureStream } from './stream.ts';

/** While the servers cannot be reached, how often to try again. */
const CONNECT_INTERVAL_MS = 5_000;

export class NatsLink {
  /** The working connection, once there is one. */
  nc: NatsConnection | undefined;
  /** `<inbox>.`: the reply subjects of the publishes, `<inbox>.<n>` for publish number n. */
  replyPrefix = '';
  /** Encodes the publishes of a chunk of events into one buffer (frames.ts), for this connection's inbox. */
  frames: FrameWriter | undefined;
  /** Why the sink can never connect (an unreadable credentials file). */
  fatal: string | null = null;
  readonly connect = new ConnectStatus();
  private readonly servers: string;
  /** Settles when the first connection attempt has worked or failed (a write waits for it). */
  private firstAttempt: Promise<void>;
  private firstAttemptDone: () => void = () => {};
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The connection attempt under way (stop() waits for it). */
  private attempt: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * @param onAck receives every answer on the acknowledgement subscription: the publish number `n`
   * of its subject `<inbox>.<n>`, the header status (503: no responders) if any, and the payload
   * `data[start..end)`.
   */
  constructor(
    private readonly options: NatsSinkOptions,
    private readonly log: Logger,
    private readonly component: string,
    private readonly onAck: (n: number, status: number | undefined, data: Uint8Array, start: number, end: number) => void,
  ) {
    this.servers = options.servers.join(', ');
    this.firstAttempt = new Promise((resolve) => (this.firstAttemptDone = resolve));
  }

  start(): void {
    this.connect.start(`connecting to NATS ${this.servers}`);
    this.attempt = this.connectOnce();
  }

  /** The connection, after waiting for the first attempt if it is still under way; undefined when there is none. */
  async connection(): Promise<NatsConnection | undefined> {
    if (this.nc === undefined) await this.firstAttempt;
    return this.nc;
  }

  /** No more attempts; waits for the one under way (bounded by the connect timeout), so writes queued meanwhile still get it. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.connectTimer);
    await this.attempt;
    this.firstAttemptDone();
  }

  /** Closes the connection (after stop() and the last write). */
  async closeConnection(): Promise<void> {
    await this.nc?.close().catch((err: unknown) => this.log.warn(`Closing the NATS connection: ${describeError(err)}`));
  }

  /** One connection attempt (and the stream check); on failure the next one in CONNECT_INTERVAL_MS. */
  private async connectOnce(): Promise<void> {
    if (this.closed) return;
    let nc: NatsConnection | undefined;
    try {
      nc = await connectNats(this.options, this.component);
      if (this.options.stream !== undefined) {
        const created = await ensureStream(await jetstreamManager(nc, { timeout: this.options.timeout }), this.options);
        if (created) this.log.info(`Created JetStream stream "${this.options.stream}" capturing ${created.map((s) => JSON.stringify(s)).join(', ')}`);
      }
      const replyPrefix = `${createInbox()}.`;
      this.replyPrefix = replyPrefix;
      nc.subscribe(`${replyPrefix}*`, {
        callback: (err, m) => (err === null ? this.onAck(Number(m.subject.slice(replyPrefix.length)), m.headers?.code, m.data, 0, m.data.length) : undefined),
      });
      // The plain acknowledgements skip the client's parsing (ack-reader.ts); the rest come above.
      if (!readAcksFirst(nc, replyPrefix, (n, buf, start, end) => this.onAck(n, undefined, buf, start, end))) {
        this.log.debug('This NATS client version has no parser to read acknowledgements from; using its subscription');
      }
      this.frames = new FrameWriter(this.replyPrefix, this.options.stream);
      this.nc = nc;
      if (this.connect.failedAttempts > 0) this.log.info(`NATS ${this.servers} reachable again`);
      this.log.debug(`Connected to NATS ${nc.getServer()}`);
      this.connect.succeeded();
      const connected = nc;
      void this.watch(connected);
      void connected.closed().then((err) => this.onClosed(connected, err));
    } catch (err) {
      await nc?.close().catch(() => {});
      if (this.closed) return;
      if (err instanceof StreamerError && !err.retryable) {
        this.fatal = err.message;
        this.log.error(err.message);
        return;
      }
      const reason = err instanceof StreamerError ? err.message : describeNatsConnectError(err, this.options.servers);
      if (this.connect.failedAttempts === 0) this.log.error(`${reason}; retrying every ${CONNECT_INTERVAL_MS / 1000}s`);
      this.connect.failed(reason, CONNECT_INTERVAL_MS);
      this.retryLater();
    } finally {
      this.firstAttemptDone();
    }
  }

  /** Follows the client's reconnects, for status (publishes meanwhile fail and are retried). */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.connect.lost(`disconnected from NATS ${s.server}; the client reconnects`);
        if (!this.closed) this.log.warn(`Disconnected from NATS ${s.server}; reconnecting`);
      } else if (s.type === 'reconnect') {
        this.connect.succeeded();
        this.log.info(`Reconnected to NATS ${s.server}`);
      }
    }
  }

  /**
   * The client gave up on a connection (it reconnects for ever, so only a server refusing us for
   * good, e.g. revoked credentials, gets here): connect again from scratch, as at startup.
   */
  private onClosed(nc: NatsConnection, err: void | Error): void {
    if (this.closed || this.nc !== nc) return;
    this.nc = undefined;
    const reason = `the NATS connection closed${err ? `: ${describeError(err)}` : ''}`;
    this.log.error(`${reason}; connecting again every ${CONNECT_INTERVAL_MS / 1000}s`);
    this.connect.failed(reason, CONNECT_INTERVAL_MS);
    this.retryLater();
  }

  private retryLater(): void {
    this.connectTimer = setTimeout(() => void (this.attempt = this.connectOnce()), CONNECT_INTERVAL_MS);
  }
}
