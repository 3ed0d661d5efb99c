import { describe, expect, test } from 'bun:test';
import { createMetrics } from '../../../../../src/metrics/catalogue.ts';
import { registerSnapshotMetrics } from '../../../../../src/sources/postgres/snapshot/metrics.ts';
import { MemorySnapshotControl, tableProgress } from '../../../../helpers/snapshot-fakes.ts';

/** The sample lines of `name` (exactly that name, any labels) in an exposition text. */
const samples = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

async function scrape(metrics: ReturnType<typeof createMetrics>, name: string): Promise<string[]> {
  return samples((await metrics.scrape()).body, name);
}

function setup() {
  const metrics = createMetrics();
  const control = new MemorySnapshotControl('db1');
  registerSnapshotMetrics(metrics, 'db1', control);
  return { metrics, control };
}

describe('registerSnapshotMetrics', () => {
  test('per-source series exist from the start: nothing running, ETA 0, no failures', async () => {
    const { metrics } = setup();
    expect(await scrape(metrics, 'snapshot_running')).toEqual(['snapshot_running{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_rows_per_second')).toEqual(['snapshot_rows_per_second{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_eta_seconds')).toEqual(['snapshot_eta_seconds{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_failed_tables_total')).toEqual(['snapshot_failed_tables_total{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_rows_total')).toEqual([]);
  });

  test('rows and chunks grow by what each snapshot delivered since the last scrape; two snapshots of a table add up', async () => {
    const { metrics, control } = setup();
    await control.start({ tables: ['public.orders'] });
    await control.start({ tables: ['public.orders', 'public.items'] });
    expect(await scrape(metrics, 'snapshot_running')).toEqual(['snapshot_running{source="db1"} 2']);
    expect(await scrape(metrics, 'snapshot_rows_total')).toEqual([
      'snapshot_rows_total{source="db1",table="public.orders"} 0',
      'snapshot_rows_total{source="db1",table="public.items"} 0',
    ]);
    control.update('s-1', (s) => ({ ...s, state: 'running', rowsPerSecond: 100, etaSeconds: 8, tables: [tableProgress('public.orders', { rowsDone: 200, chunks: 2 })] }));
    control.update('s-2', (s) => ({
      ...s, state: 'running', rowsPerSecond: 50, etaSeconds: 30,
      tables: [tableProgress('public.orders', { rowsDone: 100, chunks: 1 }), tableProgress('public.items', { state: 'pending' })],
    }));
    expect(await scrape(metrics, 'snapshot_rows_total')).toEqual([
      'snapshot_rows_total{source="db1",table="public.orders"} 300',
      'snapshot_rows_total{source="db1",table="public.items"} 0',
    ]);
    // A second scrape adds nothing new.
    expect(await scrape(metrics, 'snapshot_chunks_total')).toEqual([
      'snapshot_chunks_total{source="db1",table="public.orders"} 3',
      'snapshot_chunks_total{source="db1",table="public.items"} 0',
    ]);
    expect(await scrape(metrics, 'snapshot_rows_per_second')).toEqual(['snapshot_rows_per_second{source="db1"} 150']);
    expect(await scrape(metrics, 'snapshot_eta_seconds')).toEqual(['snapshot_eta_seconds{source="db1"} 30']);
    expect(await scrape(metrics, 'snapshot_rows_estimated')).toEqual([
      'snapshot_rows_estimated{source="db1",table="public.orders"} 2000',
      'snapshot_rows_estimated{source="db1",table="public.items"} 1000',
    ]);

    control.update('s-1', (s) => ({ ...s, tables: [tableProgress('public.orders', { rowsDone: 1200, rowsEstimated: 1000, chunks: 12 })] }));
    expect(await scrape(metrics, 'snapshot_rows_total')).toContain('snapshot_rows_total{source="db1",table="public.orders"} 1300');
    // The estimate never stays below the rows read.
    expect(await scrape(metrics, 'snapshot_rows_estimated')).toContain('snapshot_rows_estimated{source="db1",table="public.orders"} 2200');
  });

  test('finished snapshots stop counting as running; estimates go back to 0; a pruned snapshot takes nothing back', async () => {
    const { metrics, control } = setup();
    await control.start({ tables: ['public.orders'] });
    control.update('s-1', (s) => ({ ...s, state: 'running', tables: [tableProgress('public.orders', { rowsDone: 500, chunks: 5 })] }));
    await scrape(metrics, 'snapshot_rows_total');
    control.update('s-1', (s) => ({ ...s, state: 'done', tables: [tableProgress('public.orders', { state: 'done', rowsDone: 1000, chunks: 10 })] }));
    expect(await scrape(metrics, 'snapshot_running')).toEqual(['snapshot_running{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_eta_seconds')).toEqual(['snapshot_eta_seconds{source="db1"} 0']);
    expect(await scrape(metrics, 'snapshot_rows_estimated')).toEqual(['snapshot_rows_estimated{source="db1",table="public.orders"} 0']);
    control.snapshots.length = 0;
    expect(await scrape(metrics, 'snapshot_rows_total')).toEqual(['snapshot_rows_total{source="db1",table="public.orders"} 1000']);
    expect(await scrape(metrics, 'snapshot_rows_estimated')).toEqual(['snapshot_rows_estimated{source="db1",table="public.orders"} 0']);
  });

  test('an unknown ETA is -1; each failed table counts once', async () => {
    const { metrics, control } = setup();
    await control.start({ tables: ['public.orders', 'public.items'] });
    expect(await scrape(metrics, 'snapshot_eta_seconds')).toEqual(['snapshot_eta_seconds{source="db1"} -1']);
    control.update('s-1', (s) => ({ ...s, state: 'running', tables: [tableProgress('public.orders', { state: 'failed', error: 'no key' }), tableProgress('public.items')] }));
    expect(await scrape(metrics, 'snapshot_failed_tables_total')).toEqual(['snapshot_failed_tables_total{source="db1"} 1']);
    expect(await scrape(metrics, 'snapshot_failed_tables_total')).toEqual(['snapshot_failed_tables_total{source="db1"} 1']);
  });
});
