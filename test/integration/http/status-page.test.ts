/**
 * The status page in a real browser, and `psql-streamer status`, against a running streamer with a
 * real PostgreSQL (docs/operations.md, "Status page and `status` command"): headless Chromium
 * (Debian's, installed by scripts/setup; test/helpers/browser.ts) loads the page on a phone-sized
 * screen with httpAuth = "all". Without the token, or with a wrong one typed in, it shows nothing;
 * with `#token=` it shows the source, pipeline and sink, the initial snapshot's bar, events and lag
 * moving while rows are inserted, the file sink's error once its path leads to a full device
 * (/dev/full, then SIGHUP), and OK again once it does not; the page logs no console error but the
 * wrong token's 401. The `status`
 * command reads the same instance: exit 0, 1 while the sink fails, 2 with a wrong token or when
 * nobody answers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, type Browser, type Page } from '../../helpers/browser.ts';
import { postgresToFileToml } from '../../helpers/configs.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { useSourceTests } from '../../helpers/postgres-source.ts';
import { freePort, killChildren, runCommand, startStreamer, tempDir, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const TOKEN = 'status-page-token-5d1f0c';
const ROWS = 3_000;
const children: StreamerProcess[] = [];
const writerStops: (() => Promise<void>)[] = [];
let browser: Browser | undefined;
const dir = tempDir('psql-streamer-status-page-');

// Registered before useSourceTests(): the streamer lets go of its slot before the slots are dropped.
afterAll(async () => {
  for (const stop of writerStops) await stop();
  await browser?.close();
  await killChildren(children);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const db = useSourceTests();

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

/** The text of `field` in the card `key`, or null when the card or the field is not shown. */
const field = (page: Page, key: string, name: string) =>
  page.evaluate<string | null>(`document.querySelector('[data-key="${key}"] [data-field="${name}"]')?.textContent ?? null`);
const cardState = (page: Page, key: string) => page.evaluate<string | null>(`document.querySelector('[data-key="${key}"]')?.dataset.state ?? null`);

/** "12,345" → 12345; "1.2 MiB" → bytes (roughly); null stays null. */
function number(text: string | null): number | null {
  if (text === null) return null;
  const match = /^([\d,.]+)\s*(B|KiB|MiB|GiB)?/.exec(text);
  if (!match) return null;
  const scale = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[match[2] ?? 'B'] ?? 1;
  return Number(match[1]!.replace(/,/g, '')) * scale;
}

describe('status page and status command', () => {
  test('Chromium shows the truth as it changes, with no console error; `status` agrees', async () => {
    const table = uniqueName('page');
    await db.sql.unsafe(`CREATE TABLE ${table} (id serial PRIMARY KEY, payload text)`);
    await db.sql.unsafe(`INSERT INTO ${table} (payload) SELECT repeat('x', 100) FROM generate_series(1, ${ROWS})`);
    const { slot, publication } = await db.prepare([table]);
    const out = join(dir, 'out.jsonl');
    const config = postgresToFileToml({
      server: db.pg.server, slot, publication, out, state: join(dir, 'state.db'),
      http: `127.0.0.1:${freePort()}`,
      top: `httpToken = "${TOKEN}"\nhttpAuth = "all"`,
      source: 'snapshot = "initial"\nsnapshotChunkSize = 500\nslotMonitorInterval = "250ms"\n',
    });
    const streamer = startStreamer(dir, config, 'page');
    children.push(streamer);
    const url = await streamer.httpUrl();
    await streamer.waitForLog('Streaming from', 30_000);
    const configFile = join(dir, 'page.toml');

    // A phone-sized screen.
    const page = await browser!.newPage({ width: 390, height: 844 });

    // No token: a form, nothing of the status.
    await page.goto(`${url}/`);
    await page.waitFor('the token form', `!document.getElementById('login').hidden`);
    expect(await page.evaluate<number>(`document.querySelectorAll('article.card').length`)).toBe(0);
    expect(await page.evaluate<string>('document.documentElement.outerHTML')).not.toContain(slot);

    // A wrong token typed into the form: refused, still nothing shown. The browser logs the 401
    // answer as an error: the only ones expected in this test.
    await page.evaluate(`document.getElementById('token').value = 'wrong-token'; document.getElementById('login').requestSubmit()`);
    await page.waitFor('the refusal', `document.getElementById('login-message').textContent === 'The token was refused.'`);
    expect(await page.evaluate<number>(`document.querySelectorAll('article.card').length`)).toBe(0);
    expect(await page.evaluate<string | null>(`sessionStorage.getItem('psql-streamer-token')`)).toBeNull();
    expect(page.problems.length).toBeGreaterThan(0);
    expect(page.problems.filter((p) => !/401/.test(p))).toEqual([]);
    page.problems.length = 0;

    // The token in the fragment (of /ui: a new document, as following a link): stored for the tab,
    // taken out of the address bar, the status shown.
    await page.goto(`${url}/ui#token=${TOKEN}`);
    await page.waitFor('three cards', `document.querySelectorAll('article.card').length === 3`);
    expect(await page.evaluate<string>('location.hash')).toBe('');
    expect(await page.evaluate<string>(`document.getElementById('login').hidden ? 'hidden' : 'shown'`)).toBe('hidden');
    expect(await field(page, 'source:db1', 'endpoint')).toContain(`slot ${slot}`);
    expect(await field(page, 'sink:out', 'endpoint')).toBe(out);

    // The initial snapshot's bar fills to 100%.
    await page.waitFor('the initial snapshot done', `document.querySelector('[data-key="source:db1"] [data-snapshot="initial"].done [aria-valuenow="100"]') !== null`, 60_000);
    expect(await page.evaluate<string>(`document.querySelector('[data-snapshot="initial"] .snapline').textContent`)).toContain(`${ROWS.toLocaleString('en-US')}/${ROWS.toLocaleString('en-US')} rows`);
    await page.waitFor('the slot polled', `document.querySelector('[data-key="source:db1"] [data-field="wal-status"]')?.textContent === 'reserved'`);
    // Readable on a phone: nothing wider than the screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);

    // Rows keep coming: events and lag move on the page without a reload.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await db.sql.unsafe(`INSERT INTO ${table} (payload) SELECT repeat('y', 200) FROM generate_series(1, 40)`);
        await Bun.sleep(10);
      }
    })();
    // Stopped below; also when an expectation fails first (the client then closes under it).
    writerStops.push(async () => {
      writing = false;
      await writer.catch(() => {});
    });
    await page.evaluate('window.__sameDocument = true');
    const events = new Set<number>();
    const lags = new Set<number>();
    let rate = 0;
    await waitFor('events and lag moving on the page', async () => {
      const e = number(await field(page, 'source:db1', 'events'));
      const l = number(await field(page, 'source:db1', 'lag-bytes'));
      if (e !== null) events.add(e);
      if (l !== null) lags.add(l);
      rate = Math.max(rate, number(await field(page, 'source:db1', 'events-per-second')) ?? 0);
      await Bun.sleep(200);
      return events.size >= 3 && lags.size >= 2 && [...lags].some((v) => v > 0) && rate > 0;
    }, 60_000, () => `events seen ${[...events]}, lag seen ${[...lags]}, events/s ${rate}`);
    expect(Math.max(...events)).toBeGreaterThan(Math.min(...events));
    expect(await page.evaluate<boolean>('window.__sameDocument === true')).toBe(true);

    const healthy = await runCommand(['status', '-config', configFile]);
    expect(healthy.stderr).toBe('');
    expect(healthy.stdout).toMatch(/^psql-streamer \S+, up \S+: all OK\n/);
    expect(healthy.stdout).toMatch(/Source-PSQL db1 +OK +[\d.,]+ +\S+ \S*B +[\d.]+s +\S+ \S*B reserved +[0-9A-F]+\/[0-9A-F]+\n/);
    expect(healthy.code).toBe(0);

    // The sink's path now leads to a full device: after SIGHUP every write fails with ENOSPC.
    rmSync(out);
    symlinkSync('/dev/full', out);
    streamer.proc.kill('SIGHUP');
    await page.waitFor('the sink failing', `document.querySelector('[data-key="sink:out"]')?.dataset.state === 'failing'`, 30_000);
    expect(await field(page, 'sink:out', 'reason')).toMatch(/ENOSPC|no space left/i);
    expect(await field(page, 'sink:out', 'state')).toBe('FAILING');
    expect(await page.evaluate<string>(`document.querySelector('[data-field="health"]').textContent`)).toStartWith('unhealthy');
    expect(await cardState(page, 'pipeline:db1')).not.toBe('ok');
    expect(await page.evaluate<string>('document.title')).toBe('UNHEALTHY - psql-streamer status');

    const failing = await runCommand(['status', '--url', url], 60_000, { PSQL_STREAMER_HTTP_TOKEN: TOKEN });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain(': UNHEALTHY\n');
    expect(failing.stdout).toMatch(/Sink-File out +FAILING/);
    expect(failing.stdout).toMatch(/\nSink-File out: .*(ENOSPC|no space left)/i);

    // A regular file again: the retried batch goes through and the page says OK.
    await writerStops.pop()!();
    rmSync(out);
    streamer.proc.kill('SIGHUP');
    await page.waitFor('the sink OK again', `document.querySelector('[data-key="sink:out"]')?.dataset.state === 'ok'`, 60_000);
    await page.waitFor('the pipeline OK again', `document.querySelector('[data-key="pipeline:db1"]')?.dataset.state === 'ok'`, 60_000);
    expect(await field(page, 'sink:out', 'reason')).toBeNull();

    const wrongToken = await runCommand(['status', '--url', url], 60_000, { PSQL_STREAMER_HTTP_TOKEN: 'nope' });
    expect(wrongToken).toMatchObject({ code: 2, stdout: '' });
    expect(wrongToken.stderr).toContain('refused the token');

    expect(page.problems).toEqual([]);

    streamer.proc.kill('SIGTERM');
    expect(await streamer.exited).toBe(0);
    // The page notices, without an error in its console (a failed fetch is shown, not thrown).
    await page.waitFor('the page noticing', `document.getElementById('note').className === 'stale'`, 30_000);
    const gone = await runCommand(['status', '-config', configFile]);
    expect(gone).toMatchObject({ code: 2, stdout: '' });
    expect(gone.stderr).toContain('is it running?');
  }, 240_000);
});
