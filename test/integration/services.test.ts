/**
 * Proves the test infrastructure works for real: the throwaway PostgreSQL (scripts/pg) does
 * logical decoding with pgoutput and accepts password logins, and the Kafka broker
 * (scripts/kafka/start) round-trips keyed messages through a consumer group.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { dropSlot, uniqueName, usePostgres } from '../helpers/pg.ts';
import { useKafka } from '../helpers/kafka.ts';

describe('throwaway PostgreSQL', () => {
  const pg = usePostgres();

  test('runs with wal_level=logical and room for replication slots', async () => {
    const sql = pg.sql();
    const rows = await sql<{ name: string; setting: string }[]>`
      select name, setting from pg_settings
      where name in ('wal_level', 'max_replication_slots', 'max_wal_senders')`;
    const settings = Object.fromEntries(rows.map((row) => [row.name, row.setting]));
    expect(settings.wal_level).toBe('logical');
    expect(Number(settings.max_replication_slots)).toBeGreaterThanOrEqual(20);
    expect(Number(settings.max_wal_senders)).toBeGreaterThanOrEqual(20);
  });

  test('decodes inserts through a pgoutput slot', async () => {
    const sql = pg.sql();
    const table = uniqueName('items');
    const publication = uniqueName('pub');
    const slot = uniqueName('slot');
    await sql`create table ${sql(table)} (id int primary key, name text not null)`;
    await sql`create publication ${sql(publication)} for table ${sql(table)}`;
    await sql`select pg_create_logical_replication_slot(${slot}, 'pgoutput')`;
    try {
      await sql.begin(async (tx) => {
        for (const id of [1, 2, 3]) await tx`insert into ${sql(table)} values (${id}, ${`row ${id}`})`
      });
      // The first byte of each pgoutput message is its type: B(egin), R(elation), I(nsert), C(ommit).
      const changes = await sql<{ type: string }[]>`
        select chr(get_byte(data, 0)) as type
        from pg_logical_slot_peek_binary_changes(${slot}, null, null,
          'proto_version', '1', 'publication_names', ${publication})`;
      expect(changes.length).toBeGreaterThan(0);
      expect(changes.map((change) => change.type)).toEqual(['B', 'R', 'I', 'I', 'I', 'C']);
    } finally {
      await dropSlot(sql, slot);
      await sql`drop publication ${sql(publication)}`;
      await sql`drop table ${sql(table)}`;
    }
    const [left] = await sql`select count(*)::int as n from pg_replication_slots where slot_name = ${slot}`;
    expect(left?.n).toBe(0);
  });

  test('accepts a SCRAM password login and rejects a wrong password', async () => {
    const { user, password } = pg.server.users.scram;
    const [row] = await pg.sql({ user, password, max: 1 })`select current_user as name`;
    expect(row?.name).toBe(user);
    const wrong = pg.sql({ user, password: `${password}-wrong`, max: 1 });
    // 28P01 invalid_password
    await expect(wrong`select 1`).rejects.toMatchObject({ code: '28P01' });
  });

  test('accepts md5 and cleartext password logins', async () => {
    for (const { user, password } of [pg.server.users.md5, pg.server.users.clear]) {
      const [row] = await pg.sql({ user, password, max: 1 })`select current_user as name`;
      expect(row?.name).toBe(user);
    }
  });

  test('serves TLS with its self-signed certificate', async () => {
    const { user, password } = pg.server.users.tls;
    const certFile = pg.server.sslCertFile;
    expect(certFile).toBeDefined();
    const ca = readFileSync(certFile!);
    const sql = pg.sql({ user, password, max: 1, ssl: { ca, rejectUnauthorized: true } });
    const [row] = await sql`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    expect(row?.ssl).toBe(true);
    // The TLS-only user is refused without TLS.
    await expect(pg.sql({ user, password, max: 1, ssl: false })`select 1`).rejects.toMatchObject({ code: '28000' });
  });
});

describe('Kafka broker', () => {
  const kafka = useKafka();

  test('round-trips keyed messages through a consumer group, in order', async () => {
    const topic = await kafka.createTopic({ prefix: 'services' });
    const sent = Array.from({ length: 5 }, (_, i) => ({ key: `key-${i}`, value: JSON.stringify({ n: i }) }));

    const producer = new Producer({
      clientId: 'services-test-producer',
      bootstrapBrokers: kafka.server.brokers,
      serializers: stringSerializers,
      acks: -1,
    });
    try {
      await producer.send({
        messages: sent.map((message) => ({ topic, ...message, headers: { origin: 'services-test' } })),
      });
    } finally {
      await producer.close();
    }

    const groupId = uniqueName('group');
    const consumer = new Consumer({
      clientId: 'services-test-consumer',
      groupId,
      bootstrapBrokers: kafka.server.brokers,
      deserializers: stringDeserializers,
    });
    const received: { key: string; value: string; offset: bigint; origin: string | undefined }[] = [];
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      for await (const message of stream) {
        received.push({ key: message.key, value: message.value, offset: message.offset, origin: message.headers.get('origin') });
        await message.commit();
        if (received.length === sent.length) break
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }

    expect(received.map(({ key, value }) => ({ key, value }))).toEqual(sent);
    expect(received.map((message) => message.offset)).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(received.every((message) => message.origin === 'services-test')).toBe(true);

    const [group] = await kafka.admin().listConsumerGroupOffsets({ groups: [groupId] });
    const committed = group?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset;
    expect(committed).toBe(5n);
  }, 60_000);
});
