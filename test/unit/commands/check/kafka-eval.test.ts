/** Kafka verdicts of check --live: which topics are needed, and missing topics against auto-creation. */
import { describe, expect, test } from 'bun:test';
import { autoCreateFrom, checkPositionCompaction, checkStoredPosition, checkTopics, checkTransactions, sinkTopics, sourceTopics, transactionalIds } from '../../../../src/commands/check/kafka-eval.ts';
import type { KafkaSinkOptions } from '../../../../src/sinks/kafka/spec.ts';
import type { KafkaSourceOptions } from '../../../../src/sources/kafka/spec.ts';

describe('needed topics', () => {
  test('a sink: mapped topics once each (with their tables), the fallback, the dead-letter topic', () => {
    const options = { tableTopicMapping: { users: 'people', 'crm.users': 'people', orders: 'orders' }, topicFallback: 'other', deadLetterTopic: 'dlq' } as unknown as KafkaSinkOptions;
    expect(sinkTopics(options)).toEqual([
      { topic: 'people', role: 'tableTopicMapping users, crm.users' },
      { topic: 'orders', role: 'tableTopicMapping orders' },
      { topic: 'other', role: 'topicFallback' },
      { topic: 'dlq', role: 'deadLetterTopic' },
    ]);
    expect(sinkTopics({ tableTopicMapping: {}, topicFallback: 'all' } as unknown as KafkaSinkOptions)).toEqual([{ topic: 'all', role: 'topicFallback' }]);
  });

  test('an exactly-once sink also needs its position topic', () => {
    expect(sinkTopics({ tableTopicMapping: {}, topicFallback: 'all', exactlyOnce: true, positionTopic: 'pos' } as unknown as KafkaSinkOptions)).toEqual([
      { topic: 'all', role: 'topicFallback' },
      { topic: 'pos', role: 'positionTopic (exactlyOnce)' },
    ]);
  });

  test('a source: its topics and dead-letter topic', () => {
    expect(sourceTopics({ topics: ['a', 'b'], deadLetterTopic: 'bad' } as unknown as KafkaSourceOptions).map((t) => t.topic)).toEqual(['a', 'b', 'bad']);
  });
});

describe('topics', () => {
  const needed = [{ topic: 'users', role: 'tableTopicMapping users' }, { topic: 'gone', role: 'topicFallback' }];
  const partitions = new Map([['users', 3]]);

  test('existing: OK with the partition count', () => {
    expect(checkTopics(needed, partitions, { known: true, enabled: false })[0]).toEqual({
      check: 'topic', subject: 'users', verdict: 'OK', reason: 'exists, 3 partition(s) (tableTopicMapping users)',
    });
  });

  test('missing: OK when the brokers auto-create, WARN when they do not or when it is unknown', () => {
    expect(checkTopics(needed, partitions, { known: true, enabled: true })[1]!.verdict).toBe('OK');
    const off = checkTopics(needed, partitions, { known: true, enabled: false })[1]!;
    expect(off.verdict).toBe('WARN');
    expect(off.reason).toContain('auto.create.topics.enable = false');
    expect(off.remedy).toContain('kafka-topics.sh --create --topic gone');
    const unknown = checkTopics(needed, partitions, { known: false, why: 'DescribeConfigs refused: denied' })[1]!;
    expect(unknown.verdict).toBe('WARN');
    expect(unknown.reason).toContain('auto-creation unknown (DescribeConfigs refused: denied)');
  });

  test('auto.create.topics.enable from a DescribeConfigs answer', () => {
    expect(autoCreateFrom([{ name: 'auto.create.topics.enable', value: 'true' }])).toEqual({ known: true, enabled: true });
    expect(autoCreateFrom([{ name: 'auto.create.topics.enable', value: 'false' }])).toEqual({ known: true, enabled: false });
    expect(autoCreateFrom([])).toMatchObject({ known: false });
    expect(autoCreateFrom([{ name: 'auto.create.topics.enable', value: null }])).toMatchObject({ known: false });
  });
});

describe('transactions (exactlyOnce)', () => {
  test('InitProducerId 3 or later: OK; older or missing: FAIL with the remedy', () => {
    expect(checkTransactions([{ apiKey: 22, maxVersion: 5 }]).verdict).toBe('OK');
    const old = checkTransactions([{ apiKey: 22, maxVersion: 2 }]);
    expect(old.verdict).toBe('FAIL');
    expect(old.reason).toContain('version 2');
    expect(checkTransactions([{ apiKey: 0, maxVersion: 11 }]).reason).toContain('up to version none');
  });
});

describe('stored positions of an exactly-once sink', () => {
  test('one transactional id per source, placeholders filled as the sink does', () => {
    expect(transactionalIds('k', { transactionalId: 'psql-streamer.{sink}.{source}' }, ['db1', 'db2'])).toEqual([
      { source: 'db1', id: 'psql-streamer.k.db1' },
      { source: 'db2', id: 'psql-streamer.k.db2' },
    ]);
  });

  test('a position, none yet, and metadata of something else (WARN with a remedy)', () => {
    const metadata = '{"psql-streamer":1,"source":"db1","lsn":"0/16B3748","index":3,"stream":"1/s"}';
    expect(checkStoredPosition('db1', 'id1', [{ group: 'id1', metadata }])).toEqual({ check: 'position', subject: 'db1', verdict: 'OK', reason: 'transactional id "id1": delivered up to 0/16B3748 #3 of stream 1/s' });
    expect(checkStoredPosition('db1', 'id1', [{ group: 'id1', metadata: null }, { group: 'id1.2', metadata: '' }]).reason).toBe('transactional id "id1": no position in Kafka yet (nothing delivered exactly once)');
    const other = checkStoredPosition('db1', 'id1', [{ group: 'id1', metadata }, { group: 'id1.2', metadata: 'consumer-metadata' }]);
    expect(other.verdict).toBe('WARN');
    expect(other.reason).toContain('not a psql-streamer position');
    expect(other.remedy).toContain('another transactionalId');
    expect(other.reason).toContain('"id1.2"');
  });

  test("the producers take turns: the latest of their groups' positions is the source's", () => {
    const at = (lsn: string, index: number) => `{"psql-streamer":1,"source":"db1","lsn":"${lsn}","index":${index},"stream":"1/s"}`;
    const stored = [{ group: 'id1', metadata: at('0/16B3748', 3) }, { group: 'id1.2', metadata: at('0/16B3900', 0) }, { group: 'id1.3', metadata: null }];
    expect(checkStoredPosition('db1', 'id1', stored).reason).toBe('transactional id "id1": delivered up to 0/16B3900 #0 of stream 1/s');
  });

  test('position records and the group offsets of earlier versions: the latest of all counts', () => {
    const group = [{ group: 'id1', metadata: '{"psql-streamer":1,"source":"db1","lsn":"0/16B3748","index":3,"stream":"1/s"}' }];
    expect(checkStoredPosition('db1', 'id1', group, [{ lsn: 0x16b3900n, index: 1, stream: '1/s' }]).reason).toBe('transactional id "id1": delivered up to 0/16B3900 #1 of stream 1/s');
    expect(checkStoredPosition('db1', 'id1', group, [{ lsn: 0x16b3000n, index: 1, stream: '1/s' }]).reason).toBe('transactional id "id1": delivered up to 0/16B3748 #3 of stream 1/s');
    expect(checkStoredPosition('db1', 'id1', [], [{ lsn: 0x100n, index: 0, stream: undefined }]).reason).toBe('transactional id "id1": delivered up to 0/100 #0');
  });
});

describe('compaction of the position topic (exactlyOnce)', () => {
  test('compact: OK; delete: WARN with the kafka-configs command; missing: OK (created compacted); unreadable: WARN', () => {
    expect(checkPositionCompaction('pos', { known: true, value: 'compact' })).toEqual({ check: 'compaction', subject: 'pos', verdict: 'OK', reason: 'positionTopic: cleanup.policy=compact' });
    const deleting = checkPositionCompaction('pos', { known: true, value: 'delete' });
    expect(deleting.verdict).toBe('WARN');
    expect(deleting.reason).toContain('cleanup.policy=delete, not compact');
    expect(deleting.remedy).toBe('kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name pos --add-config cleanup.policy=compact');
    expect(checkPositionCompaction('pos', { known: true, value: undefined }).reason).toContain('the sink creates it with cleanup.policy=compact');
    const unknown = checkPositionCompaction('pos', { known: false, why: 'DescribeConfigs refused: TOPIC_AUTHORIZATION_FAILED' });
    expect(unknown.verdict).toBe('WARN');
    expect(unknown.remedy).toContain('grant DescribeConfigs');
  });
});
