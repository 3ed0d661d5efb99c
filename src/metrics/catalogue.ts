/**
 * Every Prometheus metric of the program, defined once with prom-client. The first six keep the
 * original's names, labels and default buckets (docs/compatibility.md, "Metrics"); the rest
 * are new. `createMetrics()` binds a fresh set to a fresh prom-client Registry: the composition root
 * (src/app.ts) makes one and hands it to every component through its deps, and each test makes its
 * own, so nothing is shared through module state. Hot paths do not call prom-client per event (an
 * `inc` costs ≈ 165 ns, bench/metrics.ts): they count in plain numbers (tally.ts) handed over when
 * the metrics are collected; docs/operations.md "Metrics" says what each per-event metric means.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { replaceHeapSpaceMetrics } from './heap-space.ts';

/** The usual default buckets of Prometheus clients (prom-client's own); the original's histograms used them. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SOURCE_LABELS = ['sourceName', 'sourceType', 'table'] as const;
const SINK_LABELS = ['sinkName', 'sinkType', 'table'] as const;

export interface MetricsOptions {
  /**
   * prom-client's default process and runtime metrics (process_cpu_seconds_total,
   * process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...: docs/operations.md "Metrics").
   * The program turns them on; tests leave them off (each set watches the event loop's delay).
   */
  processMetrics?: boolean;
}

/** A fresh set of the program's metrics, registered in a registry of its own. */
export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  // The event-loop delay monitor samples every 100 ms, not prom-client's 10 ms: 10 ms cost ≈ 9 ms of
  // CPU per second on an idle process under Bun, 100 ms ≈ 1.5 ms (docs/operations.md "Metrics").
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    replaceHeapSpaceMetrics(registry); // prom-client's walk the whole heap at every scrape under Bun
  }
  const collectors = new Set<() => void>();
  /** Runs before these metrics are read (a scrape, or `get()`): counts kept off the hot path are added then. */
  const collect = () => {
    for (const flush of collectors) flush();
  };
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry], collect });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry], collect });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry], collect });

  return {
    registry,
    /**
     * `flush` runs whenever the metrics are collected, before they are read: a component adds
     * what it counted off the hot path (tally.ts) or sets gauges it keeps in plain fields.
     */
    onCollect(flush: () => void): void {
      collectors.add(flush);
    },
    /** The exposition text of every metric, and its content type (Prometheus text format 0.0.4). */
    async scrape(): Promise<{ body: string; contentType: string }> {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
    /** Time to build one event and hand it to the pipeline (original name, default buckets), observed for a sample of events (tally.ts). */
    sourceEventProcessingTime: histogram('source_event_processing_time_sec', 'Time to build an event from a source message and queue it, in seconds', SOURCE_LABELS, DEFAULT_BUCKETS),
    sourceEvents: counter('source_events', 'Events produced by a source', SOURCE_LABELS),
    sourceErrors: counter('source_errors', 'Errors of a source (undecodable values, malformed messages, replication errors)', SOURCE_LABELS),
    /** Time for a sink to encode one event (original name, default buckets), observed for a sample of events (tally.ts). */
    sinkEventProcessingTime: histogram('sink_event_processing_time_sec', 'Time for a sink to encode one event, in seconds', SINK_LABELS, DEFAULT_BUCKETS),
    sinkEvents: counter('sink_events', 'Events delivered by a sink', SINK_LABELS),
    sinkErrors: counter('sink_errors', 'Events a sink failed to encode or deliver', SINK_LABELS),
    /** Events per delivered batch. */
    pipelineBatchEvents: histogram('pipeline_batch_events', 'Number of events in each batch delivered to the sinks', ['source'], [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000]),
    /** From the batch being handed to a sink until the sink acknowledged it, retries included. */
    pipelineDeliverySeconds: histogram('pipeline_delivery_seconds', 'Time for a sink to acknowledge a batch, including retries, in seconds', ['source', 'sink'], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
    pipelineRetries: counter('pipeline_retries_total', 'Failed attempts to deliver a batch to a sink (each is retried with backoff)', ['source', 'sink']),
    pipelineBufferedEvents: gauge('pipeline_buffered_events', 'Events queued or in flight in a pipeline, not yet acknowledged by every sink', ['source']),
    pipelineBufferedBytes: gauge('pipeline_buffered_bytes', 'Approximate bytes held by queued and in-flight events of a pipeline', ['source']),
    /** 1 once a permanent error halted the pipeline for good (read at scrape time); the process runs on. */
    pipelineStopped: gauge('pipeline_stopped', 'Set to 1 when a permanent error stopped the pipeline of a source for good (nothing more is acknowledged until the cause is fixed and the streamer restarted), 0 while it runs', ['source']),
    pipelineAcks: counter('pipeline_acks_total', 'Acknowledgements passed back to a source after every sink delivered a batch', ['source']),
    /** memoryTarget's forced full collections (core/heap-guard.ts), added at scrape time. */
    gcForced: counter('gc_forced_total', 'Full garbage collections forced because the RSS was at or above memoryTarget', []),
    gcForcedSeconds: counter('gc_forced_seconds_total', 'Time the main thread spent in the full garbage collections memoryTarget forced, in seconds', []),
    /** 1 while a component reports itself healthy, 0 otherwise. */
    componentUp: gauge('component_up', 'Whether a source, sink or pipeline is healthy (1) or not (0)', ['name', 'type']),
    /** PostgreSQL source positions (LSNs as byte offsets; exact below 2^53 bytes of WAL). */
    walReceivedLsn: gauge('source_wal_received_lsn', 'Highest WAL position received from PostgreSQL by a postgres source', ['sourceName']),
    walPersistedLsn: gauge('source_wal_persisted_lsn', 'WAL position whose events every sink acknowledged, persisted in the state file', ['sourceName']),
    walConfirmedLsn: gauge('source_wal_confirmed_lsn', 'WAL position confirmed to PostgreSQL (persisted minus walRetain)', ['sourceName']),
    /**
     * In-process only: it stops growing when the source stops reading (back-pressure at
     * maxBufferedEvents), so it understates what the server keeps; see source_slot_behind_bytes.
     */
    walLagBytes: gauge('source_wal_lag_bytes', 'Bytes of WAL received but not yet delivered and persisted (received minus persisted, in process; see source_slot_behind_bytes for the server\'s view)', ['sourceName']),
    /**
     * The slot monitor of a postgres source (docs/operations.md "WAL retention, lag and budget"):
     * polled on an ordinary connection every slotMonitorInterval.
     */
    slotBehindBytes: gauge('source_slot_behind_bytes', 'Bytes of WAL between the server\'s WAL end and the slot\'s confirmed_flush_lsn (pg_current_wal_lsn() - confirmed_flush_lsn)', ['sourceName']),
    slotRetainedBytes: gauge('source_slot_retained_bytes', 'Bytes of WAL the slot makes the server keep (pg_current_wal_lsn() - restart_lsn)', ['sourceName']),
    /** One series per status; 1 for the slot's current one (missing: no slot of that name). */
    slotWalStatus: gauge('source_slot_wal_status', 'wal_status of the slot (reserved, extended, unreserved, lost; missing when the slot does not exist): 1 for the current one, 0 for the others', ['sourceName', 'status']),
    /** Absent when PostgreSQL reports NULL (max_slot_wal_keep_size = -1, a lost slot, or PostgreSQL < 13). */
    slotSafeWalSize: gauge('source_slot_safe_wal_size_bytes', 'safe_wal_size of the slot: bytes of WAL that can still be written before max_slot_wal_keep_size puts the slot in danger of being lost', ['sourceName']),
    slotMonitorErrors: counter('source_slot_monitor_errors_total', 'Failed queries of the slot monitor of a postgres source, by operation (poll, heartbeat); retried every interval', ['sourceName', 'operation']),
    deliveredLagSeconds: gauge('source_delivered_lag_seconds', 'Now minus the commit time of the oldest transaction received but not yet acknowledged by every sink; 0 when none is pending', ['sourceName']),
    /**
     * Per transaction, observed when every sink acknowledged it (postgres/commit-times.ts): the
     * end-to-end latency the seconds-behind gauges show one value of. Server clock to ours.
     */
    commitToAckSeconds: histogram('source_commit_to_ack_seconds', 'Time from a transaction\'s commit on PostgreSQL (the server\'s commit timestamp) until every sink acknowledged it, per transaction, in seconds', ['sourceName'], [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]),
    receivedLagSeconds: gauge('source_received_lag_seconds', 'Now minus the commit time of the last transaction received from PostgreSQL; 0 once the server has nothing more to send', ['sourceName']),
    /** limit = warn or max; only for the limits that are set. */
    walBudgetBytes: gauge('source_wal_budget_bytes', 'The WAL budget of a postgres source (walBudgetWarn, walBudgetMax), by limit', ['sourceName', 'limit']),
    walBudgetExceeded: gauge('source_wal_budget_exceeded', 'Whether the WAL the slot retains is over a limit of the WAL budget (1) or not (0), by limit (warn, max)', ['sourceName', 'limit']),
    heartbeats: counter('source_heartbeats_total', 'Heartbeat messages (pg_logical_emit_message) a postgres source wrote', ['sourceName']),
    /** 1 while a source refuses to stream (reason: start-check.ts RefusalReason); the process then exits with 3. */
    sourceRefused: gauge('source_refused', 'Set to 1 when a source refuses to stream until an operator acts (reason: position_ahead_of_server, other_cluster, slot_missing, slot_ahead, slot_invalidated, publication_dropped, bad_state, wal_budget)', ['sourceName', 'reason']),
    /** PostgreSQL 17+ failover slots (postgres/slot-failover.ts), set at each session start. */
    sourceSlotFailover: gauge('source_slot_failover', 'Set to 1 when the source\'s replication slot is a failover slot (PostgreSQL 17+, synchronised to standbys with sync_replication_slots = on), 0 otherwise', ['sourceName']),
    /** The slot was synchronised from a former primary: the source streams from a promoted standby. */
    sourceSlotSynced: gauge('source_slot_synced', 'Set to 1 when the source\'s replication slot was synchronised from a former primary (synced = true: this server was a standby and took over), 0 otherwise', ['sourceName']),
    /** Gaps the operator accepted with --accept-gap (a missing slot re-created, or a slot ahead of the saved position). */
    sourceGapsAccepted: counter('source_gaps_accepted_total', 'Starts where the operator accepted (--accept-gap) that changes between the saved position and the slot may be missing', ['sourceName']),
    replicationReconnects: counter('source_replication_reconnects_total', 'Replication sessions that ended with an error and were restarted', ['sourceName']),
    pgoutputSkipped: counter('source_pgoutput_skipped_total', 'pgoutput messages deliberately not turned into events, by message kind (origin, type, stream, unknown, ...)', ['sourceName', 'kind']),
    /**
     * Snapshots of a postgres source (initial and backfills, docs/snapshots.md), set from its
     * snapshot list when the metrics are collected (sources/postgres/snapshot/metrics.ts).
     */
    snapshotRows: counter('snapshot_rows_total', 'Rows of snapshots (initial and backfills) delivered to every sink, per table', ['source', 'table']),
    snapshotChunks: counter('snapshot_chunks_total', 'Snapshot chunks delivered to every sink, per table', ['source', 'table']),
    snapshotRowsEstimated: gauge('snapshot_rows_estimated', 'Rows a table is expected to have in the snapshots copying it now (pg_class.reltuples, or the rows read when more; 0 when none copies it)', ['source', 'table']),
    snapshotRunning: gauge('snapshot_running', 'Snapshots of a source pending or running', ['source']),
    snapshotRowsPerSecond: gauge('snapshot_rows_per_second', 'Rows per second the running snapshots of a source deliver (over the last minute of work)', ['source']),
    snapshotEtaSeconds: gauge('snapshot_eta_seconds', 'Seconds until the running snapshots of a source are done at their current rate (0 when none runs, -1 when unknown)', ['source']),
    snapshotFailedTables: counter('snapshot_failed_tables_total', 'Tables a snapshot of a source failed to copy (the snapshot list says why)', ['source']),
    /** Kafka sink: messages the brokers acknowledged, per topic (dead-letter topic included). */
    kafkaSinkMessages: counter('kafka_sink_messages_total', 'Messages a Kafka sink wrote and the brokers acknowledged, per topic', ['sinkName', 'topic']),
    kafkaSinkBytes: counter('kafka_sink_bytes_total', 'Bytes (key, value and headers) of the messages a Kafka sink wrote, per topic', ['sinkName', 'topic']),
    /** Failed produce requests, by Kafka error name or client error code (retried unless permanent). */
    kafkaSinkProduceErrors: counter('kafka_sink_produce_errors_total', 'Produce requests of a Kafka sink that failed, by error (e.g. PLT_KFK_NETWORK, MESSAGE_TOO_LARGE)', ['sinkName', 'error']),
    /** One produce request: from handing the messages to the client until the brokers acknowledged them. */
    kafkaSinkProduceSeconds: histogram('kafka_sink_produce_seconds', 'Time of one produce request of a Kafka sink until acknowledged (per requiredAcks), including client retries, in seconds', ['sinkName'], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    kafkaSinkDeadLettered: counter('kafka_sink_dead_lettered_total', 'Messages a Kafka sink could never write to their topic and wrote to its deadLetterTopic, by original topic and reason', ['sinkName', 'topic', 'reason']),
    kafkaSinkTransactions: counter('kafka_sink_transactions_total', 'Kafka transactions of an exactly-once sink, by result (committed, or aborted and tried again)', ['sinkName', 'result']),
    /** Exactly once: the stages of one transaction (docs/kafka.md, "Exactly once"), and the whole of it. */
    kafkaSinkTransactionStageSeconds: histogram('kafka_sink_transaction_stage_seconds', 'Time of each stage of the transactions of an exactly-once Kafka sink, in seconds: begin (waiting for the early open, protocol 1 AddPartitionsToTxn), produce (the produce requests), offsets (waiting for the offset commits after them), end (EndTxn), transaction (the whole, from the write to the commit)', ['sinkName', 'stage'], [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    kafkaSinkAlreadyDelivered: counter('kafka_sink_already_delivered_total', 'Messages an exactly-once Kafka sink did not write again because its committed position shows Kafka has them (after a restart)', ['sinkName']),
    kafkaSinkRelayLeftOut: counter('kafka_sink_relay_left_out_total', 'Relayed events an exactly-once Kafka sink left out of its transactions because a rebalance moved their source partition to another member of the consumer group (which relays them from the committed offset)', ['sinkName']),
    kafkaSinkUnroutedEvents: counter('kafka_sink_unrouted_events_total', 'Events a Kafka sink dropped because neither tableTopicMapping nor topicFallback gives their table a topic', ['sinkName', 'table']),
    /** HTTP sink: requests by outcome (an HTTP status code, or "network" / "timeout" when no answer came). */
    httpSinkRequests: counter('http_sink_requests_total', 'Requests an HTTP sink sent, by outcome: the status code, or "network"/"timeout" when no answer came', ['sinkName', 'status']),
    httpSinkRequestSeconds: histogram('http_sink_request_seconds', 'Time of one request of an HTTP sink until its response (or failure), in seconds', ['sinkName'], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
    httpSinkBytes: counter('http_sink_bytes_total', 'Body bytes of the requests an HTTP sink delivered (2xx)', ['sinkName']),
    httpSinkDeadLettered: counter('http_sink_dead_lettered_total', 'Events an HTTP sink wrote to its deadLetterFile because the receiver refused them for good, by status', ['sinkName', 'status']),
    /** NATS sink: messages JetStream acknowledged (stored, or dropped by the duplicate window). */
    natsSinkMessages: counter('nats_sink_messages_total', 'Messages a NATS sink published that JetStream acknowledged (stored, or dropped as duplicates)', ['sinkName']),
    natsSinkDuplicates: counter('nats_sink_duplicates_total', 'Messages JetStream acknowledged as duplicates of a NATS sink: dropped by the stream\'s duplicate window (redeliveries)', ['sinkName']),
    natsSinkBytes: counter('nats_sink_bytes_total', 'Payload bytes of the messages of a NATS sink that JetStream acknowledged', ['sinkName']),
    /** One write: from publishing a batch's messages until JetStream acknowledged the last of them. */
    natsSinkPublishSeconds: histogram('nats_sink_publish_seconds', 'Time from a NATS sink publishing a batch until JetStream acknowledged all of its messages (or the batch failed), in seconds', ['sinkName'], [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    natsSinkPublishErrors: counter('nats_sink_publish_errors_total', 'Batches of a NATS sink that failed, by error: TIMEOUT, CONNECTION, NO_STREAM, API, WRONG_STREAM, PERMISSION, TOO_LARGE, ENCODING, SUBJECT, OTHER', ['sinkName', 'error']),
    /** Kafka source: messages read, by topic (events and malformed ones; re-read duplicates not counted). */
    kafkaSourceMessages: counter('kafka_source_messages_total', 'Messages a Kafka source read and handed to its pipeline, by topic (malformed ones included)', ['sourceName', 'topic']),
    kafkaSourceMalformed: counter('kafka_source_malformed_total', 'Messages of a Kafka source that are not valid events (counted, logged, dead-lettered when configured, committed in order)', ['sourceName', 'topic']),
    kafkaSourceDeadLettered: counter('kafka_source_dead_lettered_total', 'Malformed messages a Kafka source wrote to its deadLetterTopic', ['sourceName', 'topic']),
    kafkaSourceFetchErrors: counter('kafka_source_fetch_errors_total', 'Failed fetches or group joins of a Kafka source (each retried with backoff)', ['sourceName']),
    kafkaSourceCommitErrors: counter('kafka_source_commit_errors_total', 'Failed offset commits of a Kafka source (the pipeline retries the acknowledgement)', ['sourceName']),
    /** Per partition: the log end offset minus the group's committed (or fetch start) offset. */
    kafkaSourceLag: gauge('kafka_source_consumer_lag', 'Messages of a partition this Kafka source owns that are not committed yet (log end offset minus committed offset)', ['sourceName', 'topic', 'partition']),
    kafkaSourceCommittedOffset: gauge('kafka_source_committed_offset', 'Offset a Kafka source last committed per partition (next offset to read), after every sink delivered what came before', ['sourceName', 'topic', 'partition']),
    kafkaSourceAssignedPartitions: gauge('kafka_source_assigned_partitions', 'Partitions the consumer group currently assigns to a Kafka source', ['sourceName']),
  };
}

/** The metrics of one program (or one test): see createMetrics(). */
export type Metrics = ReturnType<typeof createMetrics>;
