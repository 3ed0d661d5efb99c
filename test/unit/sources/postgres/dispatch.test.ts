import { describe, expect, test } from 'bun:test';
import { Logger } from '../../../../src/core/logger.ts';
import { realTimers } from '../../../../src/core/timers.ts';
import type { ChangeEvent } from '../../../../src/event/event.ts';
import { createMetrics } from '../../../../src/metrics/catalogue.ts';
import type { PgoutputMessage } from '../../../../src/pgoutput/messages.ts';
import { PG_EPOCH_OFFSET_MICROS } from '../../../../src/replication/copy-both.ts';
import { ChangeDispatch } from '../../../../src/sources/postgres/dispatch.ts';
import { PositionTracker } from '../../../../src/sources/postgres/position-tracker.ts';
import { PostgresSourceMetrics } from '../../../../src/sources/postgres/source-metrics.ts';
import { WalWatch } from '../../../../src/sources/postgres/wal-watch.ts';
import type { PgPosition } from '../../../../src/sources/postgres/snapshot/mark.ts';
import type { PipelineItem } from '../../../../src/sources/source.ts';
import { createMemoryStateStore } from '../../../../src/state/memory-store.ts';
import { encodePgoutput, FrameWriter } from '../../../helpers/pgoutput-frames.ts';

// Begin, Commit and keepalives are read in place (dispatch.ts handleBegin, handleCommit); a value
// they cannot hold in a number goes the general way. Both must give the same transactions.

const RELATION = 16_390;

function xlog(walStart: bigint, message: PgoutputMessage): Uint8Array {
  return new FrameWriter().char('w').u64(walStart).u64(walStart).u64(0n).raw(encodePgoutput(message)).finish();
}

const keepalive = (walEnd: bigint, reply = false) => new FrameWriter().char('k').u64(walEnd).u64(0n).u8(reply ? 1 : 0).finish();

function setup(skipBefore = 0n) {
  const metrics = createMetrics();
  const log = Logger.for('Source-PSQL', 'test');
  const wal = new WalWatch('test', {
    slotMonitorIntervalMs: 0, heartbeatIntervalMs: 0, heartbeatPrefix: 'psql-streamer-heartbeat', heartbeatEvents: false,
    budget: { warnBytes: 0, maxBytes: 0, action: 'wait' },
  }, { metrics, slot: 'test', connection: {} as never, log, onSample: () => {}, onBudgetStop: () => {} });
  const tracker = new PositionTracker({ name: 'test', store: createMemoryStateStore(), timers: realTimers, walRetain: 0, component: 'test', onBackgroundFailure: () => {} });
  tracker.load(0n);
  let statusRequests = 0;
  const dispatch = new ChangeDispatch({
    name: 'test', sourceType: 'Source-PSQL', eventHost: 'localhost', eventDatabase: 'db', connection: {} as never, log,
    tracker, wal, metrics: new PostgresSourceMetrics(metrics, 'test', 'Source-PSQL'),
    sendStatus: () => statusRequests++, closeSession: () => {},
  });
  const items: PipelineItem<PgPosition>[] = [];
  dispatch.valve.output = { push: (item) => items.push(item) > 0, drained: () => Promise.resolve() };
  dispatch.begin({ pause() {}, resume() {} }, 1, skipBefore, { systemId: '7000000000000000001', slot: 'test' });
  const feed = (payload: Uint8Array) => {
    // In the middle of a larger chunk, as the connection hands payloads over.
    const chunk = new Uint8Array(payload.length + 7);
    chunk.set(payload, 3);
    dispatch.onCopyData(chunk, 3, 3 + payload.length);
  };
  feed(xlog(0x10n, {
    tag: 'relation', xid: undefined, relationId: RELATION, namespace: 'public', name: 't', replicaIdentity: 'd',
    columns: [{ flags: 1, isKey: true, name: 'id', typeOid: 23, typeModifier: -1 }],
  }));
  return { dispatch, tracker, wal, items, feed, statusRequests: () => statusRequests };
}

function transaction(feed: (p: Uint8Array) => void, start: bigint, commitTime: bigint, xid: number, id: string): { commitLsn: bigint; endLsn: bigint } {
  const commitLsn = start + 0x100n;
  const endLsn = start + 0x130n;
  feed(xlog(start, { tag: 'begin', finalLsn: commitLsn, commitTime, xid }));
  feed(xlog(start + 0x40n, { tag: 'insert', xid: undefined, relationId: RELATION, newTuple: [id] }));
  feed(xlog(commitLsn, { tag: 'commit', flags: 0, commitLsn, endLsn, commitTime }));
  return { commitLsn, endLsn };
}

const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n - PG_EPOCH_OFFSET_MICROS;

describe('ChangeDispatch: transactions and keepalives', () => {
  test('Begin and Commit read in place: the event carries the transaction, its end LSN is pushed after it', () => {
    const { dispatch, items, feed, wal } = setup();
    const t = transaction(feed, 0x1_2345_6000n, us('2026-12-07T13:14:15.000Z') + 678_901n, 0xfedc_ba98, '7');
    expect(items).toHaveLength(2);
    const event = items[0]?.event as ChangeEvent;
    expect(event.commitTime).toBe('2026-12-07T13:14:15.678901Z');
    expect(event.commitLsn).toBe(t.commitLsn);
    expect(event.xid).toBe(0xfedc_ba98);
    expect(event.columns).toEqual({ id: 7 });
    expect(items[1]).toEqual({ position: t.endLsn });
    expect(dispatch.receivedLsn).toBe(t.commitLsn);
    expect(wal.commits.pending).toBe(1);
  });

  test('an infinite commit time goes the general way, with the same result', () => {
    const { items, feed } = setup();
    const t = transaction(feed, 0x5000n, 0x7fff_ffff_ffff_ffffn, 42, '1');
    expect((items[0]?.event as ChangeEvent).commitTime).toBe('infinity');
    expect(items[1]).toEqual({ position: t.endLsn });
  });

  test('transactions before the restart point are dropped whole', () => {
    const { items, feed, tracker } = setup(0x9000n);
    transaction(feed, 0x5000n, us('2026-12-07T00:00:00Z'), 1, '1');
    expect(items).toHaveLength(0);
    const t = transaction(feed, 0x9000n, us('2026-12-07T00:00:00Z'), 2, '2');
    expect(items.map((i) => i.position ?? i.event?.xid)).toEqual([2, t.endLsn]);
    expect(tracker.lastPushed).toBe(t.endLsn);
  });

  test('a keepalive between transactions pushes its WAL end once it is past the last position; a reply request asks for a status', () => {
    const { dispatch, items, feed, statusRequests } = setup();
    const t = transaction(feed, 0x1_0000_0000n, us('2026-12-07T00:00:00Z'), 1, '1');
    feed(keepalive(t.endLsn));
    feed(keepalive(t.endLsn));
    expect(items).toHaveLength(2);
    feed(keepalive(t.endLsn + 0x28n));
    feed(keepalive(t.endLsn + 0x28n));
    expect(items.slice(2)).toEqual([{ position: t.endLsn + 0x28n }]);
    expect(dispatch.receivedLsn).toBe(t.endLsn + 0x28n);
    expect(statusRequests()).toBe(0);
    feed(keepalive(t.endLsn + 0x28n, true));
    expect(statusRequests()).toBe(1);
    // Within a transaction a keepalive pushes nothing.
    feed(xlog(0x2_0000_0000n, { tag: 'begin', finalLsn: 0x2_0000_0100n, commitTime: 0n, xid: 3 }));
    feed(keepalive(0x2_0000_0080n));
    expect(items).toHaveLength(3);
  });

  test('a short Begin fails the session with the decoder\'s error', () => {
    const { dispatch, items, feed } = setup();
    const begin = xlog(0x5000n, { tag: 'begin', finalLsn: 0x5100n, commitTime: 0n, xid: 1 });
    feed(begin.subarray(0, begin.length - 2));
    expect(dispatch.failure?.message).toMatch(/xid/);
    expect(items).toHaveLength(0);
  });
});
