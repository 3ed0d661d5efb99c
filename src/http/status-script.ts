/**
 * The status page's script (status-page.ts embeds its source text, so it must stay
 * self-contained: no imports, no module-level names). It takes the token from the address's
 * fragment, keeps it in sessionStorage, fetches `status.json` every `refreshMs` and replaces only
 * the cards whose HTML changed (no reload, no flicker). The DOM declarations below are the few
 * parts of a browser it uses (the project's TypeScript has no DOM library).
 */
import type { StatusDocument } from './status-model.ts';
import type { StatusView } from './status-view.ts';

interface El {
  innerHTML: string;
  outerHTML: string;
  textContent: string | null;
  hidden: boolean;
  className: string;
  value: string;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<El>;
  querySelector(selector: string): El | null;
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void;
}
declare const document: {
  readonly hidden: boolean;
  title: string;
  getElementById(id: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  addEventListener(type: string, listener: () => void): void;
};
declare const location: { readonly hash: string; readonly pathname: string; readonly search: string };
declare const history: { replaceState(data: null, unused: string, url: string): void };
declare const sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };

/**
 * The browser side: takes the token from the fragment, then refreshes forever. `view` is
 * renderStatusView; self-contained like it (it runs from its source text).
 */
export function pageScript(view: (doc: StatusDocument) => StatusView, refreshMs: number): void {
  const KEY = 'psql-streamer-token';
  const byId = (id: string) => document.getElementById(id) as El;
  const fromHash = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem(KEY, decodeURIComponent(fromHash[1] as string));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const shown = new Map<string, string>();
  let summary = '';
  const initial = byId('initial').textContent ?? 'null';
  const first = JSON.parse(initial) as StatusDocument | null;
  if (first !== null) {
    const v = view(first);
    summary = v.summary;
    for (const card of v.cards) shown.set(card.key, card.html);
  }

  const apply = (doc: StatusDocument) => {
    const v = view(doc);
    // A background tab shows trouble in its title.
    document.title = `${doc.healthy ? '' : 'UNHEALTHY - '}psql-streamer status`;
    if (v.summary !== summary) byId('summary').innerHTML = summary = v.summary;
    for (const section of Array.from(document.querySelectorAll('section[data-kind]'))) {
      const grid = section.querySelector('.grid') as El;
      const cards = v.cards.filter((c) => c.key.startsWith(`${section.dataset.kind}:`));
      section.hidden = cards.length === 0;
      const keys = Array.from(grid.children).map((e) => (e).dataset.key).join('\n');
      if (keys !== cards.map((c) => c.key).join('\n')) {
        grid.innerHTML = cards.map((c) => c.html).join('');
        for (const c of cards) shown.set(c.key, c.html);
        continue;
      }
      cards.forEach((c, i) => {
        if (shown.get(c.key) === c.html) return;
        (grid.children[i] as El).outerHTML = c.html;
        shown.set(c.key, c.html);
      });
    }
  };

  const clear = () => {
    byId('summary').innerHTML = summary = '';
    for (const grid of Array.from(document.querySelectorAll('.grid'))) grid.innerHTML = '';
    for (const section of Array.from(document.querySelectorAll('section[data-kind]'))) section.hidden = true;
    shown.clear();
  };

  const note = (text: string, stale: boolean) => {
    const el = byId('note');
    el.textContent = text;
    el.className = stale ? 'stale' : '';
  };

  const askToken = (message: string) => {
    clear();
    byId('login-message').textContent = message;
    byId('login').hidden = false;
    note('', false);
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  /** One request at a time: a refresh asked for meanwhile (tab shown again, token typed) waits its turn. */
  let busy = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    clearTimeout(timer);
    const token = sessionStorage.getItem(KEY);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    /** Without a usable token the page waits for one (the form) instead of asking again. */
    let waitForToken = false;
    try {
      const response = await fetch('status.json', { headers, cache: 'no-store' });
      if (response.status === 401) {
        // Only the token that was refused is dropped (the form may have stored a new one meanwhile).
        if (sessionStorage.getItem(KEY) === token) sessionStorage.removeItem(KEY);
        askToken(token === null ? 'This streamer asks for its HTTP token (httpToken).' : 'The token was refused.');
        waitForToken = true;
      } else {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const doc = (await response.json()) as StatusDocument;
        byId('login').hidden = true;
        apply(doc);
        note(`updated ${new Date().toLocaleTimeString()}`, false);
      }
    } catch (err) {
      note(`no answer from the streamer (${(err as Error).message}); retrying`, true);
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      return refresh();
    }
    if (!waitForToken) timer = setTimeout(() => void refresh(), refreshMs);
  };

  byId('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId('token');
    if (input.value !== '') sessionStorage.setItem(KEY, input.value);
    input.value = '';
    void refresh();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });

  if (first === null && sessionStorage.getItem(KEY) === null && byId('login').dataset.needsToken === 'yes') askToken('This streamer asks for its HTTP token (httpToken).');
  else timer = setTimeout(() => void refresh(), first === null ? 0 : refreshMs);
}
