/**
 * The status document (status-model.ts) as HTML cards, one per source, pipeline and sink. The same
 * function renders the first paint on the server and every refresh in the browser: the page
 * (status-page.ts) embeds its source text (`renderStatusView.toString()`), so it must stay
 * self-contained: no imports, no module-level names, only what a browser and Bun both have.
 * Every text from the document is escaped.
 */
import type { StatusDocument } from './status-model.ts';

/** What the page shows of `doc`. */
export interface StatusView {
  /** The line above the cards: health, version, uptime, and why the process stops if it does. */
  summary: string;
  /** One card per component, keyed `kind:name`, in document order. */
  cards: { key: string; html: string }[];
}

/** The page's HTML for `doc` (self-contained: see the header). */
export function renderStatusView(doc: StatusDocument): StatusView {
  const esc = (value: unknown): string =>
    String(value).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
  const count = (n: number): string => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const bytes = (n: number): string => {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = n;
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
  };
  const seconds = (s: number): string => {
    if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    const whole = Math.round(s);
    if (whole < 3600) return `${Math.floor(whole / 60)}m ${whole % 60}s`;
    return `${Math.floor(whole / 3600)}h ${Math.floor((whole % 3600) / 60)}m`;
  };
  const rate = (r: number): string => (r < 10 ? r.toFixed(1) : count(r));
  const labels: Record<string, string> = { ok: 'OK', warning: 'WARNING', connecting: 'CONNECTING', failing: 'FAILING' };
  const fact = (name: string, value: string, field: string): string =>
    `<div class="fact"><dt>${esc(name)}</dt><dd data-field="${esc(field)}">${esc(value)}</dd></div>`;

  const up = doc.uptimeSeconds;
  const uptime = up < 3600 ? `${Math.floor(up / 60)}m ${up % 60}s`
    : up < 86400 ? `${Math.floor(up / 3600)}h ${Math.floor((up % 3600) / 60)}m` : `${Math.floor(up / 86400)}d ${Math.floor((up % 86400) / 3600)}h`;
  const notOk = doc.components.filter((c) => c.state === 'failing' || c.state === 'connecting').length;
  const health = doc.healthy ? 'healthy' : `unhealthy${notOk > 0 ? ` (${notOk} not OK)` : ''}`;
  const summary = `<span class="health ${doc.healthy ? 'ok' : 'failing'}" data-field="health">${esc(health)}</span>` +
    `<span data-field="version">${esc(doc.version)}</span><span>up <b data-field="uptime">${esc(uptime)}</b></span>` +
    `${doc.halted === null ? '' : `<div class="reason halted" data-field="halted">stopping: ${esc(doc.halted)}</div>`}`;

  const cards = doc.components.map((c) => {
    const facts: string[] = [];
    if (c.eventsPerSecond !== null) facts.push(fact('events/s', rate(c.eventsPerSecond), 'events-per-second'));
    if (c.events !== null) facts.push(fact(c.kind === 'source' ? 'events' : 'delivered events', count(c.events), 'events'));
    if (c.lagBytes !== null) facts.push(fact('lag', bytes(c.lagBytes), 'lag-bytes'));
    if (c.lagSeconds !== null) facts.push(fact('behind', seconds(c.lagSeconds), 'lag-seconds'));
    if (c.lagMessages !== null) facts.push(fact('lag (messages)', count(c.lagMessages), 'lag-messages'));
    if (c.slot !== null) {
      if (c.slot.retainedBytes !== null) facts.push(fact('slot retains', bytes(c.slot.retainedBytes), 'slot-retained'));
      facts.push(fact('wal_status', c.slot.walStatus ?? 'unknown', 'wal-status'));
      if (c.slot.safeWalSizeBytes !== null) facts.push(fact('safe_wal_size', bytes(c.slot.safeWalSizeBytes), 'safe-wal-size'));
    }
    if (c.buffered !== null) facts.push(fact('buffered', `${count(c.buffered.events)} (${bytes(c.buffered.bytes)})`, 'buffered'));
    if (c.retries !== null) facts.push(fact('retries', count(c.retries), 'retries'));
    if (c.delivered !== null) facts.push(fact('delivered up to', c.delivered, 'delivered'));

    const snapshots = c.snapshots.map((s) => {
      const total = s.rowsExpected === null ? `${count(s.rowsDone)} rows (total unknown)` : `${count(s.rowsDone)}/${count(s.rowsExpected)} rows`;
      const running = s.state === 'running' || s.state === 'pending';
      const pace = running ? `, ${count(s.rowsPerSecond)} rows/s, ETA ${s.etaSeconds === null ? 'unknown' : seconds(s.etaSeconds)}` : '';
      const width = s.percent === null ? 0 : s.percent;
      const bar = `<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"${s.percent === null ? '' : ` aria-valuenow="${width}"`}><span style="width:${width}%"></span></div>`;
      return `<div class="snapshot ${esc(s.state)}" data-snapshot="${esc(s.id)}">` +
        `<div class="snaphead">snapshot ${esc(s.id)} <b>${esc(s.state)}</b>${s.percent === null ? '' : ` ${s.percent}%`}</div>${bar}` +
        `<div class="snapline">${s.tablesDone}/${s.tables} tables, ${esc(total)}${esc(pace)}</div>` +
        `${s.error === undefined ? '' : `<div class="reason">${esc(s.error)}</div>`}</div>`;
    }).join('');

    const html = `<header><span class="dot"></span><span class="type">${esc(c.type)}</span> <span class="name">${esc(c.name)}</span>` +
      `<span class="badge" data-field="state">${labels[c.state] ?? esc(c.state)}</span></header>` +
      `${c.endpoint === null ? '' : `<div class="endpoint" data-field="endpoint">${esc(c.endpoint)}</div>`}` +
      `${c.reason === null ? '' : `<div class="reason" data-field="reason">${esc(c.reason)}</div>`}` +
      `${facts.length === 0 ? '' : `<dl>${facts.join('')}</dl>`}${snapshots}`;
    return { key: `${c.kind}:${c.name}`, html: `<article class="card ${esc(c.state)}" data-key="${esc(`${c.kind}:${c.name}`)}" data-state="${esc(c.state)}">${html}</article>` };
  });
  return { summary, cards };
}
