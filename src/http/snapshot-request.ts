/**
 * The body of `POST /sources/{source}/snapshots` (docs/snapshots.md, "Operating snapshots"),
 * checked before the snapshot service sees it: a JSON object with `tables` (non-empty array of
 * non-empty strings) and an optional `where` (a non-empty string), nothing else. Each mistake gets
 * a message that says what was expected. Pure; whether the tables exist is the service's answer.
 */
import { didYouMean } from '../core/suggest.ts';
import type { SnapshotRequest } from '../sources/postgres/snapshot/types.ts';

const FIELDS = ['tables', 'where'] as const;

const EXAMPLE = '{"tables": ["public.orders"], "where": "created_at > now() - interval \'1 day\'"}';

export type ParsedRequest = { ok: true; request: SnapshotRequest } | { ok: false; message: string };

/** A JSON value named for a message: `42`, `null`, `an array`, `an object`, `"x"`. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const fail = (message: string): ParsedRequest => ({ ok: false, message });

/** Checks the request body text. */
export function parseSnapshotRequest(body: string): ParsedRequest {
  if (body.trim() === '') return fail(`the body is empty: send a JSON object such as ${EXAMPLE}`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return fail(`the body is not JSON (${(err as Error).message}): send a JSON object such as ${EXAMPLE}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`the body must be a JSON object such as ${EXAMPLE}, not ${describe(value)}`);
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      return fail(`unknown field "${key}" (the fields are "tables" and "where")${didYouMean(key, FIELDS)}`);
    }
  }
  const tables = fields.tables;
  if (tables === undefined) return fail(`"tables" is missing: name the tables to copy, e.g. ${EXAMPLE}`);
  if (!Array.isArray(tables)) return fail(`"tables" must be an array of table names ("schema.table" or "table"), not ${describe(tables)}`);
  if (tables.length === 0) return fail('"tables" is empty: name at least one table ("schema.table" or "table")');
  const seen = new Set<string>();
  for (const [i, table] of tables.entries()) {
    if (typeof table !== 'string' || table.trim() === '') {
      return fail(`"tables"[${i}] must be a table name ("schema.table" or "table"), not ${describe(table)}`);
    }
    if (seen.has(table)) return fail(`"tables" names ${table} twice`);
    seen.add(table);
  }
  const where = fields.where;
  if (where !== undefined && typeof where !== 'string') {
    return fail(`"where" must be a string (an SQL condition on the table's columns, without WHERE), not ${describe(where)}`);
  }
  if (where !== undefined && where.trim() === '') return fail('"where" is empty: leave it out to copy every row');
  return { ok: true, request: where === undefined ? { tables: [...tables] } : { tables: [...tables], where } };
}
