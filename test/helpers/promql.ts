/**
 * The metric names and label names a PromQL expression uses, for the test that every query of
 * deploy/grafana/ and deploy/prometheus/ names something the streamer exports (docs/operations.md,
 * "Dashboards and alerts"). A tokenizer, not a full parser: it knows selectors (`name{label="v"}`),
 * ranges and subqueries (`[5m]`, `[1h:1m]`), function calls, aggregations with `by`/`without`,
 * vector matching (`on`, `ignoring`, `group_left`, `group_right`), `offset`/`@`, strings, numbers,
 * comments and Grafana's variables (`$source`, `${DS}`, `$__rate_interval`).
 */

/** What one expression uses. */
export interface PromqlNames {
  /** Metric name → the label names its selectors match on (every selector of that name merged). */
  metrics: Map<string, Set<string>>;
  /** Labels named in `by`/`without`/`on`/`ignoring`/`group_left`/`group_right` lists. */
  grouping: Set<string>;
}

type Token = { kind: 'ident' | 'string' | 'number' | 'var' | 'punct'; text: string };

const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk',
  'quantile', 'limitk', 'limit_ratio',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
const MATCH_OPERATORS = new Set(['=', '!=', '=~', '!~']);

/** Splits an expression into tokens; throws on a character PromQL does not have. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string at ${i} in: ${expr}`);
      tokens.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '$') {
      const m = /^\$(\{[^}]*\}|\w+)/.exec(expr.slice(i));
      if (!m) throw new Error(`bad variable at ${i} in: ${expr}`);
      tokens.push({ kind: 'var', text: m[0] });
      i += m[0].length;
    } else if (/[0-9.]/.test(c)) {
      // Numbers, hex, exponents and durations (5m, 1h30m, 1.5e3).
      const m = /^(0x[0-9a-f]+|[0-9.]+(e[+-]?[0-9]+)?([a-z]+[0-9]*)*)/i.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else {
      const m = /^(=~|!~|!=|==|>=|<=|[-+*/%^=<>(){}[\],@])/.exec(expr.slice(i));
      if (!m) throw new Error(`unexpected '${c}' at ${i} in: ${expr}`);
      tokens.push({ kind: 'punct', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** The metric and label names `expr` uses (see PromqlNames). */
export function promqlNames(expr: string): PromqlNames {
  const tokens = tokenize(expr);
  const metrics = new Map<string, Set<string>>();
  const grouping = new Set<string>();
  const at = (k: number) => tokens[k];
  const isPunct = (k: number, text: string) => at(k)?.kind === 'punct' && at(k)?.text === text;

  /** Reads `{ label op "value", ... }` from `k` (at `{`); returns the index after `}`. */
  const readMatchers = (k: number, labels: Set<string>): number => {
    let j = k + 1;
    while (j < tokens.length && !isPunct(j, '}')) {
      const token = at(j) as Token;
      if ((token.kind === 'ident' || token.kind === 'string') && MATCH_OPERATORS.has(at(j + 1)?.text ?? '')) {
        labels.add(token.text);
        j += 3;
      } else if (isPunct(j, ',')) {
        j++;
      } else {
        throw new Error(`bad label matcher near '${token.text}' in: ${expr}`);
      }
    }
    if (j >= tokens.length) throw new Error(`unclosed '{' in: ${expr}`);
    return j + 1;
  };

  let k = 0;
  while (k < tokens.length) {
    const token = at(k) as Token;
    if (isPunct(k, '[')) {
      while (k < tokens.length && !isPunct(k, ']')) k++;
      k++;
    } else if (isPunct(k, '{')) {
      throw new Error(`a selector without a metric name ({__name__=...}) is not supported: ${expr}`);
    } else if (token.kind !== 'ident') {
      k++;
    } else if (GROUPING.has(token.text) && isPunct(k + 1, '(')) {
      k += 2;
      while (k < tokens.length && !isPunct(k, ')')) {
        const label = at(k) as Token;
        if (label.kind === 'ident' || label.kind === 'string') grouping.add(label.text);
        k++;
      }
      k++;
    } else if (GROUPING.has(token.text) || AGGREGATIONS.has(token.text) || KEYWORDS.has(token.text.toLowerCase()) || isPunct(k + 1, '(')) {
      // An aggregation, a keyword, `group_left` without labels, or a function call: not a metric.
      k++;
    } else {
      const labels = metrics.get(token.text) ?? new Set<string>();
      metrics.set(token.text, labels);
      k = isPunct(k + 1, '{') ? readMatchers(k + 1, labels) : k + 1;
    }
  }
  return { metrics, grouping };
}
