/** How the HTTP sink names its URL in logs, messages and `check`: no credentials, no query (it may hold a token). Pure. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search === '' ? '' : '?…'}`;
  } catch {
    return '(invalid URL)';
  }
}
