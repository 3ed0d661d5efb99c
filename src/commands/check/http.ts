/**
 * `check --live` for an HTTP sink (docs/http-sink.md, "check --live"): one HEAD request to the
 * url with the sink's headers and TLS settings (no event is POSTed), so DNS, connect, TLS and
 * credentials are tried; and the deadLetterFile, when set, as the file sink's path is.
 */
import { endpointOf, send, type Outcome } from '../../sinks/http/request.ts';
import { bodySnippet } from '../../sinks/http/response.ts';
import type { HttpSinkOptions } from '../../sinks/http/spec.ts';
import { displayUrl } from '../../sinks/http/urls.ts';
import { describeError } from '../../core/errors.ts';
import { checkFilePath } from './file.ts';
import { fail, ok, warn, type CheckGroup, type CheckResult } from './result.ts';

/** Cap of the check's own deadline (the sink's `timeout` when shorter). */
const MAX_CHECK_MS = 3000;

/** The verdict on what a HEAD request came to, taking `ms`. Pure. */
export function judgeHttpAnswer(outcome: Outcome, ms: number, timeoutMs: number): CheckResult {
  switch (outcome.kind) {
    case 'timeout':
      return fail('url', `no answer within ${timeoutMs} ms`, 'check the url, that the receiver runs and that no firewall drops the connection');
    case 'network':
      return fail('url', outcome.reason,
        /certificate|self.signed|issuer|tls|ssl/i.test(outcome.reason)
          ? 'check tlsCaFile (the CA of the receiver\'s certificate), tlsCertFile/tlsKeyFile, and that the url\'s host is named in the certificate'
          : 'check the url (host and port) and that the receiver runs');
    case 'answer': {
      const said = `HEAD answered ${outcome.status} in ${Math.round(ms)} ms`;
      if (outcome.status === 401 || outcome.status === 403) {
        return warn('url', `reachable, but ${said} (${bodySnippet(outcome.body)}): the receiver may refuse the sink's credentials`, 'check the Authorization (or other) entries of headers');
      }
      if (outcome.status >= 500) return warn('url', `reachable, but ${said}: the receiver reports an error`, 'check the receiver\'s health');
      return ok('url', `reachable (${said}; a webhook may well answer HEAD with 404 or 405)`);
    }
  }
}

export async function checkHttpSink(group: CheckGroup, o: HttpSinkOptions): Promise<CheckGroup> {
  group.target = displayUrl(o.url);
  const timeoutMs = Math.min(o.timeout, MAX_CHECK_MS);
  try {
    const endpoint = { ...endpointOf(o, 'application/x-ndjson', `Sink-HTTP (${group.name})`), timeoutMs };
    const started = performance.now();
    const outcome = await send(endpoint, new Uint8Array(0), {}, 'HEAD');
    group.results.push(judgeHttpAnswer(outcome, performance.now() - started, timeoutMs));
  } catch (err) {
    group.results.push(fail('url', describeError(err), 'fix the tls*File keys of this section'));
  }
  if (o.deadLetterFile !== undefined) group.results.push({ ...checkFilePath(o.deadLetterFile), check: 'deadLetterFile' });
  return group;
}
