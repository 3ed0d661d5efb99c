/**
 * The declarative schema for config sections. Each component type declares its keys once, with
 * kind, default and documentation; `parse.ts` coerces and validates a TOML table against it and
 * `scripts`/docs can list every key from the same table. Keys match case-insensitively (as the
 * original's viper did); names and map keys keep their case.
 */

export type FieldKind = 'string' | 'path' | 'int' | 'bool' | 'duration' | 'size' | 'lsn' | 'stringList' | 'stringMap';

/**
 * Value types after parsing. Durations are milliseconds (fractional below 1 ms); sizes are bytes
 * (an integer or a string such as "64MiB"); LSNs are a decimal integer or "X/Y", kept as bigint.
 */
export interface FieldValueByKind {
  string: string;
  /** A file name: only a quoted TOML string is accepted (`stateFile = 1e309` would name "./Infinity"). */
  path: string;
  int: number;
  bool: boolean;
  duration: number;
  size: number;
  lsn: bigint;
  stringList: string[];
  stringMap: Record<string, string>;
}

export interface FieldSpec<K extends FieldKind = FieldKind> {
  kind: K;
  /** One line for docs and the annotated example. */
  doc: string;
  required?: boolean;
  default?: FieldValueByKind[K];
  /** Other accepted spellings (e.g. `stateFile` for `boltdb`). The first name in the spec is canonical. */
  aliases?: readonly string[];
  /** Returns what is expected when the value is out of range, e.g. "> 0"; undefined when valid. */
  check?: (value: FieldValueByKind[K]) => string | undefined;
  /** True for keys the original v1.1.0 had (docs/compatibility.md; marked in the docs). */
  original?: boolean;
  /**
   * Allowed values of a string key (or of each entry of a list), matched case-insensitively; the
   * value becomes the spelling given here.
   */
  choices?: readonly string[];
  /** For lists: a repeated entry is an error (the original rejected duplicate topics, handlers and sources). */
  unique?: boolean;
  /** Docs text for a default computed from other keys (e.g. "max(10000, 4 × batchSize)"). */
  defaultText?: string;
  /** Holds a secret (password, DSN): never logged or echoed in messages. */
  secret?: boolean;
}

/** One field spec of any kind, with `check` and `default` typed for that kind. */
export type AnyFieldSpec = { [K in FieldKind]: FieldSpec<K> }[FieldKind];

export type SectionSpec = Readonly<Record<string, AnyFieldSpec>>;

/** The parsed type of one field: present when required or defaulted, otherwise possibly undefined. */
export type FieldValue<F> = F extends FieldSpec<infer Kind>
  ? F extends { required: true } | { default: unknown }
    ? FieldValueByKind[Kind]
    : FieldValueByKind[Kind] | undefined
  : never;

/**
 * The parsed, typed section: required or defaulted keys are present, others may be undefined.
 * For a general `SectionSpec` every key is the union of all value types (or undefined).
 */
export type Resolved<S extends SectionSpec> = {
  -readonly [K in keyof S]: FieldValue<S[K]>;
};

/** Identity helper that keeps the literal types of a spec for `Resolved`. */
export function defineSection<const S extends SectionSpec>(spec: S): S {
  return spec;
}

export const positive = (v: number): string | undefined => (v > 0 ? undefined : '> 0');
export const nonNegative = (v: number): string | undefined => (v >= 0 ? undefined : '>= 0');
