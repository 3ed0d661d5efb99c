/**
 * Go duration strings (`time.ParseDuration`), the format of the original's duration keys:
 * `"300ms"`, `"1.5s"`, `"1m30s"`, `"2h"`, `"0"`. Pure; results are milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** The unit spellings accepted, for messages. */
export const DURATION_UNITS = 'ns, us, ms, s, m, h';

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

const TERM = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/** Parses a Go duration string into milliseconds; the reason says what is wrong when it is not one. */
export function parseDuration(text: string): DurationResult {
  const invalid = (why: string): DurationResult => ({ ok: false, reason: `invalid duration "${text}": ${why}` });
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, ms: 0 };
  if (rest === '') return invalid(`expected a number followed by a unit (${DURATION_UNITS}), e.g. "2s"`);
  let total = 0;
  while (rest !== '') {
    const m = TERM.exec(rest);
    const [whole, intPart = '', fracPart, unit = ''] = m ?? [];
    if (!m || (intPart === '' && (fracPart ?? '') === '')) {
      return invalid(`expected a number at "${rest}"`);
    }
    if (unit === '') return invalid(`missing unit after "${intPart}${fracPart === undefined ? '' : '.' + fracPart}" (use one of ${DURATION_UNITS})`);
    const scale = UNIT_MS[unit];
    if (scale === undefined) return invalid(`unknown unit "${unit}" (use one of ${DURATION_UNITS})`);
    total += Number(`${intPart || '0'}.${fracPart || '0'}`) * scale;
    rest = rest.slice((whole ?? '').length);
  }
  return { ok: true, ms: sign * total };
}

const FORMAT_UNITS: ReadonlyArray<[string, number]> = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/** Renders milliseconds as a compact duration string that `parseDuration` reads back: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return '-' + formatDuration(-ms);
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of FORMAT_UNITS) {
    if (rest >= size) {
      const count = unit === 'ms' ? rest : Math.floor(rest / size);
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
