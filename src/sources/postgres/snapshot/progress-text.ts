/**
 * Snapshot progress as text (docs/snapshots.md, "Operating snapshots"), pure: the periodic log
 * line and the `/status` detail (`progressLine`), the final line of a snapshot (`summaryLine`), and
 * the progress bar the `snapshot` command redraws in a terminal (`progressBar`).
 *
 * The total is an estimate (`pg_class.reltuples` when the table was planned): a finished table
 * counts with the rows it really had, a running one with the larger of its estimate and its rows,
 * so the percentage never passes 100; a table never analyzed (estimate 0) makes the total unknown
 * until it finishes.
 */
import { bar, fit } from '../../../core/progress-bar.ts';
import type { SnapshotInfo, TableProgress } from './types.ts';

/** 1234567 → "1,234,567" (the same on every locale). */
export function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}

/** Seconds as "42s", "3m07s", "2h05m" (whole seconds; rounded). */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}

/** A duration that may be short: "0.4s", "12.3s", else as formatSeconds. */
function formatElapsed(seconds: number): string {
  return seconds < 60 ? `${(Math.round(seconds * 10) / 10).toFixed(1)}s` : formatSeconds(seconds);
}

const finished = (state: TableProgress['state']) => state === 'done' || state === 'cancelled' || state === 'failed';

/** The rows a table is expected to have: what it had once done, else its estimate (never below its rows); undefined when unknown. */
function expectedRows(table: TableProgress): number | undefined {
  if (finished(table.state)) return table.rowsDone;
  if (table.rowsEstimated <= 0) return undefined;
  return Math.max(table.rowsEstimated, table.rowsDone);
}

/** Rows done and expected over the tables (expected undefined when any unfinished table has no estimate). */
function totals(tables: readonly TableProgress[]): { done: number; expected: number | undefined } {
  let done = 0;
  let expected: number | undefined = 0;
  for (const table of tables) {
    done += table.rowsDone;
    const rows = expectedRows(table);
    expected = rows === undefined || expected === undefined ? undefined : expected + rows;
  }
  return { done, expected };
}

/** Whole percent of done/expected: 100 only when nothing is left, 99 at most before. */
function percent(done: number, expected: number, complete: boolean): number {
  if (complete) return 100;
  if (expected <= 0) return 0;
  return Math.min(99, Math.floor((done / expected) * 100));
}

const tablesDone = (info: SnapshotInfo) => info.tables.filter((t) => t.state === 'done').length;
const failedTables = (info: SnapshotInfo) => info.tables.filter((t) => t.state === 'failed');
const isOver = (info: SnapshotInfo) => info.state === 'done' || info.state === 'cancelled' || info.state === 'failed';

/** `412,000/1,000,000 rows (41%)`, or `412,000 rows (total unknown)`. */
function rowsPart(info: SnapshotInfo): string {
  const { done, expected } = totals(info.tables);
  if (expected === undefined) return `${formatCount(done)} rows (total unknown)`;
  return `${formatCount(done)}/${formatCount(expected)} rows (${percent(done, expected, info.state === 'done')}%)`;
}

/** `52,100 rows/s, ETA 11s` (ETA unknown without an estimate or a rate). */
function ratePart(info: SnapshotInfo): string {
  const eta = info.etaSeconds === null ? 'ETA unknown' : `ETA ${formatSeconds(info.etaSeconds)}`;
  return `${formatCount(info.rowsPerSecond)} rows/s, ${eta}`;
}

/**
 * One line of progress: `snapshot initial: 3/5 tables, 412,000/1,000,000 rows (41%), 52,100 rows/s,
 * ETA 11s`; the state follows the id unless running (`snapshot s-1 (pending): ...`); failed tables
 * are counted at the end.
 */
export function progressLine(info: SnapshotInfo): string {
  const state = info.state === 'running' ? '' : ` (${info.state})`;
  let line = `snapshot ${info.id}${state}: ${tablesDone(info)}/${info.tables.length} tables, ${rowsPart(info)}`;
  if (!isOver(info)) line += `, ${ratePart(info)}`;
  const failed = failedTables(info).length;
  if (failed > 0) line += `, ${failed} failed`;
  return line;
}

/** Seconds between two RFC 3339 times, or undefined when either is missing or unreadable. */
function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, ms / 1000) : undefined;
}

/**
 * The final line: `snapshot initial done: 1,000,000 rows from 5 tables in 120 chunks, 19.2s,
 * 52,083 rows/s`; a cancelled or failed snapshot says how far it got and why, and each failed table
 * is named with its error.
 */
export function summaryLine(info: SnapshotInfo): string {
  const chunks = info.tables.reduce((sum, t) => sum + t.chunks, 0);
  // From the tables, as every other figure here.
  const rows = totals(info.tables).done;
  const done = tablesDone(info);
  const tables = info.state === 'done' ? `${info.tables.length} table${info.tables.length === 1 ? '' : 's'}` : `${done}/${info.tables.length} tables`;
  let line = `snapshot ${info.id} ${info.state}: ${formatCount(rows)} row${rows === 1 ? '' : 's'} from ${tables} in ${formatCount(chunks)} chunk${chunks === 1 ? '' : 's'}`;
  const seconds = secondsBetween(info.startedAt, info.finishedAt);
  if (seconds !== undefined) {
    line += `, ${formatElapsed(seconds)}`;
    if (seconds > 0) line += `, ${formatCount(rows / seconds)} rows/s`;
  }
  if (info.where !== undefined) line += `, where ${info.where}`;
  if (info.error !== undefined) line += `: ${info.error}`;
  const failed = failedTables(info);
  if (failed.length > 0) {
    line += `; ${failed.length} table${failed.length === 1 ? '' : 's'} failed: ${failed.map((t) => `${t.table} (${t.error ?? 'no reason given'})`).join(', ')}`;
  }
  return line;
}

/** One bar line before it is drawn: the bar's fill (undefined: unknown), the percent text, what follows. */
interface BarRow {
  label: string;
  fraction: number | undefined;
  pct: string;
  tail: string;
}

/** `label [####....]  41%  tail` per row, the bars of one width: what the longest tail leaves (at least 10 cells). */
function drawBars(rows: readonly BarRow[], labelWidth: number, width: number): string[] {
  const longestTail = Math.max(...rows.map((r) => r.tail.length));
  const cells = Math.max(10, width - labelWidth - longestTail - 10);
  return rows.map(({ label, fraction, pct, tail }) => {
    const drawn = fraction === undefined ? `[${'?'.repeat(cells)}]` : bar(fraction, cells);
    return fit(`${fit(label, labelWidth).padEnd(labelWidth)} ${drawn} ${pct.padStart(4)}  ${tail}`, width);
  });
}

/** The longest table name shown, so the bars line up (names beyond it are cut). */
const MAX_LABEL = 32;

/** At most this many table lines; beyond, only running and failed tables are listed, and a count of the others. */
const MAX_TABLE_LINES = 8;

/**
 * The lines the `snapshot` command redraws in a terminal, each at most `width` columns: one per table
 * (its bar, percent, rows done/expected, state when not running) and an `overall` line with the rate
 * and ETA. With many tables only the running and failed ones get a line, plus a count of the others.
 */
export function progressBar(info: SnapshotInfo, width: number): string {
  const shown = info.tables.length <= MAX_TABLE_LINES
    ? info.tables
    : info.tables.filter((t) => t.state === 'running' || t.state === 'failed').slice(0, MAX_TABLE_LINES);
  const labelWidth = Math.min(MAX_LABEL, Math.max('overall'.length, ...shown.map((t) => t.table.length)));
  const rows: BarRow[] = [];
  for (const table of shown) {
    const expected = expectedRows(table);
    const complete = table.state === 'done';
    const fraction = complete ? 1 : expected === undefined ? undefined : expected === 0 ? 0 : table.rowsDone / expected;
    const pct = expected === undefined && !complete ? '?%' : `${percent(table.rowsDone, expected ?? 0, complete)}%`;
    const count = expected === undefined ? `${formatCount(table.rowsDone)}/?` : `${formatCount(table.rowsDone)}/${formatCount(expected)}`;
    rows.push({ label: table.table, fraction, pct, tail: `${count}${table.state === 'running' ? '' : `  ${table.state}`}` });
  }
  const { done, expected } = totals(info.tables);
  const complete = info.state === 'done';
  const fraction = complete ? 1 : expected === undefined ? undefined : expected === 0 ? 0 : done / expected;
  const pct = expected === undefined && !complete ? '?%' : `${percent(done, expected ?? 0, complete)}%`;
  const total = `${formatCount(done)}/${expected === undefined ? '?' : formatCount(expected)} rows`;
  const tail = isOver(info) ? `${total}  ${info.state}` : `${total}  ${formatCount(info.rowsPerSecond)} rows/s  ${info.etaSeconds === null ? 'ETA ?' : `ETA ${formatSeconds(info.etaSeconds)}`}`;
  rows.push({ label: 'overall', fraction, pct, tail });
  const lines = drawBars(rows, labelWidth, width);
  const hidden = info.tables.length - shown.length;
  if (hidden > 0) {
    const count = (state: TableProgress['state']) => info.tables.filter((t) => t.state === state && !shown.includes(t)).length;
    const parts = (['done', 'pending', 'cancelled'] as const).map((s) => [s, count(s)] as const).filter(([, n]) => n > 0);
    lines.splice(lines.length - 1, 0, fit(`${' '.repeat(labelWidth)} (${parts.map(([s, n]) => `${n} ${s}`).join(', ')}; ${hidden} more tables not shown)`, width));
  }
  return lines.join('\n');
}
