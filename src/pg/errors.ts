/**
 * Errors of the PostgreSQL wire-protocol client: what the server said (PgError), why a connection
 * could not be made (PgConnectError), and bytes that break the protocol (ProtocolError).
 * Each carries `retryable`, which core/errors.ts `isRetryable()` reads.
 */

/** SQLSTATE codes the streamer reacts to (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SqlState = {
  undefinedObject: '42704',
  duplicateObject: '42710',
  objectInUse: '55006',
  objectNotInPrerequisiteState: '55000',
  insufficientPrivilege: '42501',
  invalidPassword: '28P01',
  invalidAuthorizationSpecification: '28000',
  invalidCatalogName: '3D000',
  adminShutdown: '57P01',
  cannotConnectNow: '57P03',
  queryCanceled: '57014',
  tooManyConnections: '53300',
} as const;

/** The fields of an ErrorResponse or NoticeResponse (protocol-error-fields.html). */
export interface PgErrorFields {
  /** Localized severity (S), e.g. `ERROR`, `FATAL`, `NOTICE`. */
  severity: string;
  /** Non-localized severity (V, PostgreSQL 9.6+), falls back to `severity`. */
  severityCode: string;
  /** SQLSTATE (C). */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** Cursor position in the query text, 1-based (P). */
  position?: number;
  internalPosition?: number;
  internalQuery?: string;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  file?: string;
  line?: number;
  routine?: string;
}

/** A notice from the server (NoticeResponse): same fields as an error, never fatal. */
export type PgNotice = PgErrorFields;

/**
 * SQLSTATE classes worth retrying without anyone changing anything: connection exceptions (08),
 * transaction rollbacks (40), insufficient resources (53), operator intervention (57: shutdown,
 * cannot connect now), system errors (58), internal errors (XX), and object_in_use (55006: the
 * slot is held by another walsender that may go away).
 */
const RETRYABLE_CLASSES = new Set(['08', '40', '53', '57', '58', 'XX']);

/** Whether an error with this SQLSTATE may go away on its own. */
export function isRetryableSqlState(code: string): boolean {
  return code === SqlState.objectInUse || RETRYABLE_CLASSES.has(code.slice(0, 2));
}

/** An ErrorResponse from the server, with every field it sent. */
export class PgError extends Error implements PgErrorFields {
  readonly severity: string;
  readonly severityCode: string;
  readonly code: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;
  readonly internalPosition?: number;
  readonly internalQuery?: string;
  readonly where?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly dataType?: string;
  readonly constraint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly routine?: string;
  readonly retryable: boolean;
  /** The server's message text (M), without the context prefix that `message` may carry. */
  readonly serverMessage: string;

  /**
   * @param context prefixed to the message, e.g. `connection to 127.0.0.1:5432 failed` for startup
   *   errors (as libpq does), so a log line says which server refused.
   */
  constructor(fields: PgErrorFields, context?: string) {
    super(context ? `${context}: ${fields.message}` : fields.message);
    this.name = 'PgError';
    for (const [key, value] of Object.entries(fields)) {
      if (key !== 'message' && value !== undefined) (this as unknown as Record<string, unknown>)[key] = value;
    }
    this.severity = fields.severity;
    this.severityCode = fields.severityCode;
    this.code = fields.code;
    this.serverMessage = fields.message;
    this.retryable = isRetryableSqlState(fields.code);
  }

  /** `ERROR 42P01: relation "x" does not exist (detail; hint)` for logs. */
  describe(): string {
    const extra = [this.detail, this.hint && `hint: ${this.hint}`].filter(Boolean).join('; ');
    return `${this.severityCode} ${this.code}: ${this.message}${extra ? ` (${extra})` : ''}`;
  }
}

/** Whether `err` is a PgError with one of the given SQLSTATEs. */
export function isSqlState(err: unknown, ...codes: string[]): err is PgError {
  return err instanceof PgError && codes.includes(err.code);
}

/** Why connecting failed before the server could say so itself. */
export type PgConnectErrorKind =
  | 'refused' // ECONNREFUSED
  | 'unreachable' // EHOSTUNREACH, ENETUNREACH, ENOENT (no unix socket), other socket errors
  | 'dns' // ENOTFOUND, EAI_AGAIN
  | 'timeout' // connectTimeoutMs elapsed (TCP + TLS + authentication)
  | 'closed' // the server closed the connection during startup
  | 'tls' // handshake or certificate verification failed, or the server refused TLS
  | 'auth' // the server asked for a method we cannot do, or a password we do not have
  | 'config'; // the options cannot work (e.g. verify-full without a root certificate)

const NOT_RETRYABLE: ReadonlySet<PgConnectErrorKind> = new Set(['tls', 'auth', 'config']);

/** A connection attempt that failed before or outside an ErrorResponse: `host:port` and the cause. */
export class PgConnectError extends Error {
  readonly kind: PgConnectErrorKind;
  readonly host: string;
  readonly port: number;
  readonly retryable: boolean;
  /** The message already says what the cause (a socket errno) means: describeError() stops here. */
  readonly explainsCause: boolean;

  constructor(kind: PgConnectErrorKind, message: string, target: { host: string; port: number }, cause?: unknown, options: { explainsCause?: boolean } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PgConnectError';
    this.kind = kind;
    this.host = target.host;
    this.port = target.port;
    this.retryable = !NOT_RETRYABLE.has(kind);
    this.explainsCause = options.explainsCause ?? false;
  }
}

/** Bytes that do not follow the protocol: a bad length, a truncated message, a missing terminator. */
export class ProtocolError extends Error {
  /** Offset in the message (or stream) where the problem was found. */
  readonly offset: number;
  /** A broken stream can be retried on a new connection. */
  readonly retryable = true;

  constructor(message: string, offset = 0) {
    super(`protocol error at offset ${offset}: ${message}`);
    this.name = 'ProtocolError';
    this.offset = offset;
  }
}
