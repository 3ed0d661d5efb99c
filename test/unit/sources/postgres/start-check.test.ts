import { describe, expect, test } from 'bun:test';
import { checkStart, type StartCheckInput, type StartDecision } from '../../../../src/sources/postgres/start-check.ts';
import type { SlotInfo } from '../../../../src/replication/commands.ts';

const SYSTEM = '7312345678901234567';

function slot(confirmed: bigint, extra: Partial<SlotInfo> = {}): SlotInfo {
  return {
    plugin: 'pgoutput', slotType: 'logical', database: 'app', activePid: null,
    confirmedFlush: confirmed, restartLsn: confirmed - 0x100n, walStatus: 'reserved', invalidation: null, failover: null, synced: null, safeWalSize: null,
    ...extra,
  };
}

function input(over: Partial<StartCheckInput>): StartCheckInput {
  return {
    source: 'db1',
    slot: 'psql_streamer_db1',
    resumeFrom: 0x5000n,
    fromOverride: false,
    savedIdentity: { systemId: SYSTEM, timeline: 1 },
    server: { systemId: SYSTEM, timeline: 1, xlogpos: 0x9000n, database: 'app' },
    slotInfo: slot(0x5000n),
    acceptGap: false,
    ...over,
  };
}

function refused(decision: StartDecision): { reason: string; message: string } {
  if (decision.kind !== 'refuse') throw new Error(`expected a refusal, got ${JSON.stringify(decision, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return decision;
}

function streams(decision: StartDecision) {
  if (decision.kind !== 'stream') throw new Error(`expected to stream, got a refusal: ${decision.message}`);
  return decision;
}

describe('start check', () => {
  test('first start without a slot creates it', () => {
    const d = streams(checkStart(input({ resumeFrom: 0n, savedIdentity: undefined, slotInfo: undefined })));
    expect(d).toMatchObject({ createSlot: true, start: 0n, gapAccepted: false });
  });

  test('first start with an existing slot streams from the slot and says so', () => {
    const d = streams(checkStart(input({ resumeFrom: 0n, savedIdentity: undefined, slotInfo: slot(0x7000n) })));
    expect(d).toMatchObject({ createSlot: false, start: 0n });
    expect(d.notices[0]!.message).toContain('no saved position: streaming from replication slot "psql_streamer_db1" at its confirmed position 0/7000');
  });

  test('slot at the saved position: stream from it, nothing to say', () => {
    const d = streams(checkStart(input({})));
    expect(d).toEqual({ kind: 'stream', createSlot: false, start: 0x5000n, notices: [], gapAccepted: false });
  });

  test('slot behind the saved position (after a crash, or walRetain) is normal: resume from the saved position', () => {
    const d = streams(checkStart(input({ slotInfo: slot(0x4000n) })));
    expect(d.start).toBe(0x5000n);
    expect(d.notices).toHaveLength(1);
    expect(d.notices[0]!.level).toBe('info');
    expect(d.notices[0]!.message).toContain('4096 bytes behind the resume position 0/5000');
  });

  test('saved position ahead of the server WAL end: refuse, name the reset command', () => {
    const r = refused(checkStart(input({ resumeFrom: 0xe8_d4a50fffn })));
    expect(r.reason).toBe('position_ahead_of_server');
    expect(r.message).toContain('the saved position of source "db1" (E8/D4A50FFF) is ahead of the server\'s WAL end (0/9000)');
    expect(r.message).toContain('psql-streamer reset-position -config FILE --source db1');
  });

  test('walPositionOverride ahead of the WAL end: refuse, and say to fix the key', () => {
    const r = refused(checkStart(input({ resumeFrom: 0x10000n, fromOverride: true })));
    expect(r.reason).toBe('position_ahead_of_server');
    expect(r.message).toContain('walPositionOverride');
    expect(r.message).not.toContain('reset-position');
  });

  test('another cluster (system identifier differs): refuse before anything else', () => {
    const r = refused(checkStart(input({ savedIdentity: { systemId: '1111', timeline: 1 }, slotInfo: undefined })));
    expect(r.reason).toBe('other_cluster');
    expect(r.message).toContain(`system identifier 1111, but this server is cluster ${SYSTEM}`);
  });

  test('a saved position without a recorded identity (a v1 state file) is checked against the WAL end only', () => {
    expect(streams(checkStart(input({ savedIdentity: undefined }))).start).toBe(0x5000n);
  });

  test('a new timeline (failover, PITR) is reported, not refused', () => {
    const d = streams(checkStart(input({ server: { systemId: SYSTEM, timeline: 2, xlogpos: 0x9000n, database: 'app' } })));
    expect(d.notices.map((n) => n.message).join('\n')).toContain("the server's timeline is 2, the saved position was taken on timeline 1");
  });

  test('slot missing while a position is saved: refuse unless --accept-gap', () => {
    const r = refused(checkStart(input({ slotInfo: undefined })));
    expect(r.reason).toBe('slot_missing');
    expect(r.message).toContain('replication slot "psql_streamer_db1" does not exist, but source "db1" has a saved position 0/5000');
    expect(r.message).toContain('--accept-gap');
    const d = streams(checkStart(input({ slotInfo: undefined, acceptGap: true })));
    expect(d).toMatchObject({ createSlot: true, gapAccepted: true });
    expect(d.notices[0]!.level).toBe('warn');
  });

  test('slot ahead of the saved position (another consumer confirmed past us): refuse unless --accept-gap', () => {
    const r = refused(checkStart(input({ slotInfo: slot(0x6000n) })));
    expect(r.reason).toBe('slot_ahead');
    expect(r.message).toContain('changes committed between 0/5000 and 0/6000 cannot be streamed');
    const d = streams(checkStart(input({ slotInfo: slot(0x6000n), acceptGap: true })));
    expect(d).toMatchObject({ createSlot: false, start: 0x6000n, gapAccepted: true });
  });

  test('walPositionOverride behind the slot: a warning, the slot cannot be rewound', () => {
    const d = streams(checkStart(input({ resumeFrom: 0x3000n, fromOverride: true, slotInfo: slot(0x6000n) })));
    expect(d.gapAccepted).toBe(false);
    expect(d.notices[0]!.level).toBe('warn');
    expect(d.notices[0]!.message).toContain('walPositionOverride cannot rewind a slot');
  });

  test('an invalidated slot is refused even with --accept-gap, with the drop command', () => {
    for (const acceptGap of [false, true]) {
      const r = refused(checkStart(input({ acceptGap, slotInfo: slot(0x5000n, { walStatus: 'lost', restartLsn: null, invalidation: 'wal_removed' }) })));
      expect(r.reason).toBe('slot_invalidated');
      expect(r.message).toContain("SELECT pg_drop_replication_slot('psql_streamer_db1')");
    }
  });

  test('a position at exactly the WAL end is fine (idle server)', () => {
    expect(streams(checkStart(input({ resumeFrom: 0x9000n, slotInfo: slot(0x9000n) }))).start).toBe(0x9000n);
  });
});
