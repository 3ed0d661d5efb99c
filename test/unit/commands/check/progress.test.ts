/** check --live progress: the text (pure) and how it is shown in a terminal or a log (../../../../src/commands/check/progress.ts). */
import { describe, expect, test } from 'bun:test';
import { CheckProgress, showProgress } from '../../../../src/commands/check/progress.ts';

function clock() {
  const c = { now: 0 };
  return { c, now: () => c.now };
}

function output(tty: boolean) {
  const o = { text: '', out: { write: (t: string) => void (o.text += t), isTTY: tty, columns: () => 60 } };
  return o;
}

describe('CheckProgress', () => {
  test('the plain line: done/total, elapsed, what still runs', () => {
    const { c, now } = clock();
    const p = new CheckProgress(3, now);
    p.start('source db1 (postgres)');
    p.start('sink kafka1 (kafka)');
    p.start('sink out (file)');
    c.now = 400;
    expect(p.line()).toBe('check --live: 0/3 done after 0.4s; running: source db1 (postgres), sink kafka1 (kafka), sink out (file)');
    p.finish('source db1 (postgres)');
    p.finish('sink out (file)');
    c.now = 5_000;
    expect(p.line()).toBe('check --live: 2/3 done after 5.0s; running: sink kafka1 (kafka)');
    expect(p.done).toBe(false);
    p.finish('sink kafka1 (kafka)');
    p.finish('sink kafka1 (kafka)'); // twice counts once
    c.now = 75_400;
    expect(p.line()).toBe('check --live: 3/3 done after 75s');
    expect(p.done).toBe(true);
  });

  test('the bar: filled by the share done, cut to the width', () => {
    const { c, now } = clock();
    const p = new CheckProgress(2, now);
    p.start('source db1 (postgres)');
    p.start('sink kafka1 (kafka)');
    p.finish('source db1 (postgres)');
    c.now = 4_200;
    expect(p.bar(80)).toBe('[##########..........] 1/2  4.2s  running: sink kafka1 (kafka)');
    expect(p.bar(30)).toHaveLength(30);
    expect(p.bar(30)).toEndWith('…');
  });
});

/** Waits until `ready` holds (real timers; generous for a loaded machine), then returns. */
async function until(ready: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!ready() && performance.now() < end) await Bun.sleep(5);
}

describe('showProgress', () => {
  test('a terminal: drawn at once, redrawn in place, erased at the end', async () => {
    const o = output(true);
    const p = new CheckProgress(1, () => 0);
    p.start('sink out (file)');
    const stop = showProgress(p, o.out, { redrawMs: 5, lineEveryMs: 1_000 });
    // 60 columns: drawn in 59, a bar of 14 cells.
    expect(o.text).toBe(`[${'.'.repeat(14)}] 0/1  0.0s  running: sink out (file)`);
    await until(() => o.text.includes('\r'));
    expect(o.text).toContain(`\r\x1b[J[${'.'.repeat(14)}] 0/1`);
    stop();
    expect(o.text).toEndWith('\r\x1b[J');
  });

  test('not a terminal: nothing for a quick check, a plain line per period for a slow one', async () => {
    const quick = output(false);
    const p = new CheckProgress(1, () => 0);
    p.start('sink out (file)');
    showProgress(p, quick.out, { redrawMs: 5, lineEveryMs: 1_000 })();
    await Bun.sleep(20);
    expect(quick.text).toBe('');

    const slow = output(false);
    const stop = showProgress(p, slow.out, { redrawMs: 5, lineEveryMs: 10 });
    await until(() => slow.text.split('\n').filter(Boolean).length >= 2);
    stop();
    const lines = slow.text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toBe('check --live: 0/1 done after 0.0s; running: sink out (file)');
    p.finish('sink out (file)');
  });
});
