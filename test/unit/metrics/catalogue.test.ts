import { describe, expect, test } from 'bun:test';
import { createMetrics, DEFAULT_BUCKETS } from '../../../src/metrics/catalogue.ts';

/** The sample lines of `name` (exactly that name, any labels) in an exposition text. */
const samples = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

describe('createMetrics', () => {
  test('the original six keep their names, types, labels and default buckets (golden text)', async () => {
    const metrics = createMetrics();
    const source = { sourceName: 'db1', sourceType: 'Source-PSQL', table: 'orders' };
    const sink = { sinkName: 'out', sinkType: 'Sink-File', table: 'orders' };
    metrics.sourceEvents.inc(source, 3);
    metrics.sourceErrors.inc({ ...source, table: '' });
    metrics.sourceEventProcessingTime.observe(source, 0.003);
    metrics.sinkEvents.inc(sink, 3);
    metrics.sinkErrors.inc(sink);
    metrics.sinkEventProcessingTime.observe(sink, 0.02);
    const { body, contentType } = await metrics.scrape();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toContain([
      '# HELP source_event_processing_time_sec Time to build an event from a source message and queue it, in seconds',
      '# TYPE source_event_processing_time_sec histogram',
      ...DEFAULT_BUCKETS.map((le) => `source_event_processing_time_sec_bucket{le="${le}",sourceName="db1",sourceType="Source-PSQL",table="orders"} 1`),
      'source_event_processing_time_sec_bucket{le="+Inf",sourceName="db1",sourceType="Source-PSQL",table="orders"} 1',
      'source_event_processing_time_sec_sum{sourceName="db1",sourceType="Source-PSQL",table="orders"} 0.003',
      'source_event_processing_time_sec_count{sourceName="db1",sourceType="Source-PSQL",table="orders"} 1',
      '',
      '# HELP source_events Events produced by a source',
      '# TYPE source_events counter',
      'source_events{sourceName="db1",sourceType="Source-PSQL",table="orders"} 3',
      '',
      '# HELP source_errors Errors of a source (undecodable values, malformed messages, replication errors)',
      '# TYPE source_errors counter',
      'source_errors{sourceName="db1",sourceType="Source-PSQL",table=""} 1',
    ].join('\n'));
    expect(samples(body, 'sink_events')).toEqual(['sink_events{sinkName="out",sinkType="Sink-File",table="orders"} 3']);
    expect(samples(body, 'sink_errors')).toEqual(['sink_errors{sinkName="out",sinkType="Sink-File",table="orders"} 1']);
    expect(body).toContain('# TYPE sink_event_processing_time_sec histogram');
    expect(body).toContain('sink_event_processing_time_sec_bucket{le="0.025",sinkName="out",sinkType="Sink-File",table="orders"} 1');
    expect(body).toContain('sink_event_processing_time_sec_bucket{le="0.01",sinkName="out",sinkType="Sink-File",table="orders"} 0');
  });

  test('two sets share nothing: each test or program counts on its own', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.pipelineAcks.inc({ source: 'db1' });
    expect(samples((await a.scrape()).body, 'pipeline_acks_total')).toEqual(['pipeline_acks_total{source="db1"} 1']);
    expect(samples((await b.scrape()).body, 'pipeline_acks_total')).toEqual([]);
  });

  test('onCollect runs before the metrics are read, by a scrape and by get()', async () => {
    const metrics = createMetrics();
    let level = 7;
    metrics.onCollect(() => metrics.pipelineBufferedEvents.set({ source: 'db1' }, level));
    expect(samples((await metrics.scrape()).body, 'pipeline_buffered_events')).toEqual(['pipeline_buffered_events{source="db1"} 7']);
    level = 2;
    expect((await metrics.pipelineBufferedEvents.get()).values.map((v) => v.value)).toEqual([2]);
  });

  test('process metrics: the names operators scrape exist under Bun, with a sample', async () => {
    const metrics = createMetrics({ processMetrics: true });
    const first = (await metrics.scrape()).body;
    // nodejs_eventloop_lag_seconds is measured after a scrape (setImmediate) and shown by the next one.
    await Bun.sleep(5);
    const text = (await metrics.scrape()).body;
    const names = [
      'process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total',
      'process_start_time_seconds', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'nodejs_version_info',
      ...(process.platform === 'linux' ? ['process_virtual_memory_bytes', 'process_heap_bytes', 'process_open_fds', 'process_max_fds'] : []),
    ];
    for (const name of names) {
      expect(samples(text, name).length, name).toBeGreaterThan(0);
      expect(first).toContain(`# TYPE ${name} `);
    }
    const value = (name: string) => Number(samples(text, name)[0]!.split(' ').pop());
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });
});
