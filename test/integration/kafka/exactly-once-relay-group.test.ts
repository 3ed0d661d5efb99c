/**
 * Exactly-once Kafka → Kafka relays with several members in one consumer group (docs/kafka.md,
 * "Relays"; test/helpers/exactly-once/relay-group.ts): members join, leave (SIGTERM) and are killed
 * (-9) while an upstream transactional producer commits and aborts transactions without pause; a
 * read_committed consumer of the relays' output, and an audit of its log, must find every committed
 * upstream change exactly once, in order per row. Without the ownership check of
 * src/sinks/kafka/relay-ownership.ts and the stable offset fetch of src/sources/kafka/stable-offsets.ts,
 * rebalances make this run read duplicates (measured in the commit that added them).
 */
import { describe, expect, test } from 'bun:test';
import { useKafka } from '../../helpers/kafka.ts';
import { useTempDirs } from '../../helpers/streamer.ts';
import { testOutput } from '../../helpers/quiet.ts';
import { runRelayGroup, summarizeRelayGroup } from '../../helpers/exactly-once/relay-group.ts';

const kafka = useKafka();
const newDir = useTempDirs('psql-streamer-relay-group-');

describe('exactly-once relay group', () => {
  test('members join, leave and are killed mid-stream: every committed upstream change exactly once', async () => {
    const r = await runRelayGroup({
      brokers: kafka.server.brokers, dir: newDir(), rounds: 4,
      log: (line) => testOutput(`[relay-group] ${line}\n`),
    });
    process.stderr.write(`[relay-group] ${summarizeRelayGroup(r).replaceAll('\n', '\n[relay-group] ')}\n`);
    expect(r.problems).toEqual([]);
    expect(r.killed).toBe(4);
    expect(r.left).toBe(4);
    expect(r.aborted).toBeGreaterThan(0);
    expect(r.transactions).toBeGreaterThan(100);
    // Rebalances did move partitions while transactions held their events: the case under test happened.
    expect(r.movedLines).toBeGreaterThan(0);
    expect(r.check.lost).toBe(0);
    expect(r.check.duplicates).toBe(0);
    expect(r.check.reordered).toBe(0);
    expect(r.check.unknown).toBe(0);
    expect(r.check.records).toBe(r.committedChanges);
    // The log itself (read uncommitted, fates from the markers) agrees.
    expect(r.log.lost).toBe(0);
    expect(r.log.duplicates).toBe(0);
    expect(r.log.records).toBe(r.committedChanges);
  }, 600_000);
});
