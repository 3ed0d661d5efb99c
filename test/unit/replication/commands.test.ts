import { describe, expect, test } from 'bun:test';
import {
  createSlotCommand,
  supportsFailoverSlots,
  existingPublicationsSql,
  parseIdentifySystem,
  parseSlotInfo,
  protoVersionFor,
  publicationNames,
  quoteIdent,
  quoteLiteral,
  slotInfoSql,
  startReplicationCommand,
  supportsMessages,
} from '../../../src/replication/commands.ts';

const lsn = (text: string) => {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};

describe('quoting', () => {
  test('identifiers double embedded quotes', () => {
    expect(quoteIdent('slot')).toBe('"slot"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteIdent('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
  });

  test('literals double embedded single quotes and refuse NUL', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("'); DROP TABLE t; --")).toBe("'''); DROP TABLE t; --'");
    expect(quoteLiteral('back\\slash')).toBe("'back\\slash'");
    expect(() => quoteLiteral('a\0b')).toThrow('NUL');
  });
});

describe('commands', () => {
  test('publication lists split on commas and trim', () => {
    expect(publicationNames('pub1')).toEqual(['pub1']);
    expect(publicationNames(' a, b ,,c')).toEqual(['a', 'b', 'c']);
  });

  test('START_REPLICATION quotes the slot, formats the LSN and quotes each publication inside the literal', () => {
    expect(startReplicationCommand({ slot: 'db1', start: lsn('16/B374D848'), protoVersion: 1, publications: ['pub1'], messages: false }))
      .toBe(`START_REPLICATION SLOT "db1" LOGICAL 16/B374D848 ("proto_version" '1', "publication_names" '"pub1"')`);
    expect(startReplicationCommand({ slot: 's', start: 0n, protoVersion: 4, publications: ['a', "o'k", 'Mixed'], messages: true }))
      .toBe(`START_REPLICATION SLOT "s" LOGICAL 0/0 ("proto_version" '4', "publication_names" '"a","o''k","Mixed"', "messages" 'true')`);
  });

  test('a failover slot (PostgreSQL 17+) uses the option list: no snapshot, FAILOVER true', () => {
    expect(createSlotCommand('my"slot', { failover: true })).toBe(`CREATE_REPLICATION_SLOT "my""slot" LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER true)`);
    expect(supportsFailoverSlots(160014)).toBe(false);
    expect(supportsFailoverSlots(170000)).toBe(true);
    expect(supportsFailoverSlots(180004)).toBe(true);
  });

  test('slot creation is permanent pgoutput without a snapshot', () => {
    expect(createSlotCommand('db1')).toBe('CREATE_REPLICATION_SLOT "db1" LOGICAL pgoutput NOEXPORT_SNAPSHOT');
    expect(createSlotCommand('db1', { failover: false })).toBe('CREATE_REPLICATION_SLOT "db1" LOGICAL pgoutput NOEXPORT_SNAPSHOT');
  });

  test('catalog queries quote their literals', () => {
    expect(slotInfoSql("a'b")).toContain("slot_name = 'a''b'");
    expect(existingPublicationsSql(['p1', "p'2"])).toContain("IN ('p1', 'p''2')");
  });

  test('slot rows parse, and no row means no slot', () => {
    expect(parseSlotInfo([], lsn)).toBeUndefined();
    expect(parseSlotInfo([['pgoutput', 'logical', 'app', '4242', '0/16B3748', '0/16B3700', 'reserved', null, 't', 'f', '1073741824']], lsn)).toEqual({
      plugin: 'pgoutput', slotType: 'logical', database: 'app', activePid: 4242, confirmedFlush: 0x16b3748n,
      restartLsn: 0x16b3700n, walStatus: 'reserved', invalidation: null, failover: true, synced: false, safeWalSize: 1073741824,
    });
    expect(parseSlotInfo([[null, 'physical', null, null, null, null, null, null, null, null, null]], lsn)).toEqual({
      plugin: null, slotType: 'physical', database: null, activePid: null, confirmedFlush: null,
      restartLsn: null, walStatus: null, invalidation: null, failover: null, synced: null, safeWalSize: null,
    });
    // safe_wal_size: bytes, or null when unlimited (and on servers before 13, which select NULL).
    expect(parseSlotInfo([['pgoutput', 'logical', 'app', null, '0/10', '0/10', 'reserved', null, null, null, null]], lsn)?.safeWalSize).toBeNull();
  });

  test('an invalidated slot: PG 17 names the reason, 13–16 say wal_status lost', () => {
    const row = (walStatus: string | null, reason: string | null) => [['pgoutput', 'logical', 'app', null, '0/10', null, walStatus, reason, null, null]];
    expect(parseSlotInfo(row('lost', 'wal_removed'), lsn)?.invalidation).toBe('wal_removed');
    expect(parseSlotInfo(row('lost', null), lsn)?.invalidation).toBe('wal_removed');
    expect(parseSlotInfo(row(null, 'conflict'), lsn)?.invalidation).toBe('conflict');
    expect(parseSlotInfo(row('extended', null), lsn)?.invalidation).toBeNull();
  });

  test('slot columns follow the server version', () => {
    expect(slotInfoSql('s', 120000)).not.toContain('wal_status');
    expect(slotInfoSql('s', 130000)).toContain('wal_status');
    expect(slotInfoSql('s', 120000)).not.toContain('safe_wal_size');
    expect(slotInfoSql('s', 130000)).toContain('safe_wal_size');
    expect(slotInfoSql('s', 160000)).toContain('conflicting');
    expect(slotInfoSql('s', 170000)).toContain('invalidation_reason');
    expect(slotInfoSql('s', 170000)).toContain('failover, synced');
  });

  test('IDENTIFY_SYSTEM rows parse; anything else is an error', () => {
    expect(parseIdentifySystem([['7312345678901234567', '3', '0/1A2B3C4D', 'app']], lsn)).toEqual({
      systemId: '7312345678901234567', timeline: 3, xlogpos: 0x1a2b3c4dn, database: 'app',
    });
    expect(parseIdentifySystem([['7312345678901234567', '1', '0/10', null]], lsn).database).toBeNull();
    expect(() => parseIdentifySystem([], lsn)).toThrow('unexpected IDENTIFY_SYSTEM result');
    expect(() => parseIdentifySystem([['x', '1', '0/10', null]], lsn)).toThrow('unexpected IDENTIFY_SYSTEM result');
  });

  test('protocol version and messages follow the server version', () => {
    expect(protoVersionFor(100023)).toBe(1);
    expect(protoVersionFor(130010)).toBe(1);
    expect(protoVersionFor(140005)).toBe(2);
    expect(protoVersionFor(150018)).toBe(3);
    expect(protoVersionFor(170002)).toBe(4);
    expect(supportsMessages(130000)).toBe(false);
    expect(supportsMessages(140000)).toBe(true);
  });
});
