/**
 * Logging: timestamped lines on stderr, `<Type> (<name>): ` prefix per component (as the original),
 * levels, per-component debug/verbose toggles, optional JSON lines.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where finished lines go; stderr by default. Tests replace it to capture lines. */
  write: (line: string) => void;
}

const settings: LogSettings = {
  level: 'info',
  format: 'text',
  write: (line) => process.stderr.write(line),
};

/** Changes the process-wide log settings (level, format, destination). */
export function configureLogging(update: Partial<LogSettings>): void {
  Object.assign(settings, update);
}

export function logSettings(): Readonly<LogSettings> {
  return settings;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026/11/26 00:15:54.123456`: the original's Go `log` layout (local time, microseconds). */
function textTime(now: Date, micros: number): string {
  return `${now.getFullYear()}/${pad(now.getMonth() + 1)}/${pad(now.getDate())} ` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(micros, 6)}`;
}

function emit(level: LogLevel, component: string | undefined, message: string, fields?: Record<string, unknown>): void {
  const nowMs = performance.timeOrigin + performance.now();
  const now = new Date(Math.floor(nowMs));
  if (settings.format === 'json') {
    const record: Record<string, unknown> = { time: now.toISOString(), level };
    if (component) record.component = component;
    record.msg = message;
    if (fields) Object.assign(record, fields);
    settings.write(JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    return;
  }
  const micros = Math.floor((nowMs * 1000) % 1_000_000);
  const prefix = component ? `${component}: ` : '';
  const extra = fields && Object.keys(fields).length > 0
    ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : String(v)}`).join(' ')
    : '';
  settings.write(`${textTime(now, micros)} ${level.toUpperCase().padEnd(5)} ${prefix}${message}${extra}\n`);
}

export class Logger {
  private debugOn: boolean;
  private verboseOn: boolean;

  /** @param component `<Type> (<name>)`, or undefined for process-level lines. */
  constructor(readonly component?: string, options: { debug?: boolean; verbose?: boolean } = {}) {
    this.debugOn = options.debug ?? false;
    this.verboseOn = options.verbose ?? false;
  }

  /** Logger for a component, prefixed `<Type> (<name>): `. */
  static for(type: string, name: string, options: { debug?: boolean; verbose?: boolean } = {}): Logger {
    return new Logger(`${type} (${name})`, options);
  }

  setDebug(on: boolean): void {
    this.debugOn = on;
  }

  setVerbose(on: boolean): void {
    this.verboseOn = on;
  }

  get debugEnabled(): boolean {
    return this.debugOn || settings.level === 'debug';
  }

  /** Verbose lines (one per event) print when verbose OR debug is on, as in the original. */
  get verboseEnabled(): boolean {
    return this.verboseOn || this.debugEnabled;
  }

  error(message: string, fields?: Record<string, unknown>): void {
    emit('error', this.component, message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    if (LEVEL_RANK[settings.level] >= LEVEL_RANK.warn) emit('warn', this.component, message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    if (LEVEL_RANK[settings.level] >= LEVEL_RANK.info) emit('info', this.component, message, fields);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.debugEnabled) emit('debug', this.component, message, fields);
  }

  /** One line per event; `[uuid]: ` prefix as the original's `LogVerboseEv`. */
  verboseEvent(uuid: string, message: string): void {
    if (this.verboseEnabled) emit('info', this.component, `[${uuid}]: ${message}`);
  }
}

/** Process-level logger (no component prefix). */
export const log = new Logger();
