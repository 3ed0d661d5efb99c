import { describe, expect, test } from 'bun:test';
import { OutputValve } from '../../../../src/sources/postgres/output-valve.ts';
import type { PipelineItem } from '../../../../src/sources/source.ts';
import type { PgPosition } from '../../../../src/sources/postgres/snapshot/mark.ts';

/** A pipeline that is full once it holds `room` items, and drains when told to. */
function pipeline(room: number) {
  const items: PipelineItem<PgPosition>[] = [];
  let drain: (() => void) | undefined;
  return {
    items,
    drainNow: () => {
      items.length = 0;
      drain?.();
    },
    output: {
      push: (item: PipelineItem<PgPosition>) => items.push(item) < room,
      drained: () => new Promise<void>((resolve) => (drain = resolve)),
    },
  };
}

describe('OutputValve', () => {
  test('pauses once when the pipeline is full and resumes when it drained', async () => {
    const calls: string[] = [];
    const valve = new OutputValve({ pause: () => calls.push('pause'), drained: () => calls.push('drained') });
    const p = pipeline(2);
    valve.output = p.output;
    valve.push({ position: 1n });
    expect(calls).toEqual([]);
    valve.push({ position: 2n });
    valve.push({ position: 3n });
    expect(calls).toEqual(['pause']);
    expect(valve.waiting).toBe(true);
    expect(p.items).toHaveLength(3); // every item is accepted, full or not
    p.drainNow();
    await Bun.sleep(0);
    expect(calls).toEqual(['pause', 'drained']);
    expect(valve.waiting).toBe(false);
  });

  test("a drain awaited before a reset resumes nothing", async () => {
    const calls: string[] = [];
    const valve = new OutputValve({ pause: () => calls.push('pause'), drained: () => calls.push('drained') });
    const p = pipeline(1);
    valve.output = p.output;
    valve.push({ position: 1n });
    valve.reset();
    expect(valve.waiting).toBe(false);
    p.drainNow();
    await Bun.sleep(0);
    expect(calls).toEqual(['pause']);
  });

  test('without an output nothing is pushed', () => {
    const valve = new OutputValve({ pause: () => { throw new Error('no pause'); }, drained: () => {} });
    valve.push({ position: 1n });
    expect(valve.waiting).toBe(false);
  });
});
