/**
 * JSON text of Debezium records (docs/debezium.md): bigint with every digit, RawJson verbatim,
 * -0 kept as -0.0 (as Jackson writes a negative zero double). Pure.
 */
import { RawJson } from '../event.ts';
import type { DbzValue } from './values.ts';

export function debeziumJson(v: DbzValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'bigint': return v.toString();
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (Object.is(v, -0)) return '-0.0';
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  }
  if (v instanceof RawJson) return v.json;
  if (Array.isArray(v)) return '[' + v.map(debeziumJson).join(',') + ']';
  const obj = v as { readonly [key: string]: DbzValue };
  return '{' + Object.keys(obj).map((k) => JSON.stringify(k) + ':' + debeziumJson(obj[k]!)).join(',') + '}';
}
