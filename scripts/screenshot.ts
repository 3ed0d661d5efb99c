/**
 * scripts/screenshot's driver: a PNG of the status page (docs/operations.md, "Status page and
 * `status` command") in headless Chromium (test/helpers/browser.ts). With --url it photographs a
 * running streamer's page; without, a demo: a table of rows in the PostgreSQL scripts/screenshot
 * started, a streamer copying it (`snapshot = "initial"`) while rows keep being inserted, to a
 * file sink (and, with --failing-sink, a second one writing to /dev/full), caught mid-copy.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { StatusDocument } from '../src/http/status-model.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { postgresSourceToml, sinkToml, streamerToml } from '../test/helpers/configs.ts';
import { dropSlot, pgClient, pgServerFromEnv } from '../test/helpers/pg.ts';
import { freePort, startStreamer, tempDir, type StreamerProcess } from '../test/helpers/streamer.ts';
import { nonNegative } from './lib/options.ts';

const HELP = `scripts/screenshot [options]
  --url URL        photograph the page of a running streamer (default: start a demo, see below)
  --token TOKEN    its httpToken, when it asks for one (default $PSQL_STREAMER_HTTP_TOKEN)
  --out FILE       the PNG to write (default status-page.png)
  --width N        screen width in CSS pixels (default 1100; 390 looks like a phone)
  --height N       screen height; the whole page is taken when longer (default 700)
  --scale N        device pixels per CSS pixel (default 1)
  --rows N         demo: rows of the table the initial snapshot copies (default 1000000)
  --failing-sink   demo: add a file sink writing to /dev/full, to show an error
Without --url, scripts/screenshot starts a throwaway PostgreSQL (or uses PSQL_STREAMER_PG_URL's).
`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    url: { type: 'string' },
    token: { type: 'string' },
    out: { type: 'string', default: 'status-page.png' },
    width: { type: 'string', default: '1100' },
    height: { type: 'string', default: '700' },
    scale: { type: 'string', default: '1' },
    rows: { type: 'string', default: '1000000' },
    'failing-sink': { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const num = (name: keyof typeof values): number => nonNegative(values, name, HELP);

/** Starts the demo; returns the page's URL and how to stop it. */
async function startDemo(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = pgServerFromEnv(process.env);
  const sql = pgClient(server);
  const dir = tempDir('psql-streamer-screenshot-');
  const suffix = Date.now().toString(36);
  const table = `orders_${suffix}`;
  await sql.unsafe(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, customer int, amount numeric(10,2), note text)`);
  await sql.unsafe(`INSERT INTO ${table} (customer, amount, note) SELECT g % 977, (g % 10000) / 100.0, repeat('n', 60) FROM generate_series(1, ${num('rows')}) g`);
  await sql.unsafe(`ANALYZE ${table}`);
  await sql.unsafe(`CREATE PUBLICATION pub_${suffix} FOR TABLE ${table}`);
  const sections = [
    postgresSourceToml({ server, name: 'shop', publication: `pub_${suffix}`, slot: `slot_${suffix}`, source: 'snapshot = "initial"\nsnapshotChunkSize = 2000\nslotMonitorInterval = "1s"\n' }),
    sinkToml('archive', 'file', `path = "${join(dir, 'archive.jsonl')}"`, ['shop']),
  ];
  if (values['failing-sink']) sections.push(sinkToml('mirror', 'file', 'path = "/dev/full"', ['shop']));
  const http = `127.0.0.1:${freePort()}`;
  const streamer: StreamerProcess = startStreamer(dir, streamerToml({ state: join(dir, 'state.db'), http, sections }), 'demo');
  const url = await streamer.httpUrl();
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await sql.unsafe(`INSERT INTO ${table} (customer, amount, note) SELECT g % 977, 9.99, 'live' FROM generate_series(1, 25) g`);
      await Bun.sleep(20);
    }
  })();
  return {
    url,
    async stop() {
      writing = false;
      await writer.catch(() => {});
      streamer.proc.kill('SIGTERM');
      // A failing sink would hold the graceful stop for shutdownTimeout: nothing of the demo is kept.
      const timer = setTimeout(() => streamer.proc.kill('SIGKILL'), 5_000);
      await streamer.exited;
      clearTimeout(timer);
      await dropSlot(sql, `slot_${suffix}`).catch(() => {});
      await sql.unsafe(`DROP PUBLICATION IF EXISTS pub_${suffix}; DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await sql.end({ timeout: 5 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the demo shows something worth a picture: the copy under way (or done) and a rate of events, or the failing sink. */
async function waitForAction(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const doc = (await (await fetch(`${url}/status.json`)).json()) as StatusDocument;
    const source = doc.components.find((c) => c.kind === 'source');
    const snapshot = source?.snapshots.find((s) => s.id === 'initial');
    const copying = snapshot !== undefined && (snapshot.state === 'done' || (snapshot.percent ?? 0) >= 30);
    if (copying && (source?.eventsPerSecond ?? 0) > 0) return;
    // A failing sink holds everything up: the picture is of that.
    if (values['failing-sink'] && doc.components.some((c) => c.kind === 'sink' && c.state === 'failing')) return;
    await Bun.sleep(250);
  }
}

const demo = values.url === undefined ? await startDemo() : undefined;
const browser = await launchBrowser();
try {
  const base = (values.url ?? demo!.url).replace(/\/+$/, '');
  if (demo) await waitForAction(base);
  const page = await browser.newPage({ width: num('width'), height: num('height'), scale: num('scale') });
  const token = values.token ?? process.env.PSQL_STREAMER_HTTP_TOKEN;
  await page.goto(`${base}/${token ? `#token=${encodeURIComponent(token)}` : ''}`);
  // After one refresh: the "updated" note and rates measured by the page's own fetch.
  await page.waitFor('the page to refresh', `document.getElementById('note').textContent !== '' || !document.getElementById('login').hidden`, 30_000);
  await Bun.write(values.out!, await page.screenshot({ fullPage: true }));
  if (page.problems.length > 0) process.stderr.write(`the page logged errors:\n${page.problems.join('\n')}\n`);
  process.stdout.write(`${values.out}\n`);
} finally {
  await browser.close();
  await demo?.stop();
}
