import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamerError, isRetryable } from '../../../../src/core/errors.ts';
import type { ChangeEvent } from '../../../../src/event/event.ts';
import { Logger } from '../../../../src/core/logger.ts';
import { encodePassthrough } from '../../../../src/event/passthrough.ts';
import { createMetrics, type Metrics } from '../../../../src/metrics/catalogue.ts';
import { FILE_FORMAT_DEFAULTS, fileSinkType, writesDirectly } from '../../../../src/sinks/file/file.ts';
import type { Sink } from '../../../../src/sinks/sink.ts';
import { createMemoryStateStore } from '../../../../src/state/memory-store.ts';
import { makeTestEvent } from '../../../contract/events.ts';
import { runSinkContract } from '../../../contract/sink.contract.ts';
import { captureLogs } from '../../../helpers/capture-logs.ts';

const logLines = captureLogs();

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'file-sink-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function openSink(path: string, fsync = false, name = `f${++seq}`, metrics: Metrics = createMetrics()): Promise<Sink> {
  return fileSinkType.create(name, { path, fsync, ...FILE_FORMAT_DEFAULTS }, { log: Logger.for('Sink-File', name), store: createMemoryStateStore(), metrics });
}

const readLines = (path: string): string[] => {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
};

/** Runs test/fixtures/stdout-writer.ts (503 events in two concurrent batches to `path = "-"`); checks it finished cleanly. */
async function runStdoutWriter(stdout: 'pipe' | ReturnType<typeof Bun.file>, args: readonly string[] = []): Promise<{ stdout: string }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, '..', '..', '..', 'fixtures', 'stdout-writer.ts'), ...args], { stdout, stderr: 'pipe' });
  const [out, stderr, code] = await Promise.all([
    child.stdout instanceof ReadableStream ? new Response(child.stdout).text() : Promise.resolve(''),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect(stderr).toContain('events: 503, bytes: ');
  expect(code).toBe(0);
  return { stdout: out };
}

/** What stdout-writer.ts writes: its 503 events' lines, in order. */
const stdoutWriterOutput = (): string => Array.from({ length: 503 }, (_, i) => encodePassthrough(makeTestEvent(i)) + '\n').join('');

runSinkContract('file', async (metrics) => {
  const path = join(dir, `contract-${++seq}.jsonl`);
  const sink = await openSink(path, false, undefined, metrics);
  return {
    sink,
    count: async () => readLines(path).length,
    observed: async () => readLines(path).map((line) => (JSON.parse(line) as { UUID: string }).UUID),
  };
});

runSinkContract('file with fsync', async (metrics) => {
  const path = join(dir, `contract-fsync-${++seq}.jsonl`);
  const sink = await openSink(path, true, undefined, metrics);
  return {
    sink,
    count: async () => readLines(path).length,
    observed: async () => readLines(path).map((line) => (JSON.parse(line) as { UUID: string }).UUID),
  };
});

describe('file sink', () => {
  test('writes one passthrough JSON line per event, byte for byte', async () => {
    const path = join(dir, 'out.jsonl');
    const sink = await openSink(path);
    const batch = [makeTestEvent(1), makeTestEvent(2, 'db1', 'ünïcødé "table"')];
    await sink.write(batch);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe(batch.map((e) => encodePassthrough(e) + '\n').join(''));
    const parsed = JSON.parse(readLines(path)[1]!) as Record<string, unknown>;
    expect(Object.keys(parsed).slice(0, 8)).toEqual(['Host', 'Database', 'Table', 'Action', 'WALPosition', 'Timestamp', 'UUID', 'Columns']);
    expect(parsed.Table).toBe('ünïcødé "table"');
    expect(sink.stats()).toBe(`events: 2, bytes: ${statSync(path).size}`);
  });

  test('appends to an existing file and creates a missing one', async () => {
    const path = join(dir, 'existing.jsonl');
    writeFileSync(path, 'previous line\n');
    const sink = await openSink(path);
    await sink.write([makeTestEvent(1)]);
    await sink.close();
    expect(readLines(path)[0]).toBe('previous line');
    expect(readLines(path).length).toBe(2);
    expect(statSync(path).mode & 0o022).toBe(0); // not group- or world-writable
  });

  test('regression: an incomplete last line left by a killed run swallowed the next good line; now it gets its newline first', async () => {
    const path = join(dir, 'torn.jsonl');
    writeFileSync(path, '{"whole":1}\n{"torn":');
    const sink = await openSink(path);
    await sink.write([makeTestEvent(1)]);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe(`{"whole":1}\n{"torn":\n${encodePassthrough(makeTestEvent(1))}\n`);
    expect(logLines.some((line) => line.includes('ends with an incomplete line'))).toBe(true);
  });

  test('a large batch arrives whole', async () => {
    const path = join(dir, 'big.jsonl');
    const sink = await openSink(path, true);
    const batch: ChangeEvent[] = Array.from({ length: 2000 }, (_, i) => ({ ...makeTestEvent(i), columns: { id: i, body: 'x'.repeat(2000) } }));
    await sink.write(batch);
    await sink.close();
    const lines = readLines(path);
    expect(lines.length).toBe(2000);
    expect(lines.map((l) => (JSON.parse(l) as { Columns: { id: number } }).Columns.id)).toEqual(batch.map((_, i) => i));
  });

  test('cannot open: the error names the path and the reason', async () => {
    const missing = join(dir, 'no', 'such', 'out.jsonl');
    const err = await openSink(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamerError);
    expect((err as StreamerError).message).toBe(`Cannot open '${missing}' for appending: the directory does not exist`);
    expect((err as StreamerError).component).toMatch(/^Sink-File \(/);
    expect(isRetryable(err)).toBe(false);

    mkdirSync(join(dir, 'adir'));
    const isDir = await openSink(join(dir, 'adir')).catch((e: unknown) => e);
    expect((isDir as Error).message).toBe(`Cannot open '${join(dir, 'adir')}' for appending: it is a directory`);
  });

  test('a full disk is a retryable error and shows in status until a write succeeds', async () => {
    const sink = await openSink('/dev/full');
    const err = await sink.write([makeTestEvent(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamerError);
    expect((err as StreamerError).code).toBe('SINK_WRITE');
    expect(isRetryable(err)).toBe(true);
    expect((err as Error).message).toContain("cannot write to '/dev/full'");
    expect((err as Error).message).toContain('ENOSPC');
    expect(sink.status()).toBe((err as Error).message);
    expect(sink.stats()).toBe('events: 0, bytes: 0');
    await sink.close();
  });

  test('an event that cannot be encoded fails the batch permanently, counts sink_errors and writes nothing', async () => {
    const path = join(dir, 'bad.jsonl');
    const metrics = createMetrics();
    const sink = await openSink(path, false, 'bad-encoding', metrics);
    const bad: ChangeEvent = {
      ...makeTestEvent(2, 'db1', 'broken'),
      columns: {
        get boom(): string {
          throw new Error('value exploded');
        },
      },
    };
    const err = await sink.write([makeTestEvent(1), bad, makeTestEvent(3)]).catch((e: unknown) => e);
    expect(isRetryable(err)).toBe(false);
    expect((err as Error).message).toBe(`cannot encode event ${bad.uuid} (public.broken, LSN ${bad.lsn}): value exploded`);
    const errors = (await metrics.sinkErrors.get()).values.find((v) => v.labels.sinkName === 'bad-encoding' && v.labels.table === 'broken')?.value;
    expect(errors).toBe(1);
    await sink.close();
    expect(readLines(path)).toEqual([]);
  });

  test('writing after close is a permanent error', async () => {
    const sink = await openSink(join(dir, 'closed.jsonl'));
    await sink.close();
    await sink.close();
    const err = await sink.write([makeTestEvent(1)]).catch((e: unknown) => e);
    expect(isRetryable(err)).toBe(false);
    expect((err as Error).message).toContain('is closed');
  });

  test('the type: options path (required) and fsync (default false), and a check for an empty path', () => {
    expect(fileSinkType.type).toBe('file');
    expect(fileSinkType.componentType).toBe('Sink-File');
    expect(fileSinkType.options.path.required).toBe(true);
    expect(fileSinkType.options.fsync.default).toBe(false);
    expect(fileSinkType.validate?.({ path: ' ', fsync: false, ...FILE_FORMAT_DEFAULTS }, { env: {} })).toEqual([{ key: 'path', message: 'must name a file, or "-" for standard output' }]);
    expect(fileSinkType.validate?.({ path: '-', fsync: true, ...FILE_FORMAT_DEFAULTS }, { env: {} })).toEqual([]);
  });

  test.each([['plain', []], ['with fsync on a pipe', ['fsync']]] as const)('path "-" writes JSON lines to standard output (%s)', async (_label, args) => {
    const { stdout } = await runStdoutWriter('pipe', args);
    // The two batches were written concurrently: each arrives whole, in call order.
    expect(stdout).toBe(stdoutWriterOutput());
  });

  test('path "-" redirected to a file takes the direct write and still writes every batch whole, in order', async () => {
    const out = join(dir, 'stdout.jsonl');
    await runStdoutWriter(Bun.file(out));
    expect(readFileSync(out, 'utf8')).toBe(stdoutWriterOutput());
  });

  test('synchronous write(2) for regular files and character devices, the I/O pool for pipes', () => {
    const fifo = join(dir, 'fifo');
    expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0);
    const fds = { file: openSync(join(dir, 'plain'), 'a'), devNull: openSync('/dev/null', 'a'), fifo: openSync(fifo, 'r+') };
    try {
      expect(writesDirectly(fds.file)).toBe(true);
      expect(writesDirectly(fds.devNull)).toBe(true);
      expect(writesDirectly(fds.fifo)).toBe(false);
      expect(writesDirectly(1_000_000)).toBe(false);
    } finally {
      for (const fd of Object.values(fds)) closeSync(fd);
    }
  });
});
