/**
 * Every module specifier a TypeScript file imports: static and type-only imports, `export ... from`,
 * `import()` (a computed one as ''), and `require('…')` with a literal name, with their lines. A small tokenizer skips comments,
 * strings, template text and regex literals; Bun.Transpiler.scanImports cannot serve because it
 * drops type-only imports. Used by test/unit/architecture.test.ts (docs/architecture.md).
 */

export interface Import {
  specifier: string;
  line: number;
  kind: 'static' | 'export-from' | 'dynamic' | 'require';
}

/** `string`: a quoted literal (its value); `literal`: a template or regex literal (text not kept). */
type Token = { kind: 'word' | 'string' | 'literal' | 'punct'; text: string; line: number };

const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

/** Words, string literals (their value) and punctuation; comments, template text and regex literals skipped. */
function tokenize(code: string): Token[] {
  const tokens: Token[] = [];
  /** One entry per open template literal: the `{` depth at which its `${` expression closes. */
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = code.startsWith('#!') ? code.indexOf('\n') : 0;
  const n = code.length;
  const count = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (code[k] === '\n') line++;
  };
  /** Skips template text from i (just after '`' or '}') to the closing '`' or a '${'. */
  const templateText = () => {
    const start = i;
    while (i < n) {
      const c = code[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        break;
      } else if (c === '$' && code[i + 1] === '{') {
        i += 2;
        depth++;
        templates.push(depth);
        break;
      } else i++;
    }
    count(start, i);
  };
  const regexAllowed = () => {
    const prev = tokens[tokens.length - 1];
    if (prev === undefined) return true;
    if (prev.kind === 'word') return REGEX_AFTER_WORDS.has(prev.text);
    if (prev.kind === 'string' || prev.kind === 'literal') return false;
    return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
  };
  while (i < n) {
    const c = code[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '/' && code[i + 1] === '/') {
      while (i < n && code[i] !== '\n') i++;
    } else if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      count(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = i;
      let value = '';
      i++;
      while (i < n && code[i] !== c && code[i] !== '\n') {
        if (code[i] === '\\') {
          value += code[i + 1] ?? '';
          i += 2;
        } else value += code[i++];
      }
      i++;
      tokens.push({ kind: 'string', text: value, line });
      count(start, i);
    } else if (c === '`') {
      i++;
      tokens.push({ kind: 'literal', text: '`', line });
      templateText();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < n && code[i] !== '\n') {
        const r = code[i]!;
        if (r === '\\') i += 2;
        else {
          i++;
          if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
        }
      }
      while (i < n && /[a-z]/i.test(code[i]!)) i++;
      tokens.push({ kind: 'literal', text: '/', line });
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$]/.test(code[i]!)) i++;
      tokens.push({ kind: 'word', text: code.slice(start, i), line });
    } else if (/[0-9]/.test(c)) {
      while (i < n && /[\w.]/.test(code[i]!)) i++;
      tokens.push({ kind: 'word', text: '0', line });
    } else {
      i++;
      if (c === '{') depth++;
      else if (c === '}') {
        if (templates.length > 0 && templates[templates.length - 1] === depth) {
          templates.pop();
          depth--;
          templateText();
          continue;
        }
        depth--;
      }
      tokens.push({ kind: 'punct', text: c, line });
    }
  }
  return tokens;
}

/** Words and punctuation that may stand between `import`/`export` and `from`. */
const CLAUSE = new Set(['{', '}', ',', '*', 'as', 'type', 'default']);

/** Every module specifier `code` imports or re-exports, with its line. */
export function scanImports(code: string): Import[] {
  const tokens = tokenize(code);
  const found: Import[] = [];
  const at = (k: number) => tokens[k];
  /** From k, skips an import/export clause; the specifier after `from`, if that is what follows. */
  const fromClause = (k: number): Token | undefined => {
    // A clause holds names, braces, commas, `* as`, `type`; anything else ends it.
    while (at(k) && (CLAUSE.has(at(k)!.text) || (at(k)!.kind === 'word' && at(k)!.text !== 'from'))) k++;
    return at(k)?.text === 'from' && at(k + 1)?.kind === 'string' ? at(k + 1) : undefined;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'word' || at(k - 1)?.text === '.') continue;
    const next = at(k + 1);
    if (t.text === 'import') {
      // A computed `import(x)` has no specifier to check: recorded as '' and reported by the rule.
      if (next?.text === '(') found.push({ specifier: at(k + 2)?.kind === 'string' ? at(k + 2)!.text : '', line: t.line, kind: 'dynamic' });
      else if (next?.kind === 'string') found.push({ specifier: next.text, line: t.line, kind: 'static' });
      else if (next && next.text !== '.') {
        const spec = fromClause(k + 1);
        if (spec) found.push({ specifier: spec.text, line: t.line, kind: 'static' });
      }
    } else if (t.text === 'require' && next?.text === '(' && at(k + 2)?.kind === 'string' && at(k + 3)?.text === ')') {
      // A computed require (a path chosen at run time) is left out, as Bun's own scanner leaves it out.
      found.push({ specifier: at(k + 2)!.text, line: t.line, kind: 'require' });
    } else if (t.text === 'export' && next) {
      const first = next.text === 'type' ? at(k + 2) : next;
      if (first?.text === '{' || first?.text === '*') {
        const spec = fromClause(k + 1);
        if (spec) found.push({ specifier: spec.text, line: t.line, kind: 'export-from' });
      }
    }
  }
  return found;
}
