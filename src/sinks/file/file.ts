/**
 * `type = "file"`: appends each event as one line of passthrough JSON to a file, or to standard
 * output with `path = "-"` (with `format = "debezium"`, a line per Debezium record: docs/debezium.md). A batch is one `write` (looped on partial writes); `write()` resolves
 * only after the kernel accepted every byte (and, with `fsync = true`, after fsync), so an
 * acknowledged position never runs ahead of what is in the file.
 *
 * To a regular file or a character device (/dev/null, a terminal) that write is a synchronous
 * write(2) on the event loop: it only copies into the page cache, and Bun's asynchronous
 * `fs.write` costs 30–60 µs of CPU per call (measured), more than the copy itself. The slower sink
 * also let the pipeline fill with events while the source started, which raised the peak memory by
 * ≈ 40 MB (docs/benchmarks.md). Pipes and sockets (standard output under a supervisor) keep the
 * asynchronous write, so a slow reader never blocks the event loop.
 *
 * A file it creates gets mode 0640; SIGHUP reopens the path (logrotate's rename-then-HUP), see
 * docs/operations.md, "Signals".
 */
import { close, fstat, fstatSync, fsync, ftruncate, open, read, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { defineSection, type Resolved } from '../../config/fields.ts';
import { defineComponentType } from '../../component/type.ts';
import { StreamerError, describeError, permanentError } from '../../core/errors.ts';
import type { ChangeEvent } from '../../event/event.ts';
import type { Logger } from '../../core/logger.ts';
import { copyBytes } from '../../core/bytes.ts';
import { passthroughBytes } from '../../event/passthrough.ts';
import { debeziumFormatKeys, debeziumLines, debeziumOptions } from '../../event/debezium/format.ts';
import type { DebeziumOptions } from '../../event/debezium/envelope.ts';
import type { Metrics } from '../../metrics/catalogue.ts';
import { SinkEventCounter } from '../count-events.ts';
import type { Sink } from '../sink.ts';

const FILE_TYPE = 'Sink-File';
const STDOUT_FD = 1;
const utf8Encoder = new TextEncoder();

const openFile = promisify(open);
const closeFd = promisify(close);
const fsyncFd = promisify(fsync);
const fstatFd = promisify(fstat);
const truncateFd = promisify(ftruncate);
const writeFd = (fd: number, data: Uint8Array, offset: number, length: number) =>
  new Promise<number>((resolve, reject) => {
    write(fd, data, offset, length, null, (err, written) => (err ? reject(err) : resolve(written)));
  });

/**
 * Errors no retry can fix: the descriptor is gone or unusable, or nobody reads standard output any
 * more. Everything else (ENOSPC, EIO, EDQUOT, ...) is retried: the disk may come back.
 */
const PERMANENT_CODES = new Set(['EBADF', 'EPIPE', 'EINVAL', 'EISDIR']);
/** The write would block (non-blocking stdout pipe) or was interrupted: try again shortly. */
const AGAIN_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

const errorCode = (err: unknown): string | undefined => (err as { code?: string } | null)?.code;

const fileOptions = defineSection({
  path: { kind: 'path', required: true, doc: 'File to append JSON lines to; "-" writes to standard output' },
  fsync: { kind: 'bool', default: false, doc: 'fsync after every batch, so acknowledged events survive power loss (slower)' },
  format: {
    kind: 'string', defaultText: '"passthrough"', choices: ['passthrough', 'debezium'],
    doc: 'Line format: "passthrough" the event JSON in the original\'s format; "debezium" one {"topic", "key", "value"} line per Debezium record (docs/debezium.md)',
  },
  ...debeziumFormatKeys,
});

/** The format keys left at their defaults (passthrough), for code that opens a file sink without a config. */
export const FILE_FORMAT_DEFAULTS = { format: undefined, debeziumTopicPrefix: undefined, debeziumDecimalHandlingMode: undefined, debeziumTombstones: undefined };

/**
 * Mode of an output file this sink creates: owner read-write, group read (a log shipper's group),
 * nobody else; the umask may only take more away. An existing file keeps its mode.
 */
export const FILE_MODE = 0o640;

/** Largest write buffer kept from one batch to the next. */
const MAX_KEPT_BUFFER = 8 * 1024 * 1024;

class FileSink implements Sink {
  readonly type = FILE_TYPE;
  private events = 0;
  private bytes = 0;
  /** Writes run one after another; this is the last one queued (never rejects). */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  /** The batch being written, encoded (batches are written one at a time). */
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private lastError: string | null = null;
  private readonly component: string;
  /** Writes go straight to write(2) (a regular file or character device; see the header). */
  private direct: boolean;
  private readonly delivered: SinkEventCounter;

  constructor(
    readonly name: string,
    private fd: number,
    private readonly path: string,
    private readonly fsync: boolean,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Set: lines in the Debezium format (docs/debezium.md) instead of passthrough JSON. */
    private readonly debezium?: DebeziumOptions,
  ) {
    this.component = `${FILE_TYPE} (${name})`;
    this.direct = writesDirectly(fd);
    this.delivered = new SinkEventCounter(metrics, name, FILE_TYPE);
  }

  private get isStdout(): boolean {
    return this.fd === STDOUT_FD;
  }

  write(batch: readonly ChangeEvent[]): Promise<void> {
    if (this.closed) return Promise.reject(permanentError(`file sink '${this.name}' is closed`, { component: this.component }));
    if (batch.length === 0) return Promise.resolve();
    // Several pipelines may write at once: queue behind the previous batch so lines never interleave.
    // Encoded when its turn comes, so one buffer serves every batch.
    const job = this.tail.then(() => this.writeBatch(batch, this.encode(batch)));
    this.tail = job.catch(() => {});
    return job;
  }

  stats(): string {
    return `events: ${this.events}, bytes: ${this.bytes}`;
  }

  status(): string | null {
    return this.lastError;
  }

  details(): { endpoint: string } {
    return { endpoint: this.isStdout ? 'standard output' : this.path };
  }

  setDebug(on: boolean): void {
    this.log.setDebug(on);
  }

  /**
   * Opens `path` again (creating it, mode 0640) and closes the old descriptor, between two batches:
   * what was written before is in the old (renamed) file, what follows in the new one. On failure
   * the old descriptor stays in use and the error is thrown (the caller logs it).
   */
  reopen(): Promise<void> {
    if (this.closed || this.isStdout) return Promise.resolve();
    const job = this.tail.then(async () => {
      const fd = await openFile(this.path, 'a', FILE_MODE);
      const old = this.fd;
      this.fd = fd;
      this.direct = writesDirectly(fd);
      await closeFd(old);
      this.log.info(`Reopened '${this.path}'`);
    });
    this.tail = job.catch(() => {});
    return job.catch((err: unknown) => {
      throw new StreamerError('SINK_WRITE', `cannot reopen '${this.path}' (still writing to the file open before): ${describeError(err)}`, { component: this.component, cause: err });
    });
  }

  /** Waits for queued writes, then closes the file (standard output stays open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    if (!this.isStdout) await closeFd(this.fd);
  }

  private encode(batch: readonly ChangeEvent[]): Uint8Array {
    const lines: Uint8Array[] = new Array(batch.length);
    let size = 0;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      try {
        lines[i] = this.debezium === undefined ? passthroughBytes(event) : utf8Encoder.encode(debeziumLines(event, this.debezium));
      } catch (err) {
        this.metrics.sinkErrors.inc({ sinkName: this.name, sinkType: this.type, table: event.table });
        throw permanentError(
          `cannot encode event ${event.uuid} (${event.schema}.${event.table}, LSN ${event.lsn}): ${describeError(err)}`,
          { component: this.component, cause: err },
        );
      }
      // An event without Debezium records (a logical decoding message) writes no line.
      if (lines[i]!.length > 0) size += lines[i]!.length + 1;
    }
    // A batch of unusual size gets a buffer of its own, so the kept one stays small.
    if (this.buffer.length < size && size <= MAX_KEPT_BUFFER) this.buffer = Buffer.allocUnsafe(Math.min(MAX_KEPT_BUFFER, Math.max(size, 2 * this.buffer.length)));
    const data = size <= this.buffer.length ? this.buffer : Buffer.allocUnsafe(size);
    let at = 0;
    for (const line of lines) {
      if (line.length === 0) continue;
      copyBytes(data, at, line, 0, line.length);
      at += line.length;
      data[at++] = 0x0a;
    }
    return data.subarray(0, size);
  }

  private async writeBatch(batch: readonly ChangeEvent[], data: Uint8Array): Promise<void> {
    let written = 0;
    try {
      while (written < data.length) {
        try {
          const length = data.length - written;
          written += this.direct ? writeSync(this.fd, data, written, length) : await writeFd(this.fd, data, written, length);
        } catch (err) {
          if (!AGAIN_CODES.has(errorCode(err) ?? '')) throw err;
          await Bun.sleep(1);
        }
      }
      if (this.fsync) await this.sync();
    } catch (err) {
      if (written > 0) await this.rollback(written);
      const message = `cannot write to '${this.path}': ${describeError(err)}`;
      this.lastError = message;
      throw new StreamerError(PERMANENT_CODES.has(errorCode(err) ?? '') ? 'SINK_PERMANENT' : 'SINK_WRITE', message, {
        component: this.component,
        retryable: !PERMANENT_CODES.has(errorCode(err) ?? ''),
        cause: err,
      });
    }
    this.lastError = null;
    this.events += batch.length;
    this.bytes += data.length;
    this.delivered.count(batch);
    if (this.log.debugEnabled) this.log.debug(`Wrote ${batch.length} events (${data.length} bytes)`);
    if (this.log.verboseEnabled) {
      for (const event of batch) this.log.verboseEvent(event.uuid, `${event.action} ${event.schema}.${event.table} written`);
    }
  }

  private async sync(): Promise<void> {
    try {
      await fsyncFd(this.fd);
    } catch (err) {
      // Standard output may be a pipe or terminal, which cannot be synced: nothing more to do.
      if (this.isStdout && (errorCode(err) === 'EINVAL' || errorCode(err) === 'ENOTSUP')) return;
      throw err;
    }
  }

  /**
   * Removes the part of a failed batch that did reach the file, so the retry does not leave a torn
   * line before the batch's full copy. Writes are serialised, so those bytes are the file's tail.
   */
  private async rollback(written: number): Promise<void> {
    if (this.isStdout) return;
    try {
      const { size } = await fstatFd(this.fd);
      await truncateFd(this.fd, Math.max(0, size - written));
    } catch (err) {
      this.log.warn(`Cannot remove a partly written batch from '${this.path}' (its retry appends it whole): ${describeError(err)}`);
    }
  }
}

/**
 * A process killed in the middle of a batch's write can leave a line without its newline; end it
 * before appending, so that one torn line never swallows the next good one.
 */
async function endWithNewline(fd: number, path: string, log: Logger): Promise<void> {
  const { size } = await fstatFd(fd);
  if (size === 0) return;
  const last = Buffer.alloc(1);
  // The descriptor is append-only for writes; reading by position needs a separate read-only one.
  const reader = await openFile(path, 'r');
  try {
    await new Promise<void>((resolve, reject) => read(reader, last, 0, 1, size - 1, (err) => (err ? reject(err) : resolve())));
  } finally {
    await closeFd(reader);
  }
  if (last[0] === 0x0a) return;
  log.warn(`'${path}' ends with an incomplete line (an earlier run was killed while writing); it is ended with a newline and the batch will be written again after it`);
  await writeFd(fd, NEWLINE, 0, 1);
}

const NEWLINE = Uint8Array.of(0x0a);

/** Whether fd is a regular file or a character device, which a synchronous write(2) serves best. */
export function writesDirectly(fd: number): boolean {
  try {
    const stats = fstatSync(fd);
    return stats.isFile() || stats.isCharacterDevice();
  } catch {
    return false;
  }
}

async function openFileSink(name: string, options: Resolved<typeof fileOptions>, log: Logger, metrics: Metrics): Promise<Sink> {
  const debezium = options.format === 'debezium' ? debeziumOptions(options) : undefined;
  if (options.path === '-') return new FileSink(name, STDOUT_FD, 'standard output', options.fsync, log, metrics, debezium);
  try {
    const fd = await openFile(options.path, 'a', FILE_MODE);
    await endWithNewline(fd, options.path, log);
    return new FileSink(name, fd, options.path, options.fsync, log, metrics, debezium);
  } catch (err) {
    const reasons: Record<string, string> = {
      ENOENT: 'the directory does not exist',
      EACCES: 'permission denied',
      EISDIR: 'it is a directory',
      ENOTDIR: 'a part of the path is not a directory',
      EROFS: 'the file system is read-only',
    };
    const reason = reasons[errorCode(err) ?? ''] ?? describeError(err);
    throw new StreamerError('SINK_WRITE', `Cannot open '${options.path}' for appending: ${reason}`, {
      component: `${FILE_TYPE} (${name})`,
      retryable: false,
      cause: err,
    });
  }
}

/** `type = "file"`: JSON lines appended to a file or written to standard output. */
export const fileSinkType = defineComponentType({
  type: 'file',
  componentType: FILE_TYPE,
  options: fileOptions,
  validate: (options) => (options.path.trim() === '' ? [{ key: 'path', message: 'must name a file, or "-" for standard output' }] : []),
  create: (name, options, deps) => openFileSink(name, options, deps.log, deps.metrics),
});
