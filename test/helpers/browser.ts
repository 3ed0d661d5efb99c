/**
 * A headless Chromium driven over the DevTools protocol (CDP) with Bun's WebSocket: enough for the
 * status page's browser test and scripts/screenshot (open a page, evaluate expressions, wait for a
 * condition, collect console errors, take a PNG). Ours rather than playwright-core: about 200
 * lines instead of a large dependency, and it drives the Chromium Debian ships, whatever its
 * version. scripts/setup installs Chromium; $PSQL_STREAMER_CHROMIUM names another binary.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Params = Record<string, unknown>;
interface Message {
  id?: number;
  method?: string;
  params?: Params;
  result?: Params;
  error?: { message: string };
  sessionId?: string;
}

/** The Chromium binary: $PSQL_STREAMER_CHROMIUM, else chromium on PATH or Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  const configured = process.env.PSQL_STREAMER_CHROMIUM;
  if (configured) return configured;
  const found = Bun.which('chromium') ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
  if (found === null) throw new Error('Chromium is missing: run scripts/setup (it installs Debian\'s chromium), or set PSQL_STREAMER_CHROMIUM');
  return found;
}

export interface Page {
  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy and returns its value; throws with `what` after `timeoutMs`. */
  waitFor<T = unknown>(what: string, expression: string, timeoutMs?: number): Promise<T>;
  /** Loads `url` and waits for its load event (a change of the fragment alone loads nothing: the page's script does not run again). */
  goto(url: string): Promise<void>;
  /** A PNG of the page (the whole document's height when `fullPage`). */
  screenshot(options?: { fullPage?: boolean }): Promise<Uint8Array>;
  /** Console errors, uncaught exceptions and browser log errors (failed loads, CSP violations) so far. */
  readonly problems: string[];
}

export interface Browser {
  /** A new tab of `width` x `height` CSS pixels. */
  newPage(size?: { width: number; height: number; scale?: number }): Promise<Page>;
  close(): Promise<void>;
}

/** Starts a headless Chromium with a throwaway profile. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'psql-streamer-chromium-'));
  const proc = Bun.spawn([
    chromiumPath(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--no-default-browser-check', '--disable-extensions', '--hide-scrollbars', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, 'about:blank',
  ], { stdout: 'ignore', stderr: 'pipe', stdin: 'ignore' });
  let log = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Chromium did not start within 30 s:\n${log}`)), 30_000);
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
        log += decoder.decode(chunk, { stream: true });
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      }
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${await proc.exited}):\n${log}`));
    })();
  });

  const socket = new WebSocket(endpoint);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot connect to Chromium at ${endpoint}`));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(result: Params): void; reject(err: Error): void }>();
  const listeners = new Set<(message: Message) => void>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as Message;
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result ?? {});
      return;
    }
    for (const listener of listeners) listener(message);
  };
  const send = (method: string, params: Params = {}, sessionId?: string): Promise<Params> => {
    const id = nextId++;
    socket.send(JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) }));
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  };

  const newPage = async (size = { width: 1200, height: 900, scale: 1 }): Promise<Page> => {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const call = (method: string, params: Params = {}) => send(method, params, sessionId);
    const problems: string[] = [];
    let loaded: (() => void) | undefined;
    listeners.add((message) => {
      if (message.sessionId !== sessionId) return;
      const p = message.params ?? {};
      if (message.method === 'Page.loadEventFired') loaded?.();
      if (message.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
        const args = (p.args as { value?: unknown; description?: string }[]).map((a) => a.description ?? String(a.value));
        problems.push(`console.${p.type}: ${args.join(' ')}`);
      }
      if (message.method === 'Runtime.exceptionThrown') {
        const details = p.exceptionDetails as { text: string; exception?: { description?: string } };
        problems.push(`uncaught: ${details.exception?.description ?? details.text}`);
      }
      if (message.method === 'Log.entryAdded') {
        const entry = p.entry as { level: string; text: string; url?: string };
        if (entry.level === 'error') problems.push(`log: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
      }
    });
    await Promise.all([call('Page.enable'), call('Runtime.enable'), call('Log.enable')]);
    const setSize = (height: number) =>
      call('Emulation.setDeviceMetricsOverride', { width: size.width, height, deviceScaleFactor: size.scale ?? 1, mobile: size.width < 600 });
    await setSize(size.height);

    const evaluate = async <T>(expression: string): Promise<T> => {
      const result = (await call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
        result: { value?: T };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (result.exceptionDetails) throw new Error(`${expression}: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`);
      return result.result.value as T;
    };
    return {
      problems,
      evaluate,
      async waitFor<T>(what: string, expression: string, timeoutMs = 20_000): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const value = await evaluate<T>(expression);
          if (value) return value;
          if (Date.now() > deadline) {
            const body = await evaluate<string>('document.body ? document.body.innerText : ""').catch(() => '');
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the page shows:\n${body}`);
          }
          await Bun.sleep(100);
        }
      },
      async goto(url: string): Promise<void> {
        const done = new Promise<void>((resolve) => { loaded = resolve; });
        const { errorText, loaderId } = (await call('Page.navigate', { url })) as { errorText?: string; loaderId?: string };
        if (errorText) throw new Error(`cannot load ${url}: ${errorText}`);
        // No loader: a navigation within the document (only the fragment changed), no load event.
        if (loaderId === undefined) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${url} did not load within 30 s`)), 30_000);
        });
        await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
      },
      async screenshot(options = {}): Promise<Uint8Array> {
        if (options.fullPage) await setSize(Math.max(size.height, await evaluate<number>('document.documentElement.scrollHeight')));
        const { data } = (await call('Page.captureScreenshot', { format: 'png' })) as { data: string };
        if (options.fullPage) await setSize(size.height);
        return Buffer.from(data, 'base64');
      },
    };
  };

  return {
    newPage,
    async close(): Promise<void> {
      await Promise.race([send('Browser.close').catch(() => {}), Bun.sleep(2_000)]);
      socket.close();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await proc.exited;
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
