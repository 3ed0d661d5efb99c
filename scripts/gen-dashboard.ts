#!/usr/bin/env bun
/**
 * Writes deploy/grafana/psql-streamer.json, the Grafana dashboard over the metrics of
 * src/metrics/catalogue.ts (docs/operations.md, "Dashboards and alerts"), from the compact panel
 * list below, so the JSON is reviewed as code. `bun scripts/gen-dashboard.ts` rewrites the file;
 * `--check` exits 1 when it is stale (test/unit/deploy/dashboard.test.ts runs it).
 *
 * The data source is the variable DS_PROMETHEUS (type datasource): the same file imports through
 * Grafana's UI (Dashboards > New > Import) and loads through file provisioning.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const OUT = new URL('../deploy/grafana/psql-streamer.json', import.meta.url).pathname;
/** Grafana 10.4 / 11.x dashboard schema; newer Grafana migrates it on load. */
const SCHEMA_VERSION = 39;
const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

/** Every query names the job and instance: process_* metrics are shared with other exporters. */
const I = 'job=~"$job", instance=~"$instance"';
const SRC = `${I}, sourceName=~"$source"`; // source_* metrics of a PostgreSQL or Kafka source
const PIPE = `${I}, source=~"$source"`; // pipeline_* and snapshot_* metrics
const SINK = `${I}, sinkName=~"$sink"`;
const RATE = '[$__rate_interval]';

interface Target { expr: string; legend: string; format?: 'heatmap' }
interface PanelSpec {
  title: string;
  description: string;
  type?: 'timeseries' | 'stat' | 'heatmap';
  unit?: string;
  width?: number;
  height?: number;
  targets: Target[];
  /** Extra fieldConfig.defaults (mappings, thresholds, min). */
  defaults?: Record<string, unknown>;
  overrides?: unknown[];
  options?: Record<string, unknown>;
}
interface Section { row: string; panels: PanelSpec[] }

const t = (expr: string, legend: string): Target => ({ expr, legend });
const quantiles = (metric: string, by: string, filter: string, legend: string): Target[] =>
  [0.5, 0.99].map((q) => t(`histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket{${filter}}${RATE})))`, `p${q * 100} ${legend}`));
const upDown = (up: string, down: string) => ({
  mappings: [{ type: 'value', options: { '0': { text: down, color: 'red', index: 0 }, '1': { text: up, color: 'green', index: 1 } } }],
  thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
});
const flag = (on: string, off: string) => ({
  mappings: [{ type: 'value', options: { '0': { text: off, color: 'green', index: 0 }, '1': { text: on, color: 'red', index: 1 } } }],
  thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] },
});
/** Series whose name matches `regex` drawn dashed (limits, not measurements). */
const dashed = (regex: string) => ({
  matcher: { id: 'byRegexp', options: regex },
  properties: [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }, { id: 'custom.fillOpacity', value: 0 }],
});
/** Series whose name matches `regex` on the right axis, in `unit`. */
const rightAxis = (regex: string, unit: string) => ({
  matcher: { id: 'byRegexp', options: regex },
  properties: [{ id: 'unit', value: unit }, { id: 'custom.axisPlacement', value: 'right' }],
});

const SECTIONS: Section[] = [
  { row: 'Health', panels: [
    { title: 'Components', type: 'stat', width: 10, description: 'component_up per source, pipeline and sink: 1 while it reports itself healthy (/status). A warm standby\'s source shows DOWN ("standing by") by design.',
      targets: [t(`component_up{${I}}`, '{{type}} ({{name}})')], defaults: upDown('UP', 'DOWN') },
    { title: 'Pipelines', type: 'stat', width: 5, description: 'pipeline_stopped: STOPPED once a permanent error halted the pipeline for good (restart needed after fixing the cause).',
      targets: [t(`pipeline_stopped{${PIPE}}`, '{{source}}')], defaults: flag('STOPPED', 'running') },
    { title: 'Slot wal_status', type: 'stat', width: 5, description: 'source_slot_wal_status: the slot\'s current wal_status (reserved is healthy; extended, unreserved, lost, missing need attention: docs/operations.md "The WAL budget").',
      targets: [t(`source_slot_wal_status{${SRC}} == 1`, '{{sourceName}}: {{status}}')], options: { textMode: 'name', colorMode: 'none' } },
    { title: 'Uptime', type: 'stat', width: 4, unit: 's', description: 'Time since the process started (process_start_time_seconds).',
      targets: [t(`time() - process_start_time_seconds{${I}}`, '{{instance}}')] },
  ] },
  { row: 'Throughput', panels: [
    { title: 'Events read, by source', unit: 'short', description: 'source_events per second: events a source produced (changes, messages, snapshot rows), all tables.',
      targets: [t(`sum by (instance, sourceName) (rate(source_events{${SRC}}${RATE}))`, '{{sourceName}}')], defaults: { custom: { axisLabel: 'events/s' } } },
    { title: 'Events delivered, by sink', unit: 'short', description: 'sink_events per second: events each sink delivered.',
      targets: [t(`sum by (instance, sinkName) (rate(sink_events{${SINK}}${RATE}))`, '{{sinkName}}')], defaults: { custom: { axisLabel: 'events/s' } } },
    { title: 'Kafka messages written, by topic', unit: 'short', description: 'kafka_sink_messages_total per second: messages the brokers acknowledged (dead-letter topic included).',
      targets: [t(`sum by (instance, sinkName, topic) (rate(kafka_sink_messages_total{${SINK}}${RATE}))`, '{{sinkName}} → {{topic}}')], defaults: { custom: { axisLabel: 'messages/s' } } },
    { title: 'Kafka bytes written, by topic', unit: 'Bps', description: 'kafka_sink_bytes_total per second: key, value and headers of the messages written.',
      targets: [t(`sum by (instance, sinkName, topic) (rate(kafka_sink_bytes_total{${SINK}}${RATE}))`, '{{sinkName}} → {{topic}}')] },
  ] },
  { row: 'HTTP and NATS sinks', panels: [
    { title: 'HTTP requests, by outcome', unit: 'short', description: 'http_sink_requests_total per second: requests an HTTP sink sent, by status code ("network"/"timeout" when no answer came). 2xx is delivered; 408, 429 and 5xx are retried; other 4xx are dead-lettered or stop the pipeline (docs/http-sink.md).',
      targets: [t(`sum by (instance, sinkName, status) (rate(http_sink_requests_total{${SINK}}${RATE}))`, '{{sinkName}} {{status}}')], defaults: { custom: { axisLabel: 'requests/s' } } },
    { title: 'HTTP request latency', unit: 's', description: 'http_sink_request_seconds: one request until its response (or failure).',
      targets: quantiles('http_sink_request_seconds', 'instance, sinkName', SINK, '{{sinkName}}') },
    { title: 'HTTP bytes delivered', unit: 'Bps', description: 'http_sink_bytes_total per second: body bytes of the requests answered 2xx.',
      targets: [t(`sum by (instance, sinkName) (rate(http_sink_bytes_total{${SINK}}${RATE}))`, '{{sinkName}}')] },
    { title: 'NATS messages acknowledged', unit: 'short', description: 'nats_sink_messages_total per second: messages JetStream acknowledged; duplicates (nats_sink_duplicates_total, dashed) are the redeliveries the stream\'s duplicate window dropped (docs/nats.md "Duplicates").',
      targets: [t(`sum by (instance, sinkName) (rate(nats_sink_messages_total{${SINK}}${RATE}))`, 'acknowledged {{sinkName}}'),
        t(`sum by (instance, sinkName) (rate(nats_sink_duplicates_total{${SINK}}${RATE}))`, 'duplicates {{sinkName}}')], overrides: [dashed('^duplicates ')], defaults: { custom: { axisLabel: 'messages/s' } } },
    { title: 'NATS publish latency (batch → last ack)', unit: 's', description: 'nats_sink_publish_seconds: from publishing a batch until JetStream acknowledged all of its messages (or the batch failed).',
      targets: quantiles('nats_sink_publish_seconds', 'instance, sinkName', SINK, '{{sinkName}}') },
    { title: 'NATS bytes acknowledged', unit: 'Bps', description: 'nats_sink_bytes_total per second: payload bytes of the messages JetStream acknowledged.',
      targets: [t(`sum by (instance, sinkName) (rate(nats_sink_bytes_total{${SINK}}${RATE}))`, '{{sinkName}}')] },
  ] },
  { row: 'Lag and WAL retention', panels: [
    { title: 'Seconds behind', unit: 's', description: 'delivered: age of the oldest transaction not yet acknowledged by every sink (0 when none waits). received: age of the last transaction read (0 once caught up). docs/operations.md "The gauges".',
      targets: [t(`source_delivered_lag_seconds{${SRC}}`, 'delivered {{sourceName}}'), t(`source_received_lag_seconds{${SRC}}`, 'received {{sourceName}}')] },
    { title: 'Slot behind (bytes)', unit: 'bytes', description: 'source_slot_behind_bytes: WAL between the server\'s WAL end and the slot\'s confirmed_flush_lsn (what the streamer has not confirmed yet).',
      targets: [t(`source_slot_behind_bytes{${SRC}}`, '{{sourceName}}')] },
    { title: 'Retained WAL vs budget', unit: 'bytes', description: 'source_slot_retained_bytes (WAL the server keeps for the slot) against walBudgetWarn / walBudgetMax (source_wal_budget_bytes, dashed) and safe_wal_size (left before max_slot_wal_keep_size; absent when unlimited).',
      targets: [t(`source_slot_retained_bytes{${SRC}}`, 'retained {{sourceName}}'), t(`source_wal_budget_bytes{${SRC}}`, 'budget {{limit}} {{sourceName}}'),
        t(`source_slot_safe_wal_size_bytes{${SRC}}`, 'safe_wal_size {{sourceName}}')], overrides: [dashed('^budget ')] },
    { title: 'Pipeline buffer', unit: 'short', description: 'Events (left) and approximate bytes (right) queued or in flight, not yet acknowledged by every sink; at maxBufferedEvents / maxBufferedBytes the source pauses.',
      targets: [t(`pipeline_buffered_events{${PIPE}}`, 'events {{source}}'), t(`pipeline_buffered_bytes{${PIPE}}`, 'bytes {{source}}')], overrides: [rightAxis('^bytes ', 'bytes')] },
    { title: 'Kafka source consumer lag', unit: 'short', description: 'kafka_source_consumer_lag: messages of the partitions a Kafka source owns not committed yet, by topic.',
      targets: [t(`sum by (instance, sourceName, topic) (kafka_source_consumer_lag{${SRC}})`, '{{sourceName}} ← {{topic}}')] },
  ] },
  { row: 'Latency and batches', panels: [
    { title: 'Commit → ack latency', unit: 's', description: 'source_commit_to_ack_seconds: from a transaction\'s commit on PostgreSQL (server clock) until every sink acknowledged it, per transaction.',
      targets: quantiles('source_commit_to_ack_seconds', 'instance, sourceName', SRC, '{{sourceName}}') },
    { title: 'Commit → ack latency distribution', type: 'heatmap', description: 'source_commit_to_ack_seconds buckets: transactions per latency bucket.',
      targets: [{ expr: `sum by (le) (increase(source_commit_to_ack_seconds_bucket{${SRC}}${RATE}))`, legend: '{{le}}', format: 'heatmap' }],
      options: { calculate: false, yAxis: { unit: 's' }, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', scale: 'exponential', exponent: 0.5 } } },
    { title: 'Delivery to a sink (batch → ack)', unit: 's', description: 'pipeline_delivery_seconds: from handing a batch to a sink until it acknowledged it, retries included.',
      targets: quantiles('pipeline_delivery_seconds', 'instance, source, sink', `${PIPE}, sink=~"$sink"`, '{{source}} → {{sink}}') },
    { title: 'Kafka produce request latency', unit: 's', description: 'kafka_sink_produce_seconds: one produce request until the brokers acknowledged it (per requiredAcks).',
      targets: quantiles('kafka_sink_produce_seconds', 'instance, sinkName', SINK, '{{sinkName}}') },
    { title: 'Batch size', unit: 'short', description: 'pipeline_batch_events: events per batch delivered to the sinks (average, and median from the buckets).',
      targets: [t(`sum by (instance, source) (rate(pipeline_batch_events_sum{${PIPE}}${RATE})) / sum by (instance, source) (rate(pipeline_batch_events_count{${PIPE}}${RATE}))`, 'average {{source}}'),
        t(`histogram_quantile(0.5, sum by (le, instance, source) (rate(pipeline_batch_events_bucket{${PIPE}}${RATE})))`, 'p50 {{source}}')], defaults: { custom: { axisLabel: 'events/batch' } } },
    { title: 'Batches acknowledged', unit: 'short', description: 'pipeline_acks_total per second: acknowledgements passed back to a source after every sink delivered a batch.',
      targets: [t(`sum by (instance, source) (rate(pipeline_acks_total{${PIPE}}${RATE}))`, '{{source}}')], defaults: { custom: { axisLabel: 'acks/s' } } },
    { title: 'Kafka transactions (exactly once)', unit: 'short', description: 'kafka_sink_transactions_total per second, by result: the transactions of Kafka sinks with exactlyOnce = true (one per batch; aborted ones are tried again). Per minute: messages not written again after a restart because Kafka had them (kafka_sink_already_delivered_total), relayed events left out after a rebalance (kafka_sink_relay_left_out_total). docs/kafka.md "Exactly once".',
      targets: [t(`sum by (instance, sinkName, result) (rate(kafka_sink_transactions_total{${SINK}}${RATE}))`, '{{sinkName}} {{result}}/s'),
        t(`60 * sum by (instance, sinkName) (rate(kafka_sink_already_delivered_total{${SINK}}${RATE}))`, '{{sinkName}} already in Kafka/min'),
        t(`60 * sum by (instance, sinkName) (rate(kafka_sink_relay_left_out_total{${SINK}}${RATE}))`, '{{sinkName}} relay left out/min')] },
    { title: 'Kafka transaction stages (p99)', unit: 's', description: 'kafka_sink_transaction_stage_seconds: the 99th percentile of each stage of an exactly-once sink\'s transactions (docs/kafka.md "Exactly once", "Timings"); a slow end points at the transaction coordinator.',
      targets: [t(`histogram_quantile(0.99, sum by (le, instance, sinkName, stage) (rate(kafka_sink_transaction_stage_seconds_bucket{${SINK}}${RATE})))`, '{{sinkName}} {{stage}}')] },
  ] },
  { row: 'Retries, errors and dead letters', panels: [
    { title: 'Delivery retries', unit: 'short', description: 'pipeline_retries_total per minute: failed attempts to deliver a batch to a sink (each retried with backoff; nothing is acknowledged meanwhile).',
      targets: [t(`60 * sum by (instance, source, sink) (rate(pipeline_retries_total{${PIPE}, sink=~"$sink"}${RATE}))`, '{{source}} → {{sink}}')], defaults: { custom: { axisLabel: 'per minute' } } },
    { title: 'Dead-lettered messages', unit: 'short', description: 'Per minute: messages a Kafka sink wrote to its deadLetterTopic (by original topic and reason), events an HTTP sink wrote to its deadLetterFile (by status), and malformed messages a Kafka source dead-lettered.',
      targets: [t(`60 * sum by (instance, sinkName, topic, reason) (rate(kafka_sink_dead_lettered_total{${SINK}}${RATE}))`, 'sink {{sinkName}} {{topic}}: {{reason}}'),
        t(`60 * sum by (instance, sinkName, status) (rate(http_sink_dead_lettered_total{${SINK}}${RATE}))`, 'http {{sinkName}}: {{status}}'),
        t(`60 * sum by (instance, sourceName, topic) (rate(kafka_source_dead_lettered_total{${SRC}}${RATE}))`, 'source {{sourceName}} {{topic}}')], defaults: { custom: { axisLabel: 'per minute' } } },
    { title: 'Errors', unit: 'short', description: 'Per minute: source errors, sink errors, failed Kafka produce requests (by error), failed NATS batches (by error), replication reconnects, failed slot monitor queries.',
      targets: [t(`60 * sum by (instance, sourceName) (rate(source_errors{${SRC}}${RATE}))`, 'source {{sourceName}}'),
        t(`60 * sum by (instance, sinkName) (rate(sink_errors{${SINK}}${RATE}))`, 'sink {{sinkName}}'),
        t(`60 * sum by (instance, sinkName, error) (rate(kafka_sink_produce_errors_total{${SINK}}${RATE}))`, 'produce {{sinkName}}: {{error}}'),
        t(`60 * sum by (instance, sinkName, error) (rate(nats_sink_publish_errors_total{${SINK}}${RATE}))`, 'nats {{sinkName}}: {{error}}'),
        t(`60 * sum by (instance, sourceName) (rate(source_replication_reconnects_total{${SRC}}${RATE}))`, 'reconnects {{sourceName}}'),
        t(`60 * sum by (instance, sourceName, operation) (rate(source_slot_monitor_errors_total{${SRC}}${RATE}))`, 'slot monitor {{sourceName}} {{operation}}')], defaults: { custom: { axisLabel: 'per minute' } } },
    { title: 'Source refusals', type: 'stat', description: 'source_refused: 1 when a source refused to stream until an operator acts (the process then exits 3; docs/operations.md "Positions the server must agree with").',
      targets: [t(`source_refused{${SRC}}`, '{{sourceName}}: {{reason}}')], defaults: flag('REFUSED', 'ok') },
  ] },
  { row: 'Snapshots', panels: [
    { title: 'Snapshot rows copied, by table', unit: 'short', description: 'snapshot_rows_total per second: rows of snapshots (initial and backfills) delivered to every sink.',
      targets: [t(`sum by (instance, source, table) (rate(snapshot_rows_total{${PIPE}}${RATE}))`, '{{source}} {{table}}')], defaults: { custom: { axisLabel: 'rows/s' } } },
    { title: 'Snapshot progress', type: 'stat', width: 12, description: 'Snapshots pending or running, their rate over the last minute, the time left (-1: unknown), and tables that failed.',
      targets: [t(`snapshot_running{${PIPE}}`, 'running {{source}}'), t(`snapshot_rows_per_second{${PIPE}}`, 'rows/s {{source}}'),
        t(`snapshot_eta_seconds{${PIPE}}`, 'ETA s {{source}}'), t(`snapshot_failed_tables_total{${PIPE}}`, 'failed tables {{source}}'),
        t(`sum by (instance, source) (snapshot_rows_estimated{${PIPE}})`, 'rows expected {{source}}')] },
  ] },
  { row: 'Process', panels: [
    { title: 'Memory', unit: 'bytes', width: 8, description: 'Resident set size (process_resident_memory_bytes) and the JavaScript heap in use (nodejs_heap_size_used_bytes).',
      targets: [t(`process_resident_memory_bytes{${I}}`, 'RSS {{instance}}'), t(`nodejs_heap_size_used_bytes{${I}}`, 'heap used {{instance}}')] },
    { title: 'CPU', unit: 'percentunit', width: 8, description: 'CPU time per second (process_cpu_seconds_total): 1 = one core busy.',
      targets: [t(`rate(process_cpu_seconds_total{${I}}${RATE})`, '{{instance}}')] },
    { title: 'Event loop delay', unit: 's', width: 8, description: 'nodejs_eventloop_lag_p99_seconds and _max_seconds since the previous scrape (docs/operations.md "Latency tail").',
      targets: [t(`nodejs_eventloop_lag_p99_seconds{${I}}`, 'p99 {{instance}}'), t(`nodejs_eventloop_lag_max_seconds{${I}}`, 'max {{instance}}')] },
  ] },
];

/** A query variable over label_values(selector, label), several values and All (regex `.*`). */
function queryVariable(name: string, label: string, query: string, description: string) {
  return {
    name, label, description, type: 'query', datasource: DS, query, definition: query,
    refresh: 2, includeAll: true, multi: true, allValue: '.*', current: {}, options: [], regex: '', sort: 1, hide: 0,
  };
}

const VARIABLES = [
  { name: 'DS_PROMETHEUS', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, options: [], regex: '', refresh: 1, hide: 0 },
  queryVariable('job', 'Job', 'label_values(pipeline_acks_total, job)', 'Scrape jobs of psql-streamer (those exporting pipeline_acks_total)'),
  queryVariable('instance', 'Instance', 'label_values(pipeline_acks_total{job=~"$job"}, instance)', 'psql-streamer processes'),
  queryVariable('source', 'Source', 'label_values(pipeline_acks_total{job=~"$job", instance=~"$instance"}, source)', 'Sources ([source.NAME] sections)'),
  queryVariable('sink', 'Sink', 'label_values(pipeline_delivery_seconds_count{job=~"$job", instance=~"$instance", source=~"$source"}, sink)', 'Sinks of the chosen sources'),
];

function panelJson(spec: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }) {
  const type = spec.type ?? 'timeseries';
  const targets = spec.targets.map((target, i) => ({
    datasource: DS, expr: target.expr, legendFormat: target.legend, refId: String.fromCharCode(65 + i),
    ...(target.format ? { format: target.format } : {}),
  }));
  const custom = type === 'timeseries' ? { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false } : {};
  const extra = spec.defaults ?? {};
  const defaults = {
    ...(spec.unit ? { unit: spec.unit } : {}),
    ...extra,
    ...(type === 'timeseries' ? { custom: { ...custom, ...(extra.custom as object | undefined) } } : {}),
  };
  const options = type === 'stat'
    ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value_and_name', justifyMode: 'auto', orientation: 'auto', ...spec.options }
    : type === 'heatmap'
      ? { legend: { show: true }, tooltip: { mode: 'single', yHistogram: true }, ...spec.options }
      : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' }, ...spec.options };
  return {
    id, type, title: spec.title, description: spec.description, datasource: DS, gridPos,
    fieldConfig: { defaults, overrides: spec.overrides ?? [] }, options, targets,
  };
}

/** The dashboard: one row per section, panels laid out left to right, 24 columns wide. */
export function buildDashboard() {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const section of SECTIONS) {
    panels.push({ id: id++, type: 'row', title: section.row, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of section.panels) {
      const w = spec.width ?? 12;
      const h = spec.height ?? (spec.type === 'stat' ? 5 : 8);
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(spec, id++, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    title: 'psql-streamer',
    uid: 'psql-streamer',
    description: 'PostgreSQL change-data-capture with psql-streamer: throughput, lag, WAL retention, retries, dead letters, latency, snapshots, process. Metrics: docs/operations.md.',
    tags: ['psql-streamer', 'postgresql', 'cdc', 'kafka'],
    editable: true,
    graphTooltip: 1,
    id: null,
    links: [],
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    time: { from: 'now-3h', to: 'now' },
    timepicker: {},
    timezone: '',
    version: 1,
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    templating: { list: VARIABLES },
    panels,
  };
}

/** The file's text: two-space JSON and a final newline. */
export function dashboardText(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (import.meta.main) {
  const text = dashboardText();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUT, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) {
      console.error('deploy/grafana/psql-streamer.json is stale: run bun scripts/gen-dashboard.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(OUT, text);
    console.error(`wrote ${OUT}`);
  }
}
