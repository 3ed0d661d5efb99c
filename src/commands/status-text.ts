/**
 * `psql-streamer status` as text (pure): the status document of a running streamer
 * (src/http/status-model.ts, the one the status page shows) as a compact table, one row per
 * source, pipeline and sink, then each reason and snapshot on its own line; and the exit code it
 * means (docs/operations.md, "Status page and `status` command").
 */
import { describeSize } from '../config/size.ts';
import { EXIT_OK, EXIT_RUNTIME } from '../core/exit-codes.ts';
import type { ComponentStatus, StatusDocument } from '../http/status-model.ts';
import { formatCount, formatSeconds } from '../sources/postgres/snapshot/progress-text.ts';

const STATES: Record<ComponentStatus['state'], string> = { ok: 'OK', warning: 'WARNING', connecting: 'CONNECTING', failing: 'FAILING' };

/** 0 when every component is OK and nothing halts the process; 1 otherwise (a warning included). */
export function statusExitCode(doc: StatusDocument): number {
  return doc.halted === null && doc.components.every((c) => c.state === 'ok') ? EXIT_OK : EXIT_RUNTIME;
}

const dash = '-';

/** Events per second: one decimal below 10. */
function rate(perSecond: number | null): string {
  if (perSecond === null) return dash;
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(perSecond);
}

/** Lag: bytes behind (PostgreSQL) or messages (Kafka). */
function lag(c: ComponentStatus): string {
  if (c.lagBytes !== null) return describeSize(c.lagBytes);
  if (c.lagMessages !== null) return `${formatCount(c.lagMessages)} msgs`;
  return dash;
}

function slot(c: ComponentStatus): string {
  if (c.slot === null) return dash;
  const retained = c.slot.retainedBytes === null ? '' : `${describeSize(c.slot.retainedBytes)} `;
  return `${retained}${c.slot.walStatus ?? 'unknown'}`;
}

/** What a pipeline holds, or where a source delivered up to. */
function position(c: ComponentStatus): string {
  if (c.buffered !== null) return `buffered ${formatCount(c.buffered.events)}`;
  return c.delivered ?? dash;
}

/** Whole seconds as "3d04h", "2h05m", "3m07s", "42s". */
export function formatUptime(seconds: number): string {
  if (seconds < 86_400) return formatSeconds(seconds);
  const days = Math.floor(seconds / 86_400);
  return `${days}d${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** Rows padded to each column's widest cell (the last column unpadded). */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** The whole report: a headline, the table, then reasons and snapshots. */
export function renderStatusText(doc: StatusDocument): string {
  const notOk = doc.components.filter((c) => c.state !== 'ok').length;
  const verdict = statusExitCode(doc) === EXIT_OK ? 'all OK' : doc.healthy ? `${notOk} warning(s)` : 'UNHEALTHY';
  let text = `${doc.version}, up ${formatUptime(doc.uptimeSeconds)}: ${verdict}\n`;
  if (doc.halted !== null) text += `stopping: ${doc.halted}\n`;
  const rows = [['COMPONENT', 'STATE', 'EVENTS/S', 'LAG', 'BEHIND', 'SLOT', 'DELIVERED']];
  for (const c of doc.components) {
    rows.push([`${c.type} ${c.name}`, STATES[c.state] ?? c.state, rate(c.eventsPerSecond), lag(c),
      c.lagSeconds === null ? dash : `${c.lagSeconds.toFixed(1)}s`, slot(c), position(c)]);
  }
  text += `${table(rows)}\n`;
  for (const c of doc.components) if (c.reason !== null) text += `${c.type} ${c.name}: ${c.reason}\n`;
  for (const c of doc.components) {
    for (const s of c.snapshots) {
      const rows = s.rowsExpected === null ? `${formatCount(s.rowsDone)} rows` : `${formatCount(s.rowsDone)}/${formatCount(s.rowsExpected)} rows`;
      const percent = s.percent === null ? '' : ` ${s.percent}%`;
      const pace = s.state === 'running' ? `, ${formatCount(s.rowsPerSecond)} rows/s, ETA ${s.etaSeconds === null ? 'unknown' : formatSeconds(s.etaSeconds)}` : '';
      text += `snapshot ${c.name}/${s.id} ${s.state}${percent}: ${s.tablesDone}/${s.tables} tables, ${rows}${pace}${s.error === undefined ? '' : `: ${s.error}`}\n`;
    }
  }
  return text;
}

/** The answer, when it looks like a status document (format 1). */
export function asStatusDocument(body: unknown): StatusDocument | undefined {
  const doc = body as Partial<StatusDocument> | null;
  if (doc === null || typeof doc !== 'object' || doc.format !== 1 || !Array.isArray(doc.components)) return undefined;
  return doc as StatusDocument;
}
