/**
 * The JavaScript engine settings the packaged streamer runs with (docs/deploy.md, "Memory"): the
 * `Environment=BUN_JSC_*` lines of the systemd unit, which the container image repeats (a unit test
 * checks they agree). The benchmarks' `--heap-hint` runs the streamer with exactly these.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const UNIT = join(import.meta.dir, '..', '..', 'packaging', 'systemd', 'psql-streamer.service');

/** `BUN_JSC_*` variables set by an `Environment=` line of a systemd unit's text. */
export function engineSettingsOfUnit(text: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const m of text.matchAll(/^Environment=(BUN_JSC_\w+)=(\S+)$/gm)) settings[m[1] as string] = m[2] as string;
  return settings;
}

/** The packaged unit's engine settings. */
export function packagedEngineSettings(): Record<string, string> {
  return engineSettingsOfUnit(readFileSync(UNIT, 'utf8'));
}

/** The settings as `A=1 B=2`, for log lines. */
export function describeSettings(settings: Record<string, string>): string {
  return Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(' ');
}
