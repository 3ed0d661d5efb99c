/**
 * One passthrough event line (docs/compatibility.md, "Event format"), read the way the snapshot
 * tests need it: the top-level keys in their order, and each column's value as its exact JSON text
 * (no number rounded, no jsonb re-formatted), so a consumer can compare values byte for byte.
 * Pure: no I/O.
 */

/** What the snapshot tests read of one event. */
export interface EventLine {
  action: string;
  table: string;
  /** Raw JSON text of WALPosition (an integer, every digit). */
  walPosition: string;
  /** Column name → its value's exact JSON text. */
  columns: Map<string, string>;
  /** `Old`: the old row or key PostgreSQL sent (an update that changed the key, a delete), exact texts. */
  old: Map<string, string> | undefined;
  /** Columns whose unchanged TOAST value the event does not carry. */
  unchanged: string[];
  /** `"Snapshot":true` present. */
  snapshot: boolean;
  /** `UUID`, and the raw JSON texts of `CommitLSN` and `TxIndex` ('' when absent): the event's identity. */
  uuid: string;
  commitLsn: string;
  txIndex: string;
  /** The top-level keys, in the order the line has them. */
  keys: string[];
}

/** Index just past the JSON value starting at `at` (whitespace skipped first); throws on bad JSON. */
function valueEnd(text: string, at: number): number {
  let i = skipSpace(text, at);
  const c = text[i];
  if (c === '"') {
    for (i++; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '"') return i + 1;
    }
    throw new Error('unterminated string');
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    for (; i < text.length; i++) {
      const d = text[i];
      if (d === '"') i = valueEnd(text, i) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    throw new Error('unterminated object or array');
  }
  const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
  if (m === null) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 20))} at ${i}`);
  return i + m[0].length;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  return i;
}

/** The members of the JSON object spanning [start, end): key → exact value text, in order. */
export function objectMembers(text: string, start = 0, end = text.length): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = skipSpace(text, start);
  if (text[i] !== '{') throw new Error(`not an object at ${i}`);
  i = skipSpace(text, i + 1);
  if (text[i] === '}') return out;
  for (;;) {
    const keyEnd = valueEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as unknown;
    if (typeof key !== 'string') throw new Error(`object key is not a string at ${i}`);
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') throw new Error(`expected ':' at ${i}`);
    const valueStart = skipSpace(text, i + 1);
    const valueStop = valueEnd(text, valueStart);
    out.push([key, text.slice(valueStart, valueStop)]);
    i = skipSpace(text, valueStop);
    if (text[i] === ',') {
      i = skipSpace(text, i + 1);
      continue;
    }
    if (text[i] === '}' && i < end) return out;
    throw new Error(`expected ',' or '}' at ${i}`);
  }
}

/** Parses one line of the file sink (or one Kafka message value); throws when it is not an event. */
export function parseEventLine(line: string): EventLine {
  const members = objectMembers(line);
  const get = (key: string) => members.find(([k]) => k === key)?.[1];
  const columnsText = get('Columns');
  if (columnsText === undefined) throw new Error('no Columns');
  const unchangedText = get('Unchanged');
  const oldText = get('Old');
  return {
    action: JSON.parse(get('Action') ?? '""') as string,
    table: JSON.parse(get('Table') ?? '""') as string,
    walPosition: get('WALPosition') ?? '',
    columns: new Map(objectMembers(columnsText)),
    old: oldText === undefined ? undefined : new Map(objectMembers(oldText)),
    unchanged: unchangedText === undefined ? [] : (JSON.parse(unchangedText) as string[]),
    snapshot: get('Snapshot') === 'true',
    uuid: JSON.parse(get('UUID') ?? '""') as string,
    commitLsn: get('CommitLSN') ?? '',
    txIndex: get('TxIndex') ?? '',
    keys: members.map(([k]) => k),
  };
}

/**
 * What is wrong with a snapshot row's shape (empty when nothing): an insert, `"Snapshot":true` as
 * the last key, no XID/CommitLSN/CommitTime/TxIndex, a WALPosition.
 */
export function snapshotShapeProblems(event: EventLine): string[] {
  const problems: string[] = [];
  if (event.action !== 'insert') problems.push(`Action ${event.action}, not insert`);
  if (event.keys.at(-1) !== 'Snapshot') problems.push(`"Snapshot" is not the last key (keys: ${event.keys.join(',')})`);
  for (const key of ['XID', 'CommitLSN', 'CommitTime', 'TxIndex']) if (event.keys.includes(key)) problems.push(`has ${key}`);
  if (!/^[1-9]\d*$/.test(event.walPosition)) problems.push(`WALPosition ${event.walPosition}`);
  return problems;
}
