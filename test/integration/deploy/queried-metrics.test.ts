/**
 * Every metric and label the Grafana dashboard (deploy/grafana/) and the alert rules
 * (deploy/prometheus/) query exists in /metrics of a running streamer (docs/operations.md,
 * "Dashboards and alerts"): src/main.ts with a real PostgreSQL source (initial snapshot, slot
 * monitor, a WAL budget, max_slot_wal_keep_size set so safe_wal_size exists) into a Kafka sink with
 * a dead-letter topic, an HTTP sink (a real receiver) and a NATS sink (a real nats-server with
 * JetStream), and a Kafka source relaying that topic to a file sink; rows streamed, one
 * row too large for its topic (dead-lettered) and one malformed message (dead-lettered by the
 * relay), so counters and histograms that appear only after an event have samples.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import { kafkaSourceToml, postgresSourceToml, sinkToml, kafkaSinkToml, streamerToml } from '../../helpers/configs.ts';
import { deployQueries } from '../../helpers/deploy.ts';
import { deleteTopics, useKafka } from '../../helpers/kafka.ts';
import { startReceiver } from '../../helpers/http-receiver.ts';
import { useNats } from '../../helpers/nats.ts';
import { createTopicWithConfigs } from '../../helpers/kafka-sink.ts';
import { produce } from '../../helpers/kafka-source.ts';
import { pgClient, uniqueName } from '../../helpers/pg.ts';
import { preparePublication } from '../../helpers/postgres-source.ts';
import { usePrivateCluster } from '../../helpers/private-cluster.ts';
import { promqlNames } from '../../helpers/promql.ts';
import { killChildren, startStreamer, useTempDirs, waitFor, type StreamerProcess } from '../../helpers/streamer.ts';

const children: StreamerProcess[] = [];
// Registered first, so the streamer is gone before the servers stop.
afterAll(() => killChildren(children), 60_000);
const kafka = useKafka();
const nats = useNats();
const pg = usePrivateCluster({ settings: ["max_slot_wal_keep_size = '1GB'"] });
const newDir = useTempDirs('psql-streamer-deploy-');

/** Labels Prometheus adds to every series of a target (not in /metrics). */
const TARGET_LABELS = new Set(['job', 'instance']);
/**
 * Metrics a healthy streamer declares (`# TYPE`) but may have no series of, and why; when absent
 * their labels are checked against the catalogue. Every other queried metric must have series.
 */
const SERIES_ONLY_AFTER: Record<string, string> = {
  source_refused: 'a source refused to stream (the process then exits with code 3)',
  sink_errors: 'a sink failed a batch (labelled per table, so no series exists at 0 before)',
  http_sink_dead_lettered_total: 'an HTTP sink dead-lettered events (labelled per status; the receiver refuses nothing in this run)',
  nats_sink_publish_errors_total: 'a batch of a NATS sink failed (labelled per error; none fails in this run)',
};

/** Metric name → the label names of its series, from Prometheus text exposition; `# TYPE` names too. */
function parseExposition(text: string): { series: Map<string, Set<string>>; declared: Set<string> } {
  const series = new Map<string, Set<string>>();
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) declared.add(type[1] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+\S+$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = series.get(m[1] as string) ?? new Set<string>();
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(pair[1] as string);
    series.set(m[1] as string, labels);
  }
  return { series, declared };
}

/** The value of the first series of `name` whose labels include `labels`, or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const at = line.lastIndexOf(' ');
    if (wanted.every((pair) => line.slice(0, at).includes(pair))) return Number(line.slice(at + 1));
  }
  return undefined;
}

describe('deploy/: every queried metric exists in /metrics', () => {
  test('of a streamer with a PostgreSQL source, Kafka (one exactly once), HTTP and NATS sinks and a Kafka relay, after rows were streamed', async () => {
    const sql = pgClient(pg.cluster.server, { max: 1 });
    const ownTopics: string[] = [];
    const receiver = startReceiver();
    try {
      const table = uniqueName('dash');
      const big = uniqueName('dash_big');
      await sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
      await sql.unsafe(`CREATE TABLE ${big} (id int PRIMARY KEY, v text)`);
      await sql.unsafe(`INSERT INTO ${table} SELECT i, 'before ' || i FROM generate_series(1, 50) i`);
      const { slot, publication } = await preparePublication(sql, [table, big], false);
      const events = await kafka.createTopic({ prefix: 'dash-events' });
      const small = uniqueName('dash-small');
      await createTopicWithConfigs(kafka.admin(), small, 1, { 'max.message.bytes': '2000' });
      ownTopics.push(small);
      const dlq = await kafka.createTopic({ prefix: 'dash-dlq' });
      const relayDlq = await kafka.createTopic({ prefix: 'dash-relay-dlq' });
      const eosTopic = await kafka.createTopic({ prefix: 'dash-eos' });
      const positionTopic = uniqueName('dash-positions'); // created by the exactly-once sink
      ownTopics.push(positionTopic);
      const jetStream = await nats.createStream('dash');
      const brokers = kafka.server.brokers;
      const dir = newDir();
      const config = streamerToml({
        state: join(dir, 'state.db'),
        sections: [
          postgresSourceToml({
            server: pg.cluster.server, publication, slot,
            source: 'snapshot = "initial"\nslotMonitorInterval = "300ms"\nwalBudgetWarn = "1GiB"\nwalBudgetMax = "2GiB"\nstartRetryInterval = "100ms"\n',
          }),
          kafkaSinkToml({
            brokers, name: 'kafka', sources: ['db1'],
            sink: `tableTopicMapping = { "public.${table}" = "${events}", "public.${big}" = "${small}" }\ndeadLetterTopic = "${dlq}"\n`,
          }),
          kafkaSinkToml({
            brokers, name: 'eos', sources: ['db1'],
            sink: `topicFallback = "${eosTopic}"\nexactlyOnce = true\nrequiredAcks = -1\ntransactionalId = "${uniqueName('dash-txn')}.{sink}.{source}"\npositionTopic = "${positionTopic}"\n`,
          }),
          sinkToml('hook', 'http', `url = "${receiver.url}/cdc"`),
          sinkToml('nats', 'nats', `servers = ["${nats.server.url}"]\nsubjectFallback = "${jetStream}.{table}"\nstream = "${jetStream}"`),
          kafkaSourceToml({ name: 'relay', brokers, topics: [events], group: uniqueName('dash-group'), source: `deadLetterTopic = "${relayDlq}"\n` }),
          sinkToml('out', 'file', `path = "${join(dir, 'relayed.jsonl')}"`, ['relay']),
        ],
      });
      const streamer = startStreamer(dir, config, 'dash');
      children.push(streamer);
      const url = await streamer.httpUrl();
      await streamer.waitForLog('Streaming from', 60_000);

      await sql.unsafe(`INSERT INTO ${table} SELECT i, 'after ' || i FROM generate_series(51, 100) i`);
      await sql.unsafe(`UPDATE ${table} SET v = v || '!' WHERE id <= 10`);
      await sql.unsafe(`INSERT INTO ${big} VALUES (1, repeat('x', 20000))`);
      await produce(brokers, events, [{ value: 'not an event' }]);

      let text = '';
      const scrape = async () => {
        text = await (await fetch(`${url}/metrics`)).text();
        return text;
      };
      // Counters and histograms that need an event: every one has a sample before the names are checked.
      const needs: [string, Record<string, string>][] = [
        ['source_commit_to_ack_seconds_count', { sourceName: 'db1' }],
        ['kafka_sink_dead_lettered_total', { sinkName: 'kafka', topic: small }],
        ['kafka_sink_transactions_total', { sinkName: 'eos', result: 'committed' }],
        ['kafka_sink_transaction_stage_seconds_count', { sinkName: 'eos', stage: 'end' }],
        ['kafka_source_dead_lettered_total', { sourceName: 'relay' }],
        ['snapshot_rows_total', { source: 'db1' }],
        ['source_slot_safe_wal_size_bytes', { sourceName: 'db1' }],
        ['kafka_source_consumer_lag', { sourceName: 'relay' }],
        ['sink_events', { sinkName: 'out' }],
        ['http_sink_request_seconds_count', { sinkName: 'hook' }],
        ['nats_sink_publish_seconds_count', { sinkName: 'nats' }],
      ];
      await waitFor('every event-driven series', async () => {
        await scrape();
        return needs.every(([name, labels]) => (value(text, name, labels) ?? 0) > 0 || (name === 'kafka_source_consumer_lag' && value(text, name, labels) !== undefined));
      }, 90_000, () => `missing: ${needs.filter(([name, labels]) => value(text, name, labels) === undefined).map(([n]) => n).join(', ')}\n${streamer.stderr().slice(-3000)}`);
      expect(value(text, 'source_wal_budget_bytes', { sourceName: 'db1', limit: 'max' })).toBe(2 * 2 ** 30);
      expect(value(text, 'source_slot_wal_status', { sourceName: 'db1', status: 'reserved' })).toBe(1);

      const { series, declared } = parseExposition(text);
      const catalogue = createMetrics();
      const catalogueLabels = (name: string) =>
        new Set((catalogue.registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? []);
      const problems: string[] = [];
      const queries = deployQueries();
      expect(queries.length).toBeGreaterThan(40);
      for (const { where, expr } of queries) {
        const { metrics, grouping } = promqlNames(expr);
        const labelsOfExpr = new Set<string>(TARGET_LABELS);
        for (const [name, labels] of metrics) {
          if (name === 'up') {
            // Prometheus' own series per target: only target labels.
            for (const label of labels) if (!TARGET_LABELS.has(label)) problems.push(`${where}: up has no label ${label}`);
            continue;
          }
          let have = series.get(name);
          if (have === undefined && name in SERIES_ONLY_AFTER && declared.has(name)) have = catalogueLabels(name);
          if (have === undefined) {
            problems.push(`${where}: ${name} is not in /metrics${declared.has(name) ? ' (declared, but no series)' : ''}`);
            continue;
          }
          for (const label of have) labelsOfExpr.add(label);
          for (const label of labels) if (!TARGET_LABELS.has(label) && !have.has(label)) problems.push(`${where}: ${name} has no label ${label} (has ${[...have].join(', ')})`);
        }
        for (const label of grouping) if (!labelsOfExpr.has(label)) problems.push(`${where}: no metric of the expression has the label ${label}`);
      }
      expect(problems).toEqual([]);
      // The refusal gauge has no series in a healthy run, and its labels come from the catalogue.
      expect(series.has('source_refused')).toBe(false);
      expect([...catalogueLabels('source_refused')].sort()).toEqual(['reason', 'sourceName']);
    } finally {
      await receiver.stop();
      await sql.end();
      await deleteTopics(kafka.admin(), ownTopics).catch(() => {});
    }
  }, 180_000);
});
