/**
 * TypeRegistry: which converter turns a column's text into its event value, by type OID. Built-in
 * types are known from the generated table; user-defined types (domains, enums, composites,
 * ranges, arrays of them, extension types) are taught with `define`, from the catalog rows of
 * lookup.ts. Converters never throw: a value that does not parse is reported and kept as text.
 */
import type { ColumnType, ColumnValue } from '../event/event.ts';
import { makeArray } from './array.ts';
import { BUILTIN_CONVERSIONS, BUILTIN_TYPE_BY_OID } from './builtin.ts';
import { asText, type Converter, type Fail } from './converter.ts';

export type { Converter } from './converter.ts';

/** What the catalog says about a type (pg_type), as far as conversion needs it. */
export interface TypeInfo {
  oid: number;
  /** Display name, for logs (e.g. `public.mood`, `mood[]`). */
  name: string;
  kind: 'base' | 'domain' | 'enum' | 'composite' | 'range' | 'multirange' | 'pseudo';
  /** Domains: the type the domain is based on (typbasetype). */
  baseOid?: number;
  /** Array types: the element type. */
  elemOid?: number;
  /** Array types: the delimiter between elements in the literal (the element's typdelim); ',' if absent. */
  delimiter?: string;
}

/** Options of a TypeRegistry. */
export interface TypeRegistryOptions {
  /** Called for every value that does not parse as its type prints; the value is then its text. */
  onProblem?(oid: number, text: string, why: string): void;
}

// Domains over domains over arrays of domains…: far deeper than any real schema, and a guard
// against a cycle in bad catalog data.
const MAX_NESTING = 32;

/** Converters by type OID: built in, taught by `define`, or text for types it does not know. */
export class TypeRegistry {
  readonly #onProblem: ((oid: number, text: string, why: string) => void) | undefined;
  readonly #defined = new Map<number, TypeInfo>();
  readonly #cache = new Map<number, Converter>();

  constructor(options: TypeRegistryOptions = {}) {
    this.#onProblem = options.onProblem;
  }

  /** The converter of a type; text for a type neither built in nor defined. */
  converter(oid: number): Converter {
    return this.#cached(oid, 0);
  }

  /** Teaches a user-defined type. Built-in OIDs keep their built-in conversion. */
  define(info: TypeInfo): void {
    if (BUILTIN_TYPE_BY_OID.has(info.oid)) return;
    this.#defined.set(info.oid, { ...info });
    // Converters built before may have treated this type (as a domain base or an array element)
    // as text; rebuild on the next request. Converters already handed out keep working as they were.
    this.#cache.clear();
  }

  /** True when the type, or a type it is built on (domain base, array element), is not known yet. */
  needsLookup(oid: number): boolean {
    for (let depth = 0; depth < MAX_NESTING; depth++) {
      if (BUILTIN_TYPE_BY_OID.has(oid)) return false;
      const info = this.#defined.get(oid);
      if (info === undefined) return true;
      const next = info.kind === 'domain' ? info.baseOid : info.elemOid;
      if (next === undefined || next === 0) return false;
      oid = next;
    }
    return false;
  }

  /**
   * A column's type for encoders that write by type (ChangeEvent.columnTypes): domains resolved to
   * their base, arrays to their (resolved) element; the name without its schema.
   */
  columnType(oid: number, typeModifier: number): ColumnType {
    let array = false;
    for (let depth = 0; depth < MAX_NESTING; depth++) {
      const builtin = BUILTIN_TYPE_BY_OID.get(oid);
      if (builtin !== undefined) {
        if (builtin[4] === 0 || array) return { name: builtin[1], typeModifier, array };
        array = true;
        oid = builtin[4];
        continue;
      }
      const info = this.#defined.get(oid);
      if (info === undefined) break;
      if (info.kind === 'domain' && info.baseOid) oid = info.baseOid;
      else if (info.elemOid && !array) {
        array = true;
        oid = info.elemOid;
      } else return { name: info.name.replace(/^.*\./, '').replace(/\[\]$/, ''), typeModifier, array };
    }
    return { name: '', typeModifier, array };
  }

  /** The definition given to `define`, if any. */
  defined(oid: number): TypeInfo | undefined {
    return this.#defined.get(oid);
  }

  #fail(oid: number): Fail {
    const onProblem = this.#onProblem;
    return (text: string, why: string): ColumnValue => {
      onProblem?.(oid, text, why);
      return text;
    };
  }

  #build(oid: number, depth: number): Converter {
    if (depth > MAX_NESTING) return asText;
    const builtin = BUILTIN_TYPE_BY_OID.get(oid);
    if (builtin !== undefined) {
      const make = BUILTIN_CONVERSIONS.get(oid);
      if (make !== undefined) return make(this.#fail(oid));
      const elem = builtin[4];
      return elem === 0 ? asText : this.#array(oid, elem, BUILTIN_TYPE_BY_OID.get(elem)?.[5], depth);
    }
    const info = this.#defined.get(oid);
    if (info === undefined) return asText;
    if (info.kind === 'domain') return info.baseOid ? this.#cached(info.baseOid, depth + 1) : asText;
    if (info.elemOid) return this.#array(oid, info.elemOid, info.delimiter, depth);
    // enum, composite, range, multirange, pseudo and other base types: their text.
    return asText;
  }

  #array(oid: number, elem: number, delimiter: string | undefined, depth: number): Converter {
    return makeArray(this.#cached(elem, depth + 1), delimiter || ',', this.#fail(oid));
  }

  #cached(oid: number, depth: number): Converter {
    let converter = this.#cache.get(oid);
    if (converter === undefined) {
      converter = this.#build(oid, depth);
      this.#cache.set(oid, converter);
    }
    return converter;
  }
}
