/**
 * Turns one raw TOML value into the type its FieldSpec declares, as leniently as the original's
 * viper did where that is unambiguous (numeric strings for ints, a whitespace-separated string for
 * a list) and strictly where it was not (bare numbers for durations). `${ENV}` is expanded in every
 * string first. Pure.
 */
import { parseDuration } from './duration.ts';
import { interpolate } from './env.ts';
import type { AnyFieldSpec, FieldKind, FieldSpec, FieldValueByKind } from './fields.ts';
import { parseSize } from './size.ts';
import { didYouMean } from '../core/suggest.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export type Coerced<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Coerced<T> => ({ ok: true, value });
const fail = (message: string): Coerced<never> => ({ ok: false, message });

/** A TOML table (smol-toml builds them with a null prototype), not an array or a date. */
function isTable(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype;
}

/** How a raw value is shown in "found ..." (secrets are not echoed). */
export function describeValue(value: unknown, secret = false): string {
  if (Array.isArray(value)) {
    const scalars = value.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean');
    const text = scalars && !secret ? `[${value.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ')}]` : '';
    return text !== '' && text.length <= 80 ? text : 'an array';
  }
  if (isTable(value)) return 'a table';
  if (value instanceof Date) return 'a date';
  if (secret) return `a ${typeof value === 'string' ? 'string' : typeof value} (value hidden)`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** A scalar as a string (viper read numbers and booleans given for string keys as their text). */
function toText(value: unknown, env: Env, secret: boolean): Coerced<string> {
  if (typeof value === 'string') {
    const expanded = interpolate(value, env);
    return expanded.ok ? ok(expanded.value) : fail(expanded.reason);
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return ok(String(value));
  return fail(`expected a string, found ${describeValue(value, secret)}`);
}

/** A file name: a string only. A number or boolean would name a file after its text ("Infinity", "true"). */
function toPath(value: unknown, env: Env, secret: boolean): Coerced<string> {
  if (typeof value === 'string') return toText(value, env, secret);
  return fail(`expected a file path as a quoted string, found ${describeValue(value, secret)}`);
}

function pickChoice(text: string, choices: readonly string[] | undefined): Coerced<string> {
  if (choices === undefined) return ok(text);
  const match = choices.find((c) => c.toLowerCase() === text.toLowerCase());
  if (match !== undefined) return ok(match);
  const list = choices.map((c) => JSON.stringify(c)).join(', ');
  return fail(`expected one of ${list}, found ${JSON.stringify(text)}${didYouMean(text, choices)}`);
}

const INTEGER = /^[+-]?\d+$/;

function toInt(value: unknown, env: Env): Coerced<number> {
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? ok(Number(value)) : fail(`expected an integer of at most 2^53, found ${value}`);
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? ok(value) : fail(`expected an integer, found ${value}`);
  if (typeof value === 'string') {
    const text = toText(value, env, false);
    if (!text.ok) return text;
    const trimmed = text.value.trim();
    if (INTEGER.test(trimmed) && Number.isSafeInteger(Number(trimmed))) return ok(Number(trimmed));
    return fail(`expected an integer, found ${JSON.stringify(text.value)}`);
  }
  return fail(`expected an integer, found ${describeValue(value)}`);
}

const TRUE = new Set(['true', 't', '1']);
const FALSE = new Set(['false', 'f', '0']);

function toBool(value: unknown, env: Env): Coerced<boolean> {
  if (typeof value === 'boolean') return ok(value);
  if (value === 0 || value === 0n) return ok(false);
  if (value === 1 || value === 1n) return ok(true);
  if (typeof value === 'string') {
    const text = toText(value, env, false);
    if (!text.ok) return text;
    const lower = text.value.trim().toLowerCase();
    if (TRUE.has(lower)) return ok(true);
    if (FALSE.has(lower)) return ok(false);
    return fail(`expected true or false, found ${JSON.stringify(text.value)}`);
  }
  return fail(`expected true or false, found ${describeValue(value)}`);
}

function toDuration(value: unknown, env: Env): Coerced<number> {
  if (value === 0 || value === 0n) return ok(0);
  if (typeof value === 'number' || typeof value === 'bigint') {
    return fail(`expected a duration string such as "${value}s", found the bare number ${value}; a bare number is ambiguous (the original read it as nanoseconds)`);
  }
  const text = toText(value, env, false);
  if (!text.ok) return fail(`expected a duration string such as "2s", found ${describeValue(value)}`);
  const parsed = parseDuration(text.value);
  return parsed.ok ? ok(parsed.ms) : fail(parsed.reason);
}

function toSize(value: unknown, env: Env): Coerced<number> {
  if (typeof value === 'number' || typeof value === 'bigint') return toInt(value, env);
  const text = toText(value, env, false);
  if (!text.ok) return fail(`expected a number of bytes or a size such as "64MiB", found ${describeValue(value)}`);
  const parsed = parseSize(text.value);
  return parsed.ok ? ok(parsed.bytes) : fail(parsed.reason);
}

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = 2n ** 64n - 1n;

function toLsn(value: unknown, env: Env): Coerced<bigint> {
  const expected = 'expected an LSN as a decimal integer or as "X/Y" (e.g. "16/B374D848")';
  let lsn: bigint;
  if (typeof value === 'bigint') lsn = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) lsn = BigInt(value);
  else if (typeof value === 'string') {
    const text = toText(value, env, false);
    if (!text.ok) return text;
    const trimmed = text.value.trim();
    const pair = LSN_TEXT.exec(trimmed);
    if (pair) lsn = (BigInt('0x' + pair[1]) << 32n) | BigInt('0x' + pair[2]);
    else if (INTEGER.test(trimmed)) lsn = BigInt(trimmed);
    else return fail(`${expected}, found ${JSON.stringify(text.value)}`);
  } else return fail(`${expected}, found ${describeValue(value)}`);
  return lsn > MAX_LSN ? fail(`expected an LSN below 2^64, found ${lsn}`) : ok(lsn);
}

function toStringList(value: unknown, env: Env, spec: Pick<FieldSpec, 'choices' | 'unique'>): Coerced<string[]> {
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (typeof value === 'string') {
    // viper's GetStringSlice split a single string on whitespace; kept for old files.
    const text = toText(value, env, false);
    if (!text.ok) return text;
    items = text.value.split(/\s+/).filter((s) => s !== '');
  } else return fail(`expected an array of strings such as ["a", "b"], found ${describeValue(value)}`);
  const out: string[] = [];
  for (const [index, item] of items.entries()) {
    const text = typeof item === 'string' || typeof item === 'number' || typeof item === 'bigint' ? toText(item, env, false) : fail(`expected a string, found ${describeValue(item)}`);
    const chosen = text.ok ? pickChoice(text.value, spec.choices) : text;
    if (!chosen.ok) return fail(`entry ${index + 1}: ${chosen.message}`);
    if (spec.unique && out.includes(chosen.value)) return fail(`${JSON.stringify(chosen.value)} is listed twice; list each entry once`);
    out.push(chosen.value);
  }
  return ok(out);
}

function toStringMap(value: unknown, env: Env, secret: boolean): Coerced<Record<string, string>> {
  if (!isTable(value)) return fail(`expected a table of strings such as { table1 = "topic1" }, found ${describeValue(value, secret)}`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const text = typeof item === 'string' ? toText(item, env, secret) : fail(`expected a string, found ${describeValue(item, secret)}`);
    if (!text.ok) return fail(`${JSON.stringify(key)}: ${text.message}`);
    out[key] = text.value;
  }
  return ok(out);
}

/** Coerces `value` to the type of `spec.kind`; the failure message says what was found and expected. */
export function coerceValue(spec: AnyFieldSpec, value: unknown, env: Env): Coerced<FieldValueByKind[FieldKind]> {
  const kind: FieldKind = spec.kind;
  const secret = spec.secret === true;
  let result: Coerced<unknown>;
  switch (kind) {
    case 'string': {
      const text = toText(value, env, secret);
      result = text.ok ? pickChoice(text.value, spec.choices) : text;
      break;
    }
    case 'path': result = toPath(value, env, secret); break;
    case 'int': result = toInt(value, env); break;
    case 'bool': result = toBool(value, env); break;
    case 'duration': result = toDuration(value, env); break;
    case 'size': result = toSize(value, env); break;
    case 'lsn': result = toLsn(value, env); break;
    case 'stringList': result = toStringList(value, env, spec); break;
    case 'stringMap': result = toStringMap(value, env, secret); break;
  }
  return result as Coerced<FieldValueByKind[FieldKind]>;
}

export { isTable };
