/**
 * `${NAME}` interpolation in string values, so secrets stay out of the file. `${NAME:-fallback}`
 * uses the fallback when NAME is unset or empty; `$${` writes a literal `${`. Pure.
 */

export type InterpolationResult = { ok: true; value: string } | { ok: false; reason: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Replaces every `${NAME}` in `text` from `env`; a missing variable or a malformed reference is an error. */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): InterpolationResult {
  if (!text.includes('$')) return { ok: true, value: text };
  let out = '';
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) return { ok: false, reason: `unterminated "\${" in "${text}" (write "$\${" for a literal "\${")` };
    const body = text.slice(dollar + 2, close);
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    if (!NAME.test(name)) return { ok: false, reason: `"\${${body}}" is not a valid environment variable reference (expected \${NAME} or \${NAME:-default})` };
    const value = env[name];
    if (sep >= 0 && (value === undefined || value === '')) out += body.slice(sep + 2);
    else if (value === undefined) missing.push(name);
    else out += value;
    i = close + 1;
  }
  if (missing.length > 0) {
    const names = missing.map((n) => `$${n}`).join(', ');
    const subject = missing.length > 1 ? `environment variables ${names} are` : `environment variable ${names} is`;
    return { ok: false, reason: `${subject} not set (referenced as \${...}; use \${NAME:-default} for a fallback)` };
  }
  return { ok: true, value: out };
}
