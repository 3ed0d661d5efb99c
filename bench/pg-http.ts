#!/usr/bin/env bun
/**
 * PostgreSQL → HTTP sink benchmark (docs/benchmarks.md, "HTTP sink"): bench/pg-source.ts's
 * batched scenario — psql-streamer against pg_recvlogical on the same WAL, in the same run — with
 * the streamer's sink an HTTP sink POSTing NDJSON to a local receiver that discards
 * (bench/lib/discard-server.ts, a process of its own). Afterwards the receiver's counts are checked:
 * every row arrived. Run it through scripts/bench-http (a throwaway cluster). Arguments go to
 * bench/pg-source.ts (e.g. --rows, --runs, --batch-size, --json); `--format json_array` and
 * `--sink-extra 'maxRequestEvents = 1000'` change the sink.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { sampleProc, fmt } from './lib/proc.ts';

const { values: own, tokens } = parseArgs({
  options: { format: { type: 'string', default: 'ndjson' }, 'sink-extra': { type: 'string', default: '' } },
  strict: false,
  tokens: true,
});
// Everything but our two options goes to bench/pg-source.ts.
const passOn: string[] = [];
for (const t of tokens ?? []) {
  if (t.kind === 'option' && (t.name === 'format' || t.name === 'sink-extra')) continue;
  if (t.kind === 'option') passOn.push(t.rawName, ...(t.value === undefined ? [] : [t.value]));
  else if (t.kind === 'positional') passOn.push(t.value);
}
const log = (line: string) => process.stderr.write(`[bench-http] ${line}\n`);

const server = Bun.spawn([process.execPath, join(import.meta.dir, 'lib', 'discard-server.ts')], { stdout: 'pipe', stderr: 'inherit' });
const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
let head = '';
while (!/PORT=\d+\n/.test(head)) {
  const { value, done } = await reader.read();
  if (done) throw new Error('the discard server exited before listening');
  head += new TextDecoder().decode(value);
}
const port = Number(/PORT=(\d+)/.exec(head)![1]);
const url = `http://127.0.0.1:${port}/cdc`;
log(`discard receiver on ${url} (pid ${server.pid}); ${cpus().length} CPUs; sink format ${own.format}`);

const sink = `[sink.hook]\ntype = "http"\nurl = "${url}"\nformat = "${own.format}"\n${String(own['sink-extra'])}`;
const bench = Bun.spawn([process.execPath, join(import.meta.dir, 'pg-source.ts'), '--scenarios', 'batched', ...passOn], {
  stdout: 'inherit', stderr: 'inherit', env: { ...process.env, BENCH_SINK_TOML: sink },
});
const code = await bench.exited;
const counts = (await (await fetch(`http://127.0.0.1:${port}/counts`)).json()) as { requests: number; events: number; bytes: number };
const serverCpuMs = (sampleProc(server.pid)?.cpuUs ?? 0) / 1000;
log(`receiver: ${fmt(counts.requests)} requests, ${fmt(counts.events)} events (${fmt(counts.events / Math.max(counts.requests, 1))} per request), ` +
  `${fmt(counts.bytes / 1048576, 1)} MiB; its CPU ${fmt(serverCpuMs)} ms in all`);
server.kill();
process.exit(code);
