/**
 * The file sink's output file: created 0640 whatever the umask allows more of, an existing file
 * keeps its mode, and reopen() (SIGHUP) moves writing to a new file at the path after a rename,
 * between batches, losing and splitting nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '../../../../src/core/logger.ts';
import { createMetrics } from '../../../../src/metrics/catalogue.ts';
import { encodePassthrough } from '../../../../src/event/passthrough.ts';
import { FILE_FORMAT_DEFAULTS, fileSinkType } from '../../../../src/sinks/file/file.ts';
import type { Sink } from '../../../../src/sinks/sink.ts';
import { createMemoryStateStore } from '../../../../src/state/memory-store.ts';
import { makeTestEvent } from '../../../contract/events.ts';
import { captureLogs } from '../../../helpers/capture-logs.ts';

captureLogs();

let dir: string;
let umask: number;
beforeAll(() => { umask = process.umask(0o022); });
afterAll(() => { process.umask(umask); });
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'file-reopen-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const openSink = (path: string): Promise<Sink> =>
  fileSinkType.create('f', { path, fsync: false, ...FILE_FORMAT_DEFAULTS }, { log: Logger.for('Sink-File', 'f'), store: createMemoryStateStore(), metrics: createMetrics() });

const mode = (path: string) => statSync(path).mode & 0o777;

describe('file sink output files', () => {
  test('a new file is created 0640 under umask 022 (not 0644)', async () => {
    const path = join(dir, 'out.jsonl');
    const sink = await openSink(path);
    await sink.write([makeTestEvent(1)]);
    await sink.close();
    expect(mode(path)).toBe(0o640);
  });

  test('an existing file keeps the mode the operator gave it', async () => {
    const path = join(dir, 'shared.jsonl');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    const sink = await openSink(path);
    await sink.write([makeTestEvent(1)]);
    await sink.close();
    expect(mode(path)).toBe(0o644);
  });

  test('reopen after a rename: earlier batches in the renamed file, later ones in a new 0640 file, none lost or split', async () => {
    const path = join(dir, 'out.jsonl');
    const rotated = `${path}.1`;
    const sink = await openSink(path);
    const events = Array.from({ length: 400 }, (_, i) => makeTestEvent(i));
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i += 10) writes.push(sink.write(events.slice(i, i + 10)));
    renameSync(path, rotated);
    const reopened = sink.reopen!();
    for (let i = 200; i < 400; i += 10) writes.push(sink.write(events.slice(i, i + 10)));
    await Promise.all([...writes, reopened]);
    await sink.close();
    const lines = [...readFileSync(rotated, 'utf8').split('\n').slice(0, -1), ...readFileSync(path, 'utf8').split('\n').slice(0, -1)];
    expect(lines).toEqual(events.map((e) => encodePassthrough(e)));
    // Queued before the reopen → old file; queued after → new file.
    expect(readFileSync(rotated, 'utf8').split('\n').length - 1).toBe(200);
    expect(mode(path)).toBe(0o640);
  });

  test('reopen when the path cannot be opened: an error, and writing goes on to the old file', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const path = join(sub, 'out.jsonl');
    const sink = await openSink(path);
    renameSync(sub, join(dir, 'moved'));
    await expect(sink.reopen!()).rejects.toThrow(`cannot reopen '${path}' (still writing to the file open before)`);
    await sink.write([makeTestEvent(7)]);
    await sink.close();
    expect(readFileSync(join(dir, 'moved', 'out.jsonl'), 'utf8')).toBe(encodePassthrough(makeTestEvent(7)) + '\n');
  });

  test('standard output has nothing to reopen', async () => {
    const sink = await openSink('-');
    await sink.reopen!();
    await sink.close();
  });
});
