/**
 * The pipeline's metrics (src/metrics/catalogue.ts), labelled once per pipeline: the per-batch
 * histograms, the per-sink retry counters, and the buffer gauges and acknowledgements read from the
 * pipeline's own counts when the metrics are collected.
 */
import type { Metrics } from '../metrics/catalogue.ts';
import { HistogramSeries } from '../metrics/histogram-series.ts';

/**
 * The pipeline's metrics, labelled once; histograms observed once per batch. The buffer gauges and
 * the acknowledgements are read from the pipeline's own counts when the metrics are collected.
 */
export function pipelineMetrics(
  metrics: Metrics,
  source: string,
  sinks: readonly { readonly name: string }[],
  counts: { readonly level: { events: number; bytes: number }; acks(): number; stopped(): boolean },
) {
  const bufferedEvents = metrics.pipelineBufferedEvents.labels({ source });
  const bufferedBytes = metrics.pipelineBufferedBytes.labels({ source });
  const stopped = metrics.pipelineStopped.labels({ source });
  const acks = metrics.pipelineAcks.labels({ source });
  let acksAdded = 0;
  metrics.onCollect(() => {
    bufferedEvents.set(counts.level.events);
    bufferedBytes.set(counts.level.bytes);
    stopped.set(counts.stopped() ? 1 : 0);
    const now = counts.acks();
    if (now > acksAdded) acks.inc(now - acksAdded);
    acksAdded = now;
  });
  // Every series is exposed from the start (at 0), so rate() has a first sample. The histograms are
  // observed per batch, so in plain numbers added when collected (metrics/histogram-series.ts).
  metrics.pipelineAcks.inc({ source }, 0);
  for (const { name: sink } of sinks) metrics.pipelineRetries.inc({ source, sink }, 0);
  return {
    batchEvents: new HistogramSeries(metrics, metrics.pipelineBatchEvents, { source }),
    delivery: new Map(sinks.map((s) => [s.name, new HistogramSeries(metrics, metrics.pipelineDeliverySeconds, { source, sink: s.name })])),
    retries: new Map(sinks.map((s) => [s.name, metrics.pipelineRetries.labels({ source, sink: s.name })])),
  };
}

export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;
