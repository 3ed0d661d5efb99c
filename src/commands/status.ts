/**
 * `psql-streamer status [-config FILE | --url URL] [--json]` (docs/operations.md, "Status page and
 * `status` command"): reads `/status.json` of the RUNNING streamer (the address and token of the
 * config, as the `snapshot` command finds them: snapshot-client.ts; or a URL with the token in
 * $PSQL_STREAMER_HTTP_TOKEN) and prints it as a compact table (status-text.ts) or as the JSON
 * document. Exit codes: 0 every component OK, 1 a warning or a problem, 2 no answer (usage,
 * config, unreachable, token refused).
 */
import type { Config } from '../config/schema.ts';
import { describeError } from '../core/errors.ts';
import { EXIT_USAGE } from '../core/exit-codes.ts';
import { ApiClient, endpointOf, type Endpoint } from './snapshot-client.ts';
import { asStatusDocument, renderStatusText, statusExitCode } from './status-text.ts';

/** The variable holding the token when the streamer is named by --url. */
export const TOKEN_VARIABLE = 'PSQL_STREAMER_HTTP_TOKEN';

/** Where the running streamer is: its config, or a URL. */
export type StatusTarget = { config: Pick<Config, 'http' | 'httpSecurity'> } | { url: string; token?: string };

export interface StatusIo {
  out: { write(text: string): void };
  err: { write(text: string): void };
  /** The HTTP client; by default one for the target. */
  client?: ApiClient;
}

/** The endpoint of a `--url`: http(s), a host, an optional path prefix (a reverse proxy); throws a readable Error. */
export function endpointOfUrl(url: string, token?: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${url}: not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--url ${url}: use http:// or https://`);
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new Error(`--url ${url}: give the address only (no query, fragment or credentials; the token goes in $${TOKEN_VARIABLE})`);
  }
  const origin = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  return { origin, ...(token === undefined || token === '' ? {} : { token }) };
}

/** Asks, prints, and returns the exit code. */
export async function runStatus(target: StatusTarget, json: boolean, io: StatusIo): Promise<number> {
  let client = io.client;
  if (client === undefined) {
    try {
      client = new ApiClient('config' in target ? endpointOf(target.config) : endpointOfUrl(target.url, target.token));
    } catch (err) {
      io.err.write(`${describeError(err)}\n`);
      return EXIT_USAGE;
    }
  }
  const result = await client.request('GET', '/status.json');
  if (!result.ok) {
    const message = result.status === 404
      ? `the streamer at ${client.endpoint.origin} has no /status.json: is it an older version?`
      : result.message;
    io.err.write(`${message}\n`);
    return EXIT_USAGE;
  }
  const doc = asStatusDocument(result.body);
  if (doc === undefined) {
    io.err.write(`the streamer at ${client.endpoint.origin} answered something that is not a status document; is it the same version?\n`);
    return EXIT_USAGE;
  }
  io.out.write(json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatusText(doc));
  return statusExitCode(doc);
}
