/**
 * Finds where a key is written in a TOML text, so semantic errors can say `FILE:LINE:COL`.
 * A structural scan only (the document was already parsed by smol-toml): it follows `[table]` and
 * `[[array]]` headers, dotted keys, inline tables, arrays, strings and comments. Pure.
 */
import type { Location } from './problems.ts';

/** A key or table header and where it starts. `path` holds decoded key segments, case as written. */
export interface KeyEntry extends Location {
  path: string[];
}

const BARE = /[A-Za-z0-9_-]/;

class Scanner {
  i = 0;
  line = 1;
  lineStart = 0;
  readonly entries: KeyEntry[] = [];

  constructor(readonly text: string) {}

  get done(): boolean {
    return this.i >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text[this.i + offset] ?? '';
  }

  advance(count = 1): void {
    for (let n = 0; n < count && !this.done; n++) {
      if (this.text[this.i] === '\n') {
        this.line++;
        this.lineStart = this.i + 1;
      }
      this.i++;
    }
  }

  here(): Location {
    return { line: this.line, column: this.i - this.lineStart + 1 };
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.advance();
  }

  skipToLineEnd(): void {
    while (!this.done && this.peek() !== '\n') this.advance();
  }

  /** Spaces, newlines and comments (inside arrays, and between statements). */
  skipBlank(): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.advance();
      else if (c === '#') this.skipToLineEnd();
      else return;
    }
  }

  /** Skips a string of any of the four TOML kinds and returns its raw body. */
  readString(): string {
    const quote = this.peek();
    const start = this.i;
    if (this.peek(1) === quote && this.peek(2) === quote) {
      this.advance(3);
      while (!this.done && !(this.peek() === quote && this.peek(1) === quote && this.peek(2) === quote)) {
        this.advance(quote === '"' && this.peek() === '\\' ? 2 : 1);
      }
      // A closing run may be up to five quotes long: the first ones belong to the content.
      while (this.peek(3) === quote) this.advance();
      this.advance(3);
      return this.text.slice(start + 3, this.i - 3);
    }
    this.advance();
    while (!this.done && this.peek() !== quote && this.peek() !== '\n') this.advance(quote === '"' && this.peek() === '\\' ? 2 : 1);
    this.advance();
    return this.text.slice(start + 1, this.i - 1);
  }

  readKeySegment(): string | undefined {
    const c = this.peek();
    if (c === '"') {
      const body = this.readString();
      try {
        return JSON.parse(`"${body}"`) as string;
      } catch {
        return body;
      }
    }
    if (c === "'") return this.readString();
    const start = this.i;
    while (BARE.test(this.peek())) this.advance();
    return this.i > start ? this.text.slice(start, this.i) : undefined;
  }

  /** A possibly dotted key; undefined when none starts here. */
  readKey(): { segments: string[]; at: Location } | undefined {
    const at = this.here();
    const segments: string[] = [];
    for (;;) {
      const segment = this.readKeySegment();
      if (segment === undefined) return undefined;
      segments.push(segment);
      this.skipSpaces();
      if (this.peek() !== '.') return { segments, at };
      this.advance();
      this.skipSpaces();
    }
  }

  /** Skips one value; keys of inline tables are recorded under `prefix` unless it is undefined. */
  skipValue(prefix: string[] | undefined): void {
    const c = this.peek();
    if (c === '"' || c === "'") {
      this.readString();
    } else if (c === '[') {
      this.advance();
      for (;;) {
        this.skipBlank();
        if (this.done || this.peek() === ']') break;
        const before = this.i;
        this.skipValue(undefined);
        this.skipBlank();
        if (this.peek() === ',') this.advance();
        else if (this.i === before) this.advance();
      }
      this.advance();
    } else if (c === '{') {
      this.advance();
      for (;;) {
        this.skipBlank();
        if (this.done || this.peek() === '}') break;
        if (this.peek() === ',') {
          this.advance();
          continue;
        }
        if (!this.keyValue(prefix)) this.advance();
      }
      this.advance();
    } else {
      while (!this.done && !',]}\n#'.includes(this.peek())) this.advance();
    }
  }

  /** `key = value`, recording the key under `prefix`; false when no key starts here. */
  keyValue(prefix: string[] | undefined): boolean {
    const key = this.readKey();
    if (!key) return false;
    const path = prefix === undefined ? undefined : [...prefix, ...key.segments];
    if (path) this.entries.push({ path, ...key.at });
    this.skipSpaces();
    if (this.peek() !== '=') return true;
    this.advance();
    this.skipSpaces();
    this.skipValue(path);
    return true;
  }

  header(): string[] | undefined {
    const at = this.here();
    const double = this.peek(1) === '[';
    this.advance(double ? 2 : 1);
    this.skipSpaces();
    const key = this.readKey();
    this.skipToLineEnd();
    if (!key) return undefined;
    this.entries.push({ path: key.segments, ...at });
    return key.segments;
  }

  scan(): KeyEntry[] {
    let table: string[] = [];
    while (!this.done) {
      this.skipBlank();
      if (this.done) break;
      if (this.peek() === '[') {
        table = this.header() ?? table;
        continue;
      }
      if (!this.keyValue(table)) this.skipToLineEnd();
      this.skipSpaces();
      if (this.peek() === '#') this.skipToLineEnd();
      else if (this.peek() !== '\n') this.skipToLineEnd();
    }
    return this.entries;
  }
}

/** Every key and table header in `text`, in document order. */
export function scanKeys(text: string): KeyEntry[] {
  return new Scanner(text).scan();
}

const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);

/**
 * Where `path` is written: the key itself; else the first key inside it (a table made of dotted
 * keys); else the nearest enclosing table or key that is written (e.g. the section of a missing key).
 */
export function locate(entries: readonly KeyEntry[], path: readonly string[]): Location | undefined {
  if (path.length === 0) return undefined;
  const pick = (e: KeyEntry | undefined) => (e === undefined ? undefined : { line: e.line, column: e.column });
  const exact = entries.find((e) => e.path.length === path.length && startsWith(e.path, path));
  if (exact) return pick(exact);
  const inside = entries.find((e) => startsWith(e.path, path));
  if (inside) return pick(inside);
  for (let length = path.length - 1; length > 0; length--) {
    const outer = path.slice(0, length);
    const found = entries.find((e) => e.path.length === length && startsWith(e.path, outer));
    if (found) return pick(found);
  }
  return undefined;
}
