import { describe, expect, test } from 'bun:test';
import { describeSlotFailover, slotFailoverPlan } from '../../../../src/sources/postgres/slot-failover.ts';

describe('failover slots', () => {
  test('created with FAILOVER on PostgreSQL 17+ primaries when configured (the default)', () => {
    expect(slotFailoverPlan({ configured: true, serverVersionNum: 170000, inRecovery: false })).toEqual({ failover: true });
    expect(slotFailoverPlan({ configured: true, serverVersionNum: 180004, inRecovery: false })).toEqual({ failover: true });
  });

  test('not with failoverSlot = false, before 17, or on a standby; the reason is given', () => {
    expect(slotFailoverPlan({ configured: false, serverVersionNum: 170000, inRecovery: false })).toEqual({ failover: false, why: 'failoverSlot = false' });
    expect(slotFailoverPlan({ configured: true, serverVersionNum: 160014, inRecovery: false })).toEqual({ failover: false, why: 'PostgreSQL 16 has no failover slots (17+)' });
    expect(slotFailoverPlan({ configured: true, serverVersionNum: 170010, inRecovery: true }).failover).toBe(false);
  });

  test('the log line says what the flags mean', () => {
    expect(describeSlotFailover('s', { failover: true, synced: false })).toBe('Replication slot "s" is a failover slot: standbys with sync_replication_slots = on keep a copy');
    expect(describeSlotFailover('s', { failover: true, synced: true })).toContain('synchronised from a former primary (synced = true)');
    expect(describeSlotFailover('s', { failover: false, synced: false })).toContain('is not a failover slot (failoverSlot = false');
    expect(describeSlotFailover('s', { failover: null, synced: null })).toContain('before PostgreSQL 17');
  });
});
