/**
 * Parses one TOML table against a SectionSpec: matches keys case-insensitively (names and aliases),
 * rejects unknown keys with a suggestion, warns about keys kept only for compatibility, applies
 * defaults, enforces `required` and `check`. Pure; reports findings with the raw key path so the
 * caller can locate them in the text.
 */
import { coerceValue, describeValue, type Env } from './coerce.ts';
import type { AnyFieldSpec, SectionSpec } from './fields.ts';
import { closest } from '../core/suggest.ts';

/** A problem before it is located: `raw` is the key path as written, `shown` as reported. */
export interface Finding {
  raw: string[];
  shown: string[];
  message: string;
}

/** Where a section is: its path as written in the file and as reported. */
export interface SectionPlace {
  raw: string[];
  shown: string[];
}

export interface SectionInput {
  spec: SectionSpec;
  table: Record<string, unknown>;
  place: SectionPlace;
  env: Env;
  /** Keys the original accepted and ignored: a warning, not an error. */
  ignoredKeys?: readonly string[];
  /** Keys the caller handles itself (e.g. `type`): neither parsed nor reported. */
  reservedKeys?: readonly string[];
}

export interface SectionResult {
  /** Values by canonical key; keys without value and default are absent. */
  values: Record<string, unknown>;
  /** Canonical key → key as written, for keys present in the table. */
  written: Map<string, string>;
  errors: Finding[];
  warnings: Finding[];
}

function expectedRequired(spec: AnyFieldSpec): string {
  return `required key is missing: ${spec.doc.charAt(0).toLowerCase()}${spec.doc.slice(1)}`;
}

function isEmpty(value: unknown): boolean {
  return value === '' || (Array.isArray(value) && value.length === 0);
}

function shownValue(raw: unknown, spec: AnyFieldSpec): string {
  return spec.secret ? 'the value given' : describeValue(raw);
}

/** Parses `input.table` against `input.spec`; every problem is reported, none thrown. */
export function parseSection(input: SectionInput): SectionResult {
  const { spec, table, place, env } = input;
  const result: SectionResult = { values: {}, written: new Map(), errors: [], warnings: [] };
  const at = (key: string, shownKey: string, message: string): Finding => ({
    raw: [...place.raw, key],
    shown: [...place.shown, shownKey],
    message,
  });

  const byLowerName = new Map<string, string>();
  for (const [name, field] of Object.entries(spec)) {
    for (const spelling of [name, ...(field.aliases ?? [])]) byLowerName.set(spelling.toLowerCase(), name);
  }
  const reserved = new Set((input.reservedKeys ?? []).map((k) => k.toLowerCase()));
  const ignored = new Map((input.ignoredKeys ?? []).map((k) => [k.toLowerCase(), k]));

  for (const key of Object.keys(table)) {
    const lower = key.toLowerCase();
    if (reserved.has(lower)) continue;
    const name = byLowerName.get(lower);
    if (name === undefined) {
      const ignoredName = ignored.get(lower);
      if (ignoredName !== undefined) {
        result.warnings.push(at(key, ignoredName, 'ignored: the original psql-streamer accepted this key without using it; remove it'));
        continue;
      }
      const known = [...Object.keys(spec), ...(input.reservedKeys ?? [])];
      const suggestion = closest(key, [...known, ...Object.values(spec).flatMap((f) => f.aliases ?? [])]);
      const hint = suggestion !== undefined ? `; did you mean "${suggestion}"?` : `; known keys: ${known.join(', ')}`;
      result.errors.push(at(key, key, `unknown key${hint}`));
      continue;
    }
    const earlier = result.written.get(name);
    if (earlier !== undefined) {
      result.errors.push(at(key, name, `set twice, as "${earlier}" and as "${key}" (keys are case-insensitive and aliases count as the same key); keep one`));
      continue;
    }
    result.written.set(name, key);
  }

  for (const [name, field] of Object.entries(spec)) {
    const key = result.written.get(name);
    if (key === undefined) {
      if (field.required) result.errors.push(at(name, name, expectedRequired(field)));
      else if (field.default !== undefined) result.values[name] = structuredClone(field.default);
      continue;
    }
    const raw = table[key];
    const coerced = coerceValue(field, raw, env);
    if (!coerced.ok) {
      result.errors.push(at(key, name, coerced.message));
      continue;
    }
    const value = coerced.value;
    if (field.required && isEmpty(value)) {
      result.errors.push(at(key, name, Array.isArray(value) ? 'expected at least one entry, found an empty list' : 'expected a non-empty value, found ""'));
      continue;
    }
    const expected = (field.check as ((v: unknown) => string | undefined) | undefined)?.(value);
    if (expected !== undefined) {
      result.errors.push(at(key, name, `expected ${expected}, found ${shownValue(raw, field)}`));
      continue;
    }
    result.values[name] = value;
  }
  return result;
}
