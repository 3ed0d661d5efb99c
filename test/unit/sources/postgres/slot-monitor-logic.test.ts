/** The slot monitor's pure parts: its SQL and row parsing, the WAL budget steps, the /status texts, the config rules. */
import { describe, expect, test } from 'bun:test';
import { describeSize } from '../../../../src/config/size.ts';
import { parseHeartbeat, parseSlotSample, slotSampleSql, heartbeatSql, type SlotSample } from '../../../../src/sources/postgres/slot-query.ts';
import { postgresSourceOptions, validatePostgresSource, type PostgresSourceOptions } from '../../../../src/sources/postgres/spec.ts';
import { budgetLevel, describeSlot, slotDistances, slotWarning, stepBudget, type WalBudget } from '../../../../src/sources/postgres/wal-budget.ts';

const MiB = 2 ** 20;

function sample(overrides: Partial<SlotSample> = {}): SlotSample {
  return {
    inRecovery: false,
    walEnd: 0x1_0000_0000n + 100n * BigInt(MiB),
    slotExists: true,
    confirmedFlush: 0x1_0000_0000n + 90n * BigInt(MiB),
    restart: 0x1_0000_0000n + 40n * BigInt(MiB),
    walStatus: 'reserved',
    safeWalSize: null,
    ...overrides,
  };
}

describe('slot query', () => {
  test('the slot name is quoted; PG 13+ columns are read through to_jsonb', () => {
    const sql = slotSampleSql("it's");
    expect(sql).toContain("r.slot_name = 'it''s'");
    expect(sql).toContain("->> 'wal_status'");
    expect(sql).toContain("->> 'safe_wal_size'");
    expect(sql).toContain('pg_last_wal_replay_lsn()');
  });

  test('a primary row with every column', () => {
    expect(parseSlotSample([['false', '1/6400000', 't', '1/5A00000', '1/2800000', 'extended', '1048576']])).toEqual({
      inRecovery: false,
      walEnd: 0x1_0640_0000n,
      slotExists: true,
      confirmedFlush: 0x1_05a0_0000n,
      restart: 0x1_0280_0000n,
      walStatus: 'extended',
      safeWalSize: MiB,
    });
  });

  test('an older server (no wal_status / safe_wal_size), a standby, a missing slot', () => {
    const old = parseSlotSample([['f', '0/10', 't', '0/8', '0/4', null, null]]);
    expect([old.walStatus, old.safeWalSize]).toEqual([null, null]);
    expect(parseSlotSample([['true', '0/10', 't', '0/8', '0/4', 'reserved', '-5']]).inRecovery).toBe(true);
    expect(parseSlotSample([['true', '0/10', 't', '0/8', '0/4', 'reserved', '-5']]).safeWalSize).toBe(-5);
    const missing = parseSlotSample([['false', '0/10', 'f', null, null, null, null]]);
    expect([missing.slotExists, missing.confirmedFlush, missing.restart]).toEqual([false, null, null]);
  });

  test('bad rows are errors that say what is wrong', () => {
    expect(() => parseSlotSample([])).toThrow(/0 row\(s\)/);
    expect(() => parseSlotSample([['false', null, 't', null, null, null, null]])).toThrow(/no WAL position/);
    expect(() => parseSlotSample([['false', 'garbage', 't', null, null, null, null]])).toThrow(/invalid LSN/);
    expect(() => parseSlotSample([['false', '0/1', 't', null, null, null, 'x']])).toThrow(/safe_wal_size/);
  });

  test('heartbeat: prefix and text quoted, non-transactional; the returned LSN parsed', () => {
    expect(heartbeatSql("hb'x", '2026-01-01T00:00:00.000Z')).toBe("SELECT pg_catalog.pg_logical_emit_message(false, 'hb''x', '2026-01-01T00:00:00.000Z')::text");
    expect(parseHeartbeat([['0/16B3748']])).toBe(0x16b3748n);
    expect(() => parseHeartbeat([])).toThrow(/no position/);
  });
});

describe('WAL budget', () => {
  const budget: WalBudget = { warnBytes: 50 * MiB, maxBytes: 80 * MiB, action: 'wait' };

  test('distances: behind = WAL end - confirmed_flush, retained = WAL end - restart; unknown without a slot', () => {
    expect(slotDistances(sample())).toEqual({ behindBytes: 10 * MiB, retainedBytes: 60 * MiB });
    expect(slotDistances(sample({ slotExists: false, confirmedFlush: null, restart: null }))).toEqual({ behindBytes: null, retainedBytes: null });
  });

  test('levels: strictly over a limit; 0 turns a limit off', () => {
    expect(budgetLevel(budget, 50 * MiB)).toBe('ok');
    expect(budgetLevel(budget, 50 * MiB + 1)).toBe('warn');
    expect(budgetLevel(budget, 80 * MiB + 1)).toBe('max');
    expect(budgetLevel({ ...budget, warnBytes: 0 }, 60 * MiB)).toBe('ok');
    expect(budgetLevel({ warnBytes: 0, maxBytes: 0, action: 'stop' }, Number.MAX_SAFE_INTEGER)).toBe('ok');
  });

  test('one log line per crossing, up and down; none while the level stays', () => {
    const up = stepBudget(budget, 'ok', 60 * MiB, 's1');
    expect(up.level).toBe('warn');
    expect(up.log?.level).toBe('warn');
    expect(up.log?.text).toContain('WAL budget warning: the slot "s1" makes the server keep 60.0 MiB of WAL, over walBudgetWarn 50.0 MiB');
    expect(stepBudget(budget, 'warn', 70 * MiB, 's1').log).toBeUndefined();
    const over = stepBudget(budget, 'warn', 90 * MiB, 's1');
    expect([over.level, over.log?.level, over.stop]).toEqual(['max', 'error', false]);
    expect(over.log?.text).toContain('walBudgetAction = "wait": streaming on');
    expect(stepBudget(budget, 'max', 90 * MiB, 's1').log).toBeUndefined();
    expect(stepBudget(budget, 'max', 60 * MiB, 's1').log?.text).toContain('back under walBudgetMax');
    const down = stepBudget(budget, 'warn', MiB, 's1');
    expect([down.level, down.log?.level]).toEqual(['ok', 'info']);
  });

  test('"stop" asks to stop while over the hard limit (the caller acts once)', () => {
    const stop = { ...budget, action: 'stop' as const };
    const step = stepBudget(stop, 'ok', 90 * MiB, 's1');
    expect([step.level, step.stop]).toEqual(['max', true]);
    expect(step.log?.text).toContain('walBudgetAction = "stop": stopping the source');
    expect(stepBudget(stop, 'max', 90 * MiB, 's1').stop).toBe(true);
    expect(stepBudget(stop, 'ok', 60 * MiB, 's1').stop).toBe(false);
  });

  test('/status warning: budget, wal_status unreserved/lost, a missing slot; null when all is well', () => {
    expect(slotWarning('s1', undefined, 'ok', budget)).toBeNull();
    expect(slotWarning('s1', sample(), 'ok', budget)).toBeNull();
    expect(slotWarning('s1', sample(), 'warn', budget)).toBe('WAL budget warning: 60.0 MiB retained > walBudgetWarn 50.0 MiB');
    expect(slotWarning('s1', sample(), 'max', budget)).toBe('WAL budget exceeded: 60.0 MiB retained > walBudgetMax 80.0 MiB');
    expect(slotWarning('s1', sample({ walStatus: 'unreserved' }), 'ok', budget)).toContain('wal_status unreserved');
    expect(slotWarning('s1', sample({ walStatus: 'lost' }), 'ok', budget)).toContain('invalidated');
    expect(slotWarning('s1', sample({ slotExists: false, confirmedFlush: null, restart: null, walStatus: null }), 'ok', budget)).toBe('replication slot "s1" does not exist on the server');
  });

  test('slot facts for /status and stats', () => {
    expect(describeSlot(undefined)).toBe('not polled yet');
    expect(describeSlot(sample())).toBe('behind 10.0 MiB, retained 60.0 MiB, wal_status reserved, safe_wal_size unlimited');
    expect(describeSlot(sample({ safeWalSize: 3 * 2 ** 30 }))).toContain('safe_wal_size 3.0 GiB');
    expect(describeSlot(sample({ walStatus: null }))).toContain('wal_status unknown, safe_wal_size unknown');
    expect(describeSlot(sample({ slotExists: false }))).toBe('missing');
  });

  test('describeSize', () => {
    expect(describeSize(0)).toBe('0 B');
    expect(describeSize(1023)).toBe('1023 B');
    expect(describeSize(57_999_360)).toBe('55.3 MiB');
    expect(describeSize(-2048)).toBe('-2.0 KiB');
  });
});

describe('config rules', () => {
  const defaults = Object.fromEntries(Object.entries(postgresSourceOptions).map(([key, spec]) => [key, 'default' in spec ? spec.default : 'x'])) as unknown as PostgresSourceOptions;

  test('defaults: monitor every 10s, no budget, no heartbeat; valid', () => {
    expect([defaults.slotMonitorInterval, defaults.walBudgetWarn, defaults.walBudgetMax, defaults.walBudgetAction, defaults.heartbeatInterval, defaults.heartbeatEvents])
      .toEqual([10_000, 0, 0, 'wait', 0, false]);
    expect(validatePostgresSource(defaults)).toEqual([]);
  });

  test('a budget needs the monitor; warn must not be above max', () => {
    expect(validatePostgresSource({ ...defaults, slotMonitorInterval: 0, walBudgetMax: MiB }).map((p) => p.key)).toEqual(['walBudgetMax']);
    expect(validatePostgresSource({ ...defaults, walBudgetWarn: 2 * MiB, walBudgetMax: MiB })).toEqual([{ key: 'walBudgetWarn', message: 'must not be above walBudgetMax (1048576 bytes)' }]);
    expect(validatePostgresSource({ ...defaults, walBudgetWarn: 2 * MiB, walBudgetMax: 0 })).toEqual([]);
  });
});
