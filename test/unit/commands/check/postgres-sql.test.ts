/** The catalog SQL of check --live: version guards, quoting, and parsing of text rows into facts. */
import { describe, expect, test } from 'bun:test';
import {
  parsePublications, parsePublishedTables, parseSession, parseSettings, publicationsSql, publishedTablesSql,
} from '../../../../src/commands/check/postgres-sql.ts';

describe('SQL builders', () => {
  test('names are quoted as literals', () => {
    expect(publicationsSql(['a', "b'c"], 150000)).toContain("IN ('a', 'b''c')");
    expect(publishedTablesSql(["p'q"], 150000)).toContain("pubname IN ('p''q')");
  });

  test('columns a version lacks are NULL', () => {
    expect(publicationsSql(['p'], 120000)).toContain('pubtruncate, NULL, NULL');
    expect(publicationsSql(['p'], 150000)).toContain('pubtruncate, pubviaroot, NULL');
    expect(publicationsSql(['p'], 180000)).toContain('pubviaroot, pubgencols::text');
    expect(publicationsSql(['p'], 100000)).toContain('pubdelete, NULL, NULL, NULL');
    expect(publishedTablesSql(['p'], 110000)).not.toContain('attgenerated');
    expect(publishedTablesSql(['p'], 120000)).toContain("attgenerated = 's'");
  });
});

describe('parsers', () => {
  test('settings, with max_slot_wal_keep_size absent before 13', () => {
    const rows = [['server_version', '15.4'], ['server_version_num', '150004'], ['wal_level', 'logical'], ['max_replication_slots', '10'],
      ['max_wal_senders', '8'], ['max_slot_wal_keep_size', '-1'], ['wal_sender_timeout', '60000']];
    expect(parseSettings(rows)).toEqual({
      version: '15.4', versionNum: 150004, walLevel: 'logical', maxReplicationSlots: 10, maxWalSenders: 8, maxSlotWalKeepSizeMb: -1, walSenderTimeoutMs: 60000,
    });
    expect(parseSettings(rows.filter((r) => r[0] !== 'max_slot_wal_keep_size')).maxSlotWalKeepSizeMb).toBeUndefined();
  });

  test('session', () => {
    expect(parseSession([['app', 't', 'f', '3', '1', null, 'shop']])).toEqual({
      role: 'app', replication: true, superuser: false, slotsUsed: 3, walSendersUsed: 1, tls: false, database: 'shop',
    });
  });

  test('publications: PG 18 pubgencols as "char" or boolean text', () => {
    const [a, b, c] = parsePublications([
      ['a', 't', 't', 't', 'f', 't', 'f', 's'],
      ['b', 'f', 't', 't', 't', null, null, null],
      ['c', 'f', 't', 't', 't', 't', 't', 'n'],
    ]);
    expect(a).toEqual({ name: 'a', allTables: true, insert: true, update: true, delete: false, truncate: true, viaRoot: false, generatedColumns: true });
    expect(b).toMatchObject({ truncate: null, viaRoot: null, generatedColumns: null });
    expect(c).toMatchObject({ viaRoot: true, generatedColumns: false });
  });

  test('published tables: lists joined with U+0001, replica identity letters', () => {
    const [t] = parsePublishedTables([['public', 'Orders', 'p1\u0001p2', 'r', 'i', 'id\u0001line', 'orders_uk', 'note\u0001doc', null, 'public.orders_all']]);
    expect(t).toEqual({
      schema: 'public', name: 'Orders', publications: ['p1', 'p2'], kind: 'r', identity: 'index', primaryKey: ['id', 'line'],
      identityIndex: 'orders_uk', toastable: ['note', 'doc'], generated: [], partitionOf: 'public.orders_all',
    });
    expect(parsePublishedTables([['s', 't', 'p', 'r', 'n', null, null, null, 'g', null]])[0]).toMatchObject({ identity: 'nothing', primaryKey: [], generated: ['g'] });
  });
});
