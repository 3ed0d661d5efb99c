/** The README's quickstart command works: it streams the demo's changes to the terminal and cleans up. */
import { expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.ts';

test('scripts/quickstart --exit prints one event per demo change and leaves nothing behind', async () => {
  const proc = Bun.spawn([join(repoRoot, 'scripts', 'quickstart'), '--exit'], { stdout: 'pipe', stderr: 'pipe', cwd: repoRoot });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, stderr).toBe(0);
  const events = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  expect(events.map((e) => `${e.Action}:${e.Columns.id ?? ''}`)).toEqual(['insert:100', 'insert:1', 'insert:2', 'insert:3', 'update:1', 'delete:3', 'truncate:']);
  // The row that was there before the streamer started comes from the initial snapshot.
  expect(events.map((e) => e.Snapshot === true)).toEqual([true, false, false, false, false, false, false]);
  expect(events[1].Table).toBe('psql_streamer_demo');
  expect(events[1].Columns.details).toEqual({ items: [{ sku: 'A-1', qty: 2 }] });
  expect(events[4].Columns.paid).toBe(true);
  const work = /config (\S+)\/quickstart\.toml/.exec(stderr)?.[1];
  expect(work).toBeDefined();
  expect(existsSync(work as string)).toBe(false);
}, 120_000);

test('scripts/quickstart --kafka --exit also streams to a throwaway Kafka broker and shows the topic', async () => {
  const proc = Bun.spawn([join(repoRoot, 'scripts', 'quickstart'), '--kafka', '--exit'], { stdout: 'pipe', stderr: 'pipe', cwd: repoRoot });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, stderr).toBe(0);
  expect(stdout.split('\n').filter(Boolean)).toHaveLength(7);
  const topic = stderr.split('\n').filter((line) => /^ {2}\d+ /.test(line)).map((line) => line.trim());
  expect(topic).toEqual([
    '0 ["public.psql_streamer_demo",100] insert psql_streamer_demo',
    '1 ["public.psql_streamer_demo",1] insert psql_streamer_demo',
    '2 ["public.psql_streamer_demo",2] insert psql_streamer_demo',
    '3 ["public.psql_streamer_demo",3] insert psql_streamer_demo',
    '4 ["public.psql_streamer_demo",1] update psql_streamer_demo',
    '5 ["public.psql_streamer_demo",3] delete psql_streamer_demo',
    '6 ["public.psql_streamer_demo"] truncate psql_streamer_demo',
  ]);
  expect(stderr).toContain('stopped and cleaned up');
}, 180_000);
