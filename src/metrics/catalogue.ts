/**
 * Every Prometheus metric of the program, defined once. The first six are the original's names and
 * labels (docs/compatibility.md, "Metrics"); the rest are new. Components import the metric they update from here.
 */
import { Counter } from './prometheus/counter.ts';
import { Gauge } from './prometheus/gauge.ts';
import { DEFAULT_BUCKETS, Histogram } from './prometheus/histogram.ts';
import { registerProcessMetrics } from './prometheus/process-metrics.ts';
import { Registry } from './prometheus/registry.ts';

export const metricsRegistry = new Registry();
registerProcessMetrics(metricsRegistry);

const sourceLabels = ['sourceName', 'sourceType', 'table'] as const;
const sinkLabels = ['sinkName', 'sinkType', 'table'] as const;

/** Time to build one event and hand it to the pipeline (original name, default buckets; observed per event). */
export const sourceEventProcessingTime = new Histogram({
  name: 'source_event_processing_time_sec',
  help: 'Time to build an event from a source message and queue it, in seconds',
  labelNames: sourceLabels,
  buckets: DEFAULT_BUCKETS,
  registers: [metricsRegistry],
});

export const sourceEvents = new Counter({
  name: 'source_events',
  help: 'Events produced by a source',
  labelNames: sourceLabels,
  registers: [metricsRegistry],
});

export const sourceErrors = new Counter({
  name: 'source_errors',
  help: 'Errors of a source (undecodable values, malformed messages, replication errors)',
  labelNames: sourceLabels,
  registers: [metricsRegistry],
});

/** Time for a sink to encode one event (original name, default buckets; observed per event). */
export const sinkEventProcessingTime = new Histogram({
  name: 'sink_event_processing_time_sec',
  help: 'Time for a sink to encode one event, in seconds',
  labelNames: sinkLabels,
  buckets: DEFAULT_BUCKETS,
  registers: [metricsRegistry],
});

export const sinkEvents = new Counter({
  name: 'sink_events',
  help: 'Events delivered by a sink',
  labelNames: sinkLabels,
  registers: [metricsRegistry],
});

export const sinkErrors = new Counter({
  name: 'sink_errors',
  help: 'Events a sink failed to encode or deliver',
  labelNames: sinkLabels,
  registers: [metricsRegistry],
});

/** Events per delivered batch. */
export const pipelineBatchEvents = new Histogram({
  name: 'pipeline_batch_events',
  help: 'Number of events in each batch delivered to the sinks',
  labelNames: ['source'] as const,
  buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  registers: [metricsRegistry],
});

/** From the batch being handed to a sink until the sink acknowledged it, retries included. */
export const pipelineDeliverySeconds = new Histogram({
  name: 'pipeline_delivery_seconds',
  help: 'Time for a sink to acknowledge a batch, including retries, in seconds',
  labelNames: ['source', 'sink'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const pipelineRetries = new Counter({
  name: 'pipeline_retries_total',
  help: 'Failed attempts to deliver a batch to a sink (each is retried with backoff)',
  labelNames: ['source', 'sink'] as const,
  registers: [metricsRegistry],
});

export const pipelineBufferedEvents = new Gauge({
  name: 'pipeline_buffered_events',
  help: 'Events queued or in flight in a pipeline, not yet acknowledged by every sink',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const pipelineBufferedBytes = new Gauge({
  name: 'pipeline_buffered_bytes',
  help: 'Approximate bytes held by queued and in-flight events of a pipeline',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const pipelineAcks = new Counter({
  name: 'pipeline_acks_total',
  help: 'Acknowledgements passed back to a source after every sink delivered a batch',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

/** 1 while a component reports itself healthy, 0 otherwise. */
export const componentUp = new Gauge({
  name: 'component_up',
  help: 'Whether a source, sink or pipeline is healthy (1) or not (0)',
  labelNames: ['name', 'type'] as const,
  registers: [metricsRegistry],
});

/** PostgreSQL source positions (LSNs as byte offsets; exact below 2^53 bytes of WAL). */
export const walReceivedLsn = new Gauge({
  name: 'source_wal_received_lsn',
  help: 'Highest WAL position received from PostgreSQL by a postgres source',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const walPersistedLsn = new Gauge({
  name: 'source_wal_persisted_lsn',
  help: 'WAL position whose events every sink acknowledged, persisted in the state file',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const walConfirmedLsn = new Gauge({
  name: 'source_wal_confirmed_lsn',
  help: 'WAL position confirmed to PostgreSQL (persisted minus walRetain)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/**
 * In-process only: it stops growing when the source stops reading (back-pressure at
 * maxBufferedEvents), so it understates what the server keeps; see source_slot_behind_bytes.
 */
export const walLagBytes = new Gauge({
  name: 'source_wal_lag_bytes',
  help: 'Bytes of WAL received but not yet delivered and persisted (received minus persisted, in process; see source_slot_behind_bytes for the server\'s view)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/**
 * The slot monitor of a postgres source (docs/operations.md "WAL retention, lag and budget"):
 * polled on an ordinary connection every slotMonitorInterval.
 */
export const slotBehindBytes = new Gauge({
  name: 'source_slot_behind_bytes',
  help: 'Bytes of WAL between the server\'s WAL end and the slot\'s confirmed_flush_lsn (pg_current_wal_lsn() - confirmed_flush_lsn)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const slotRetainedBytes = new Gauge({
  name: 'source_slot_retained_bytes',
  help: 'Bytes of WAL the slot makes the server keep (pg_current_wal_lsn() - restart_lsn)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** One series per status; 1 for the slot's current one (missing: no slot of that name). */
export const slotWalStatus = new Gauge({
  name: 'source_slot_wal_status',
  help: 'wal_status of the slot (reserved, extended, unreserved, lost; missing when the slot does not exist): 1 for the current one, 0 for the others',
  labelNames: ['sourceName', 'status'] as const,
  registers: [metricsRegistry],
});

/** Absent when PostgreSQL reports NULL (max_slot_wal_keep_size = -1, a lost slot, or PostgreSQL < 13). */
export const slotSafeWalSize = new Gauge({
  name: 'source_slot_safe_wal_size_bytes',
  help: 'safe_wal_size of the slot: bytes of WAL that can still be written before max_slot_wal_keep_size puts the slot in danger of being lost',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const slotMonitorErrors = new Counter({
  name: 'source_slot_monitor_errors_total',
  help: 'Failed queries of the slot monitor of a postgres source, by operation (poll, heartbeat); retried every interval',
  labelNames: ['sourceName', 'operation'] as const,
  registers: [metricsRegistry],
});

export const deliveredLagSeconds = new Gauge({
  name: 'source_delivered_lag_seconds',
  help: 'Now minus the commit time of the oldest transaction received but not yet acknowledged by every sink; 0 when none is pending',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const receivedLagSeconds = new Gauge({
  name: 'source_received_lag_seconds',
  help: 'Now minus the commit time of the last transaction received from PostgreSQL; 0 once the server has nothing more to send',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** limit = warn or max; only for the limits that are set. */
export const walBudgetBytes = new Gauge({
  name: 'source_wal_budget_bytes',
  help: 'The WAL budget of a postgres source (walBudgetWarn, walBudgetMax), by limit',
  labelNames: ['sourceName', 'limit'] as const,
  registers: [metricsRegistry],
});

export const walBudgetExceeded = new Gauge({
  name: 'source_wal_budget_exceeded',
  help: 'Whether the WAL the slot retains is over a limit of the WAL budget (1) or not (0), by limit (warn, max)',
  labelNames: ['sourceName', 'limit'] as const,
  registers: [metricsRegistry],
});

export const heartbeats = new Counter({
  name: 'source_heartbeats_total',
  help: 'Heartbeat messages (pg_logical_emit_message) a postgres source wrote',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** 1 while a source refuses to stream (reason: start-check.ts RefusalReason); the process then exits with 3. */
export const sourceRefused = new Gauge({
  name: 'source_refused',
  help: 'Set to 1 when a source refuses to stream until an operator acts (reason: position_ahead_of_server, other_cluster, slot_missing, slot_ahead, slot_invalidated, publication_dropped, bad_state, wal_budget)',
  labelNames: ['sourceName', 'reason'] as const,
  registers: [metricsRegistry],
});

/** PostgreSQL 17+ failover slots (postgres/slot-failover.ts), set at each session start. */
export const sourceSlotFailover = new Gauge({
  name: 'source_slot_failover',
  help: 'Set to 1 when the source\'s replication slot is a failover slot (PostgreSQL 17+, synchronised to standbys with sync_replication_slots = on), 0 otherwise',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** The slot was synchronised from a former primary: the source streams from a promoted standby. */
export const sourceSlotSynced = new Gauge({
  name: 'source_slot_synced',
  help: 'Set to 1 when the source\'s replication slot was synchronised from a former primary (synced = true: this server was a standby and took over), 0 otherwise',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** Gaps the operator accepted with --accept-gap (a missing slot re-created, or a slot ahead of the saved position). */
export const sourceGapsAccepted = new Counter({
  name: 'source_gaps_accepted_total',
  help: 'Starts where the operator accepted (--accept-gap) that changes between the saved position and the slot may be missing',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const replicationReconnects = new Counter({
  name: 'source_replication_reconnects_total',
  help: 'Replication sessions that ended with an error and were restarted',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const pgoutputSkipped = new Counter({
  name: 'source_pgoutput_skipped_total',
  help: 'pgoutput messages deliberately not turned into events, by message kind (origin, type, stream, unknown, ...)',
  labelNames: ['sourceName', 'kind'] as const,
  registers: [metricsRegistry],
});

/** Kafka sink: messages the brokers acknowledged, per topic (dead-letter topic included). */
export const kafkaSinkMessages = new Counter({
  name: 'kafka_sink_messages_total',
  help: 'Messages a Kafka sink wrote and the brokers acknowledged, per topic',
  labelNames: ['sinkName', 'topic'] as const,
  registers: [metricsRegistry],
});

export const kafkaSinkBytes = new Counter({
  name: 'kafka_sink_bytes_total',
  help: 'Bytes (key, value and headers) of the messages a Kafka sink wrote, per topic',
  labelNames: ['sinkName', 'topic'] as const,
  registers: [metricsRegistry],
});

/** Failed produce requests, by Kafka error name or client error code (retried unless permanent). */
export const kafkaSinkProduceErrors = new Counter({
  name: 'kafka_sink_produce_errors_total',
  help: 'Produce requests of a Kafka sink that failed, by error (e.g. PLT_KFK_NETWORK, MESSAGE_TOO_LARGE)',
  labelNames: ['sinkName', 'error'] as const,
  registers: [metricsRegistry],
});

/** One produce request: from handing the messages to the client until the brokers acknowledged them. */
export const kafkaSinkProduceSeconds = new Histogram({
  name: 'kafka_sink_produce_seconds',
  help: 'Time of one produce request of a Kafka sink until acknowledged (per requiredAcks), including client retries, in seconds',
  labelNames: ['sinkName'] as const,
  buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

export const kafkaSinkDeadLettered = new Counter({
  name: 'kafka_sink_dead_lettered_total',
  help: 'Messages a Kafka sink could never write to their topic and wrote to its deadLetterTopic, by original topic and reason',
  labelNames: ['sinkName', 'topic', 'reason'] as const,
  registers: [metricsRegistry],
});

export const kafkaSinkUnroutedEvents = new Counter({
  name: 'kafka_sink_unrouted_events_total',
  help: 'Events a Kafka sink dropped because neither tableTopicMapping nor topicFallback gives their table a topic',
  labelNames: ['sinkName', 'table'] as const,
  registers: [metricsRegistry],
});

/** Kafka source: messages read, by topic (events and malformed ones; re-read duplicates not counted). */
export const kafkaSourceMessages = new Counter({
  name: 'kafka_source_messages_total',
  help: 'Messages a Kafka source read and handed to its pipeline, by topic (malformed ones included)',
  labelNames: ['sourceName', 'topic'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceMalformed = new Counter({
  name: 'kafka_source_malformed_total',
  help: 'Messages of a Kafka source that are not valid events (counted, logged, dead-lettered when configured, committed in order)',
  labelNames: ['sourceName', 'topic'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceDeadLettered = new Counter({
  name: 'kafka_source_dead_lettered_total',
  help: 'Malformed messages a Kafka source wrote to its deadLetterTopic',
  labelNames: ['sourceName', 'topic'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceFetchErrors = new Counter({
  name: 'kafka_source_fetch_errors_total',
  help: 'Failed fetches or group joins of a Kafka source (each retried with backoff)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceCommitErrors = new Counter({
  name: 'kafka_source_commit_errors_total',
  help: 'Failed offset commits of a Kafka source (the pipeline retries the acknowledgement)',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});

/** Per partition: the log end offset minus the group's committed (or fetch start) offset. */
export const kafkaSourceLag = new Gauge({
  name: 'kafka_source_consumer_lag',
  help: 'Messages of a partition this Kafka source owns that are not committed yet (log end offset minus committed offset)',
  labelNames: ['sourceName', 'topic', 'partition'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceCommittedOffset = new Gauge({
  name: 'kafka_source_committed_offset',
  help: 'Offset a Kafka source last committed per partition (next offset to read), after every sink delivered what came before',
  labelNames: ['sourceName', 'topic', 'partition'] as const,
  registers: [metricsRegistry],
});

export const kafkaSourceAssignedPartitions = new Gauge({
  name: 'kafka_source_assigned_partitions',
  help: 'Partitions the consumer group currently assigns to a Kafka source',
  labelNames: ['sourceName'] as const,
  registers: [metricsRegistry],
});
