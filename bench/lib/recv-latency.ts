/**
 * A minimal consumer's commit → receipt latency, for bench/pg-kafka.ts --baseline: pg_recvlogical
 * with test_decoding (`include-timestamp`) writing to a pipe this process reads, each COMMIT line
 * stamped when it arrives. It decodes the same transactions as the streamer at the same time
 * (through its own slot), so it shows what the machine allows at that moment: PostgreSQL, the
 * walsender and the scheduler, without psql-streamer.
 */
import { join } from 'node:path';

/** Commit times as test_decoding writes them, e.g. `2026-12-07 04:20:00.123456+00`. */
const COMMIT = /^COMMIT \d+ \(at (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d)(?::?(\d\d))?\)$/;

export interface RecvLatency {
  /** Ends the consumer and returns [commit µs, receipt µs] per transaction. */
  stop(): Promise<Array<[number, number]>>;
}

export function startRecvLatency(pg: { bin: string; host: string; port: number; user: string; database: string }, slot: string): RecvLatency {
  const proc = Bun.spawn([
    join(pg.bin, 'pg_recvlogical'), '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', pg.database,
    `--slot=${slot}`, '--start', '--no-loop', '-o', 'include-timestamp=on', '-o', 'skip-empty-xacts=on', '-f', '-', '--fsync-interval=0',
  ], { stdout: 'pipe', stderr: 'pipe' });
  const out: Array<[number, number]> = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of proc.stdout) {
      const now = Math.round((performance.timeOrigin + performance.now()) * 1000);
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        const m = COMMIT.exec(line);
        if (!m) continue;
        const offset = `${m[4]}:${m[5] ?? '00'}`;
        const micros = Date.parse(`${m[1]}T${m[2]}${offset}`) * 1000 + Number(((m[3] ?? '') + '000000').slice(0, 6));
        out.push([micros, now]);
      }
    }
  })();
  return {
    async stop() {
      proc.kill('SIGTERM');
      await proc.exited;
      await reading;
      return out;
    },
  };
}
