/**
 * The status page (`GET /` and `/ui`): one HTML document with inline CSS and script, no build step
 * and nothing fetched from elsewhere, so it works from the single binary and the scratch image.
 * The server renders the first paint (status-view.ts) when the request may read the status; the
 * script then fetches `status.json` every few seconds and replaces only the cards that changed.
 *
 * With a token (`httpAuth = "all"`), a browser cannot send the bearer header when it navigates: the
 * page is served without any status, and its script takes the token from the address's fragment
 * (`/#token=...`, which browsers never send to a server) or from a form, keeps it in the tab's
 * sessionStorage, and sends it as `Authorization: Bearer` (docs/operations.md, "Status page and
 * `status` command").
 */
import type { StatusDocument } from './status-model.ts';
import { pageScript } from './status-script.ts';
import { renderStatusView } from './status-view.ts';

export interface PageOptions {
  /** The status to paint at once, or null when the request did not carry the token. */
  doc: StatusDocument | null;
  /** A fresh random value per response: the Content-Security-Policy allows only scripts and styles carrying it. */
  nonce: string;
  /** Pause between refreshes. */
  refreshMs: number;
}

const KINDS = [['source', 'Sources'], ['pipeline', 'Pipelines'], ['sink', 'Sinks']] as const;

/** The page's Content-Security-Policy: inline code only with this response's nonce, requests only to this origin. */
export function pagePolicy(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; style-src-attr 'unsafe-inline'; connect-src 'self'; img-src data:; ` +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#5b6475;--line:#dde1e8;--ok:#1f8a4c;--warn:#b7791f;--bad:#c53030;--conn:#2b6cb0}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--card:#1d2129;--fg:#e6e8ec;--muted:#9aa3b2;--line:#2e3440}}
*{box-sizing:border-box}body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
.top{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:baseline;padding:.8rem 1rem;border-bottom:1px solid var(--line);background:var(--card)}
.top h1{font-size:1.1rem;margin:0}#summary{display:contents}#note{color:var(--muted);font-size:.85rem;margin-left:auto}#note.stale{color:var(--bad)}
.health{font-weight:600}.health.ok{color:var(--ok)}.health.failing{color:var(--bad)}
main{padding:.5rem 1rem 2rem;max-width:1400px;margin:0 auto}h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:1.2rem 0 .5rem}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,340px),1fr));gap:0 1rem;align-items:start}.grid{display:grid;gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:8px;padding:.7rem .8rem;min-width:0}
.card.warning{border-left-color:var(--warn)}.card.failing{border-left-color:var(--bad)}.card.connecting{border-left-color:var(--conn)}
.card header{display:flex;align-items:center;gap:.4rem;flex-wrap:wrap}.type{color:var(--muted);font-size:.85rem}.name{font-weight:600;overflow-wrap:anywhere}
.badge{margin-left:auto;font-size:.72rem;font-weight:700;padding:.1rem .45rem;border-radius:99px;color:#fff;background:var(--ok)}
.warning .badge{background:var(--warn)}.failing .badge{background:var(--bad)}.connecting .badge{background:var(--conn)}
.dot{display:none}.endpoint{color:var(--muted);font-size:.82rem;overflow-wrap:anywhere;margin:.15rem 0}
.reason{margin:.4rem 0;padding:.35rem .5rem;border-radius:5px;font-size:.85rem;overflow-wrap:anywhere;background:color-mix(in srgb,var(--bad) 12%,transparent)}
.warning .reason{background:color-mix(in srgb,var(--warn) 14%,transparent)}.connecting .reason{background:color-mix(in srgb,var(--conn) 12%,transparent)}
.halted{flex-basis:100%}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:.3rem .8rem;margin:.5rem 0 0}.fact{min-width:0}
dt{font-size:.72rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}dd{margin:0;font-variant-numeric:tabular-nums;font-weight:500;overflow-wrap:anywhere}
.snapshot{margin-top:.6rem;font-size:.85rem}.snapline{color:var(--muted)}
.bar{height:8px;border-radius:4px;background:var(--line);overflow:hidden;margin:.25rem 0}.bar span{display:block;height:100%;background:var(--conn);transition:width .6s ease}
.snapshot.done .bar span{background:var(--ok)}.snapshot.failed .bar span{background:var(--bad)}
#login{max-width:420px;margin:2rem auto;padding:1rem;background:var(--card);border:1px solid var(--line);border-radius:8px}
#login input{width:100%;padding:.5rem;margin:.4rem 0;font:inherit}#login button{padding:.45rem 1rem;font:inherit}
[hidden]{display:none!important}
`;

/** JSON inside a `<script>` element: `<` escaped so no text can close the element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** The whole page. */
export function renderPage(options: PageOptions): string {
  const { doc, nonce } = options;
  const view = doc === null ? null : renderStatusView(doc);
  const sections = KINDS.map(([kind, title]) => {
    const cards = view?.cards.filter((c) => c.key.startsWith(`${kind}:`)) ?? [];
    return `<section data-kind="${kind}"${cards.length === 0 ? ' hidden' : ''}><h2>${title}</h2><div class="grid">${cards.map((c) => c.html).join('')}</div></section>`;
  }).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>psql-streamer status</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head><body>
<div class="top"><h1>psql-streamer</h1><span id="summary">${view?.summary ?? ''}</span><span id="note"></span></div>
<main>
<form id="login" hidden data-needs-token="${doc === null ? 'yes' : 'no'}"><p id="login-message"></p>
<label for="token">HTTP token</label><input id="token" type="password" autocomplete="current-password"><button type="submit">Show status</button>
<p><small>Kept in this tab only (sessionStorage). A link may carry it as <code>/#token=…</code>.</small></p></form>
<div class="columns">${sections}</div>
</main>
<script type="application/json" id="initial">${scriptJson(doc)}</script>
<script nonce="${nonce}">(${pageScript.toString()})(${renderStatusView.toString()}, ${Math.max(500, options.refreshMs)});</script>
</body></html>
`;
}
