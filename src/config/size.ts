/** Byte sizes: an integer number of bytes, or a string with a unit such as "64MiB" or "1MB". Pure. */

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

export type SizeResult = { ok: true; bytes: number } | { ok: false; reason: string };

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses "64MiB", "1.5 KB", "1048576" (bytes) into a whole number of bytes. */
export function parseSize(text: string): SizeResult {
  const invalid = (why: string): SizeResult => ({ ok: false, reason: `invalid size "${text}": ${why}` });
  const m = SIZE.exec(text.trim());
  if (!m) return invalid('expected a number of bytes or a number with a unit (B, KB, KiB, MB, MiB, GB, GiB, TB, TiB), e.g. "64MiB"');
  const [, amount = '', unit = ''] = m;
  const scale = unit === '' ? 1 : UNIT_BYTES[unit.toLowerCase()];
  if (scale === undefined) return invalid(`unknown unit "${unit}" (use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB)`);
  const bytes = Number(amount) * scale;
  if (!Number.isSafeInteger(bytes)) return invalid('not a whole number of bytes');
  return { ok: true, bytes };
}

const FORMAT_UNITS: ReadonlyArray<[string, number]> = [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]];

/** Renders bytes with the largest binary unit that divides them exactly: 67108864 → "64MiB". */
export function formatSize(bytes: number): string {
  for (const [unit, size] of FORMAT_UNITS) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}`;
}

/** Rounds bytes to one decimal of the largest binary unit below them, for messages: 57999360 → "55.3 MiB". */
export function describeSize(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  for (const [unit, size] of FORMAT_UNITS) {
    if (abs >= size) return `${sign}${(abs / size).toFixed(1)} ${unit}`;
  }
  return `${sign}${abs} B`;
}
