/**
 * Real Kafka broker for integration tests. `useKafka()` in a test file gives it a broker: the one
 * scripts/test started (KAFKA_BROKERS), or else one started here with
 * `scripts/kafka/start --private` and stopped after the last test file using it.
 * Nothing starts until a hook runs, so importing this module from unit tests costs nothing.
 */
import { afterAll, beforeAll } from 'bun:test';
import { Admin } from '@platformatic/kafka';
import { required, runScript, SharedServer } from './env.ts'

/** Where the broker is. */
export interface KafkaServer {
  /** Bootstrap brokers, "host:port". */
  brokers: string[]
  /** Broker version, e.g. "4.1.2" (empty when reusing a broker this project did not start). */
  version: string;
}

/** Builds a KafkaServer from the variables scripts/kafka/start prints (or scripts/test exports). */
export function kafkaServerFromEnv(vars: Record<string, string | undefined>): KafkaServer {
  const brokers = required(vars, 'KAFKA_BROKERS').split(',').map((broker) => broker.trim()).filter(Boolean);
  return { brokers, version: vars.PSQL_STREAMER_KAFKA_VERSION ?? '' }
}

const shared = new SharedServer<KafkaServer>(async () => {
  if (process.env.KAFKA_BROKERS) return { server: kafkaServerFromEnv(process.env) }
  const vars = await runScript('kafka/start', ['--private']);
  const dir = required(vars, 'PSQL_STREAMER_KAFKA_DIR');
  return { server: kafkaServerFromEnv(vars), stop: async () => void (await runScript('kafka/stop', ['--dir', dir])) }
});

let counter = 0

/** A topic name no other test (or concurrent test run) uses, e.g. uniqueTopic('events') → 'events-m3x9k2-1-q7c4'. */
export function uniqueTopic(prefix = 'test'): string {
  counter += 1;
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 100);
  const random = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `${clean}-${Date.now().toString(36)}-${counter}-${random}`;
}

/** Creates a topic and waits until every partition has a leader, so producing right away works. */
export async function createTopic(admin: Admin, topic: string, partitions = 1, timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
    const described = metadata?.topics.get(topic);
    if (described !== undefined && described.partitionsCount === partitions &&
        described.partitions.every((partition) => partition.leader >= 0)) return
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for all ${partitions} partitions after ${timeoutMs} ms`)
    await Bun.sleep(50);
  }
}

/** Deletes topics; ones that do not exist are ignored. */
export async function deleteTopics(admin: Admin, topics: string[]): Promise<void> {
  if (topics.length === 0) return
  for (const topic of topics) {
    await admin.deleteTopics({ topics: [topic] }).catch((error: unknown) => {
      if (!String((error as Error).message ?? error).includes('UNKNOWN_TOPIC')) throw error
    });
  }
}

/** What useKafka gives a test file. */
export interface KafkaFixture {
  /** The broker; available inside hooks and tests (after useKafka's beforeAll ran). */
  readonly server: KafkaServer
  /** A shared Admin client of this file, closed after its tests. */
  admin(): Admin
  /** Creates a uniquely named topic (deleted after the file's tests) and returns its name. */
  createTopic(options?: { prefix?: string; partitions?: number }): Promise<string>
}

/**
 * Registers beforeAll/afterAll hooks that provide the Kafka broker to this test file.
 * Call it at the top of the file (or of a describe) before hooks that use it.
 */
export function useKafka(): KafkaFixture {
  let server: KafkaServer | undefined;
  let admin: Admin | undefined;
  const topics: string[] = [];

  beforeAll(async () => {
    server = await shared.acquire();
  }, 180_000);

  afterAll(async () => {
    if (server === undefined) return
    if (admin !== undefined) {
      await deleteTopics(admin, topics.splice(0)).catch(() => {});
      await admin.close().catch(() => {});
      admin = undefined;
    }
    server = undefined;
    await shared.release();
  }, 60_000);

  const fixture: KafkaFixture = {
    get server(): KafkaServer {
      if (server === undefined) throw new Error('useKafka(): the broker exists only inside hooks and tests')
      return server;
    },
    admin() {
      admin ??= new Admin({ clientId: 'test-admin', bootstrapBrokers: fixture.server.brokers });
      return admin;
    },
    async createTopic({ prefix = 'test', partitions = 1 } = {}) {
      const topic = uniqueTopic(prefix);
      await createTopic(fixture.admin(), topic, partitions);
      topics.push(topic);
      return topic;
    },
  };
  return fixture;
}
