/**
 * `psql-streamer snapshot -config FILE --source NAME ...` (docs/snapshots.md, "Operating
 * snapshots"): starts a backfill, lists or cancels snapshots on the RUNNING streamer through its HTTP
 * API (snapshot-client.ts), and follows a backfill to its end: in a terminal, progress bars redrawn
 * in place; otherwise a plain progress line every few seconds. Exit codes: 0 done, 1 failed,
 * cancelled or no streamer to talk to, 2 usage or configuration errors (a wrong source, table or
 * id, a refused token). Time, output and the HTTP client come in, so the tests drive it.
 */
import type { Config } from '../config/schema.ts';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE } from '../core/exit-codes.ts';
import { progressBar, progressLine, summaryLine } from '../sources/postgres/snapshot/progress-text.ts';
import type { SnapshotInfo } from '../sources/postgres/snapshot/types.ts';
import { ApiClient, endpointOf, type ApiResult } from './snapshot-client.ts';
import { Redraw, drawWidth, type ProgressOut } from '../core/redraw.ts';

/** What `snapshot` asks the running streamer (parsed by src/cli.ts). */
export type SnapshotAction =
  | { kind: 'start'; tables: string[]; where?: string; wait: boolean }
  | { kind: 'list' }
  | { kind: 'cancel'; id: string };

/** Exit code when the operator stops following (Ctrl-C): the shell's 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

export interface SnapshotIo {
  /** Where progress and results go; a terminal gets redrawn bars. */
  out: ProgressOut;
  /** Errors and notices. */
  err: { write(text: string): void };
  /** The HTTP client; by default one for the config's endpoint. */
  client?: ApiClient;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  /** How often the snapshot is read while following (ms). */
  pollMs: number;
  /** How often a plain progress line is written when `out` is not a terminal (ms). */
  lineEveryMs: number;
  /** Aborted when the operator stops following (SIGINT). */
  signal?: AbortSignal;
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const over = (info: SnapshotInfo) => info.state === 'done' || info.state === 'cancelled' || info.state === 'failed';

/** The answer as a SnapshotInfo, when it looks like one. */
function asInfo(body: unknown): SnapshotInfo | undefined {
  const info = body as Partial<SnapshotInfo> | null;
  return info !== null && typeof info === 'object' && typeof info.id === 'string' && typeof info.state === 'string' && Array.isArray(info.tables)
    ? (info as SnapshotInfo)
    : undefined;
}

/** Runs one `snapshot` command against the streamer `config` describes. */
export async function runSnapshot(config: Config, sourceName: string, action: SnapshotAction, io: SnapshotIo): Promise<number> {
  const source = config.sources.find((s) => s.name === sourceName);
  if (source === undefined) {
    const names = config.sources.map((s) => s.name).join(', ') || 'none';
    io.err.write(`${config.file}: no source "${sourceName}" (sources: ${names})\n`);
    return EXIT_USAGE;
  }
  if (source.type !== 'postgres') {
    io.err.write(`${config.file}: source "${sourceName}" is a ${source.type} source; only PostgreSQL sources take snapshots\n`);
    return EXIT_USAGE;
  }
  let client = io.client;
  if (client === undefined) {
    try {
      client = new ApiClient(endpointOf(config));
    } catch (err) {
      io.err.write(`${config.file}: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
  }
  const base = `/sources/${encodeURIComponent(sourceName)}/snapshots`;
  /** Prints why a request failed; 4xx answers but 409 are the command's mistakes (2), the rest runtime failures (1). */
  const failed = (result: Extract<ApiResult, { ok: false }>) => {
    io.err.write(`${result.message}\n`);
    const status = result.status ?? 0;
    return status >= 400 && status < 500 && status !== 409 ? EXIT_USAGE : EXIT_RUNTIME;
  };
  const unexpected = () => {
    io.err.write(`the streamer at ${client.endpoint.origin} answered something that is not a snapshot; is it the same version?\n`);
    return EXIT_RUNTIME;
  };

  switch (action.kind) {
    case 'list': {
      const result = await client.request('GET', base);
      if (!result.ok) return failed(result);
      const list = (result.body as { snapshots?: unknown }).snapshots;
      if (!Array.isArray(list)) return unexpected();
      if (list.length === 0) io.out.write(`source ${sourceName} has no snapshots\n`);
      for (const item of list) {
        const info = asInfo(item);
        if (info === undefined) return unexpected();
        io.out.write(`${over(info) ? summaryLine(info) : progressLine(info)}\n`);
      }
      return EXIT_OK;
    }
    case 'cancel': {
      const result = await client.request('DELETE', `${base}/${encodeURIComponent(action.id)}`);
      if (!result.ok) return failed(result);
      const info = asInfo(result.body);
      if (info === undefined) return unexpected();
      io.out.write(`${info.state === 'cancelled' ? '' : `snapshot ${info.id} had already ended (${info.state}): `}${summaryLine(info)}\n`);
      return EXIT_OK;
    }
    case 'start': {
      const result = await client.request('POST', base, { tables: action.tables, ...(action.where === undefined ? {} : { where: action.where }) });
      if (!result.ok) return failed(result);
      const info = asInfo(result.body);
      if (info === undefined) return unexpected();
      if (!action.wait) {
        io.out.write(`snapshot ${info.id} started on source ${sourceName}: ${info.tables.map((t) => t.table).join(', ')} (${info.state})\n`);
        return EXIT_OK;
      }
      return follow(client, `${base}/${encodeURIComponent(info.id)}`, info, io, { config: config.file, source: sourceName });
    }
  }
}

/** After this many failed reads in a row, following gives up (the snapshot itself may go on). */
const MAX_READ_FAILURES = 5;

/** Follows one snapshot until it ends (or the operator stops following); exit code by how it ended. */
async function follow(client: ApiClient, path: string, first: SnapshotInfo, io: SnapshotIo, names: { config: string; source: string }): Promise<number> {
  let info = first;
  const screen = new Redraw(io.out);
  let lastLine = -Infinity;
  let failures = 0;
  const draw = () => {
    if (io.out.isTTY) {
      screen.draw(progressBar(info, drawWidth(io.out)));
    } else if (!over(info) && io.now() - lastLine >= io.lineEveryMs) {
      io.out.write(`${progressLine(info)}\n`);
      lastLine = io.now();
    }
  };
  const endDrawing = () => screen.end();
  while (true) {
    draw();
    if (over(info)) break;
    await io.sleep(io.pollMs, io.signal);
    if (io.signal?.aborted) {
      endDrawing();
      io.err.write(`stopped following snapshot ${info.id}; it goes on in the streamer (cancel it: psql-streamer snapshot -config ${names.config} --source ${names.source} --cancel ${info.id})\n`);
      return EXIT_INTERRUPTED;
    }
    const result = await client.request('GET', path);
    const next = result.ok ? asInfo(result.body) : undefined;
    if (next !== undefined) {
      info = next;
      failures = 0;
      continue;
    }
    const gone = !result.ok && result.status === 404;
    if (gone || ++failures >= MAX_READ_FAILURES) {
      endDrawing();
      const why = gone ? 'the streamer no longer knows it (was it restarted?)' : result.ok ? 'its answers are not snapshots' : result.message;
      io.err.write(`lost track of snapshot ${info.id}: ${why}; list the snapshots with psql-streamer snapshot -config ${names.config} --source ${names.source} --list\n`);
      return EXIT_RUNTIME;
    }
  }
  endDrawing();
  io.out.write(`${summaryLine(info)}\n`);
  if (info.state === 'done') return EXIT_OK;
  if (info.state === 'cancelled') io.err.write(`snapshot ${info.id} was cancelled (DELETE ${path}, or snapshot --cancel ${info.id}) before it copied everything\n`);
  else io.err.write(`snapshot ${info.id} failed${info.error === undefined ? '' : `: ${info.error}`}\n`);
  return EXIT_RUNTIME;
}
