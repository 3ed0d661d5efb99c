/**
 * The password file, as libpq reads it (https://www.postgresql.org/docs/current/libpq-pgpass.html):
 * lines `hostname:port:database:username:password`, `*` in one of the first four fields matches
 * anything, `\:` and `\\` escape, `#` starts a comment line, and the first matching line wins.
 * Pure: the caller reads the file and checks its permissions.
 */

/** One usable line of a password file. */
export interface PgpassEntry {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
}

const WILDCARD = '\u0000*';

/** Parses the file's text; lines with fewer than five fields are skipped, as libpq does. */
export function parsePgpass(text: string): PgpassEntry[] {
  const entries: PgpassEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '' || line.startsWith('#')) continue;
    const fields: string[] = [];
    let field = '';
    let escaped = false;
    let i = 0;
    for (; i < line.length && fields.length < 4; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) {
        field += line[++i];
        escaped = true;
      } else if (c === ':') {
        // A bare '*' is a wildcard; an escaped one ('\*') is the literal character.
        fields.push(field === '*' && !escaped ? WILDCARD : field);
        field = '';
        escaped = false;
      } else {
        field += c;
      }
    }
    if (fields.length < 4) continue;
    // The password is the rest of the line, with its escapes removed.
    const password = line.slice(i).replace(/\\(.)/g, '$1');
    entries.push({ host: fields[0]!, port: fields[1]!, database: fields[2]!, user: fields[3]!, password });
  }
  return entries;
}

/** What a connection looks up: host (libpq uses `localhost` for the default socket directory), port, database, user. */
export interface PgpassQuery {
  host: string;
  port: string;
  database: string;
  user: string;
}

const matches = (pattern: string, value: string): boolean => pattern === WILDCARD || pattern === value;

/** The password of the first entry matching the query, if any. */
export function lookupPgpass(entries: readonly PgpassEntry[], query: PgpassQuery): string | undefined {
  for (const entry of entries) {
    if (
      matches(entry.host, query.host) &&
      matches(entry.port, query.port) &&
      matches(entry.database, query.database) &&
      matches(entry.user, query.user)
    ) {
      return entry.password;
    }
  }
  return undefined;
}
