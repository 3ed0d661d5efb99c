/** The position check of check --live: the source's start decision (start-check.ts) as OK/WARN/FAIL with a remedy. */
import { describe, expect, test } from 'bun:test';
import { checkPosition, type PositionInput } from '../../../../src/commands/check/position.ts';
import type { SlotInfo } from '../../../../src/replication/commands.ts';

const slot = (over: Partial<SlotInfo> = {}): SlotInfo => ({
  plugin: 'pgoutput', slotType: 'logical', database: 'shop', activePid: null, confirmedFlush: 0x2000n, restartLsn: 0x1000n, walStatus: 'reserved',
  invalidation: null, failover: null, synced: null, safeWalSize: null, ...over,
});
const input = (over: Partial<PositionInput> = {}): PositionInput => ({
  source: 'db1', slot: 's1', resumeFrom: 0n, fromOverride: false, savedIdentity: { systemId: '7', timeline: 1 },
  server: { systemId: '7', timeline: 1, xlogpos: 0x9000n, database: 'shop' }, slotInfo: slot(), configFile: 'app.toml', ...over,
});

describe('position', () => {
  test('first start and a normal resume: OK', () => {
    expect(checkPosition(input({ slotInfo: undefined, savedIdentity: undefined }))).toEqual({
      check: 'position', verdict: 'OK', reason: 'no saved position: the first start creates the slot',
    });
    expect(checkPosition(input({ resumeFrom: 0x2000n }))).toEqual({ check: 'position', verdict: 'OK', reason: 'resumes from 0/2000' });
    expect(checkPosition(input({ resumeFrom: 0x3000n })).reason).toContain('bytes behind the resume position');
  });

  test('a saved position ahead of the server, or of another cluster: FAIL naming reset-position', () => {
    const ahead = checkPosition(input({ resumeFrom: 0xE8_0000_0000n }));
    expect(ahead.verdict).toBe('FAIL');
    expect(ahead.reason).toStartWith('the source would refuse to start: the saved position of source "db1" (E8/0) is ahead of the server\'s WAL end (0/9000)');
    expect(ahead.remedy).toBe('psql-streamer reset-position -config app.toml --source db1');
    expect(checkPosition(input({ resumeFrom: 0xE8_0000_0000n, fromOverride: true })).remedy).toBe('correct or remove walPositionOverride');
    expect(checkPosition(input({ resumeFrom: 0x2000n, savedIdentity: { systemId: '8', timeline: 1 } })).remedy).toBe('psql-streamer reset-position -config app.toml --source db1');
  });

  test('slot missing or ahead while a position is saved: FAIL naming --accept-gap; invalidated: drop first', () => {
    const missing = checkPosition(input({ resumeFrom: 0x2000n, slotInfo: undefined }));
    expect(missing.verdict).toBe('FAIL');
    expect(missing.reason).toContain('replication slot "s1" does not exist');
    expect(missing.remedy).toBe('psql-streamer -config app.toml --accept-gap (once; then re-copy the affected tables)');
    expect(checkPosition(input({ resumeFrom: 0x1800n })).reason).toContain('beyond the position');
    expect(checkPosition(input({ resumeFrom: 0x2000n, slotInfo: slot({ invalidation: 'wal_removed', walStatus: 'lost' }) })).remedy)
      .toStartWith("SELECT pg_drop_replication_slot('s1'); then psql-streamer -config app.toml --accept-gap");
  });

  test('walPositionOverride behind the slot: WARN, a slot cannot be rewound', () => {
    const rewind = checkPosition(input({ resumeFrom: 0x1800n, fromOverride: true }));
    expect(rewind.verdict).toBe('WARN');
    expect(rewind.remedy).toBe('remove walPositionOverride: a slot cannot be rewound');
  });
});
