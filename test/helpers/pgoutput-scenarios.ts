/**
 * The SQL workloads behind the golden pgoutput frames, with what PostgreSQL must send for each.
 * Names are logical (`items`, `pub`, ...) and mapped to unique real names per capture.
 */
import { expect } from 'bun:test';
import type { DecodedFrame, Names, Scenario } from './pgoutput-capture.ts';
import { rowsOnly, summarize } from './pgoutput-summary.ts';

/** Row changes, truncates, schema changes, replica identities, unchanged TOAST, custom types, messages. */
export const changesV1: Scenario = {
  name: 'v1-changes',
  protoVersion: 1,
  options: { messages: 'true' },
  objects: ['items', 'other', 'uniq', 'uniq_ab', 'mood', 'origin'],
  async setup(sql, n) {
    await sql.unsafe(`
      create type ${n.mood} as enum ('happy', 'sad');
      create table ${n.items} (id int primary key, name text, big text, feeling ${n.mood}, amount numeric(10,2), data bytea);
      alter table ${n.items} alter column big set storage external;
      create table ${n.other} (id serial primary key);
      create table ${n.uniq} (a int not null, b varchar(20) not null, c text);
      create unique index ${n.uniq_ab} on ${n.uniq} (a, b);
      alter table ${n.uniq} replica identity using index ${n.uniq_ab};
      create publication ${n.pub} for table ${n.items}, ${n.other}, ${n.uniq};
    `);
  },
  async workload(sql, n) {
    const items = n.items;
    await sql.unsafe(`insert into ${items} values (1, 'naïve ☕', repeat('x', 5000), 'happy', 12.5, '\\x00ff'), (2, null, null, null, null, null)`);
    await sql.unsafe(`update ${items} set name = 'renamed' where id = 1`);
    await sql.unsafe(`update ${items} set id = 10 where id = 2`);
    await sql.unsafe(`delete from ${items} where id = 10`);
    await sql.unsafe(`alter table ${items} replica identity full`);
    await sql.unsafe(`update ${items} set amount = 13 where id = 1`);
    await sql.unsafe(`alter table ${items} add column extra int default 7`);
    await sql.unsafe(`insert into ${items} (id, name) values (3, 'three')`);
    await sql.unsafe(`delete from ${items} where id = 3`);
    await sql.unsafe(`insert into ${n.uniq} values (1, 'x', 'c')`);
    await sql.unsafe(`update ${n.uniq} set b = 'y' where a = 1`);
    await sql.unsafe(`insert into ${n.other} default values`);
    await sql.unsafe(`truncate ${n.other}`);
    await sql.unsafe(`truncate ${items}, ${n.other} restart identity cascade`);
    // Non-transactional first: decoding reads only flushed WAL, and the commit after it flushes it.
    await sql`select pg_logical_emit_message(false, 'test/prefix', '\\x00ff'::bytea)`;
    await sql`select pg_logical_emit_message(true, 'test/prefix', 'transactional content')`;
    // A transaction replayed from another node carries its origin (needs superuser).
    await sql`select pg_replication_origin_create(${n.origin!})`;
    const reserved = await sql.reserve();
    try {
      await reserved`select pg_replication_origin_session_setup(${n.origin!})`;
      await reserved.unsafe(`begin; select pg_replication_origin_xact_setup('0/ABCDEF', now()); insert into ${items} (id, name) values (4, 'from origin'); commit`);
      await reserved`select pg_replication_origin_session_reset()`;
    } finally {
      reserved.release();
    }
  },
  async teardown(sql, n) {
    await sql.unsafe(`drop publication if exists ${n.pub}; drop table if exists ${n.items}, ${n.other}, ${n.uniq}; drop type if exists ${n.mood}`);
    await sql`select pg_replication_origin_drop(roname) from pg_replication_origin where roname = ${n.origin!}`;
  },
  check(messages, n, serverVersion) {
    checkChangesV1(messages, n, serverVersion);
  },
};

/** Protocol 2 with streaming: large transactions arrive in Stream Start/Stop blocks. */
export const streamingV2: Scenario = {
  name: 'v2-streaming',
  protoVersion: 2,
  options: { streaming: 'on', messages: 'true' },
  workMem: '64kB',
  objects: ['bulk'],
  async setup(sql, n) {
    await sql.unsafe(`
      create table ${n.bulk} (id int primary key, payload text);
      create publication ${n.pub} for table ${n.bulk};
    `);
  },
  async workload(sql, n) {
    const rows = (from: number) => `select g, repeat('p', 40) || g from generate_series(${from}, ${from + STREAM_ROWS - 1}) g`;
    await sql.unsafe(`insert into ${n.bulk} values (0, 'small')`);
    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${n.bulk} ${rows(1000)}`);
      await tx`select pg_logical_emit_message(true, 'stream', 'inside')`;
    });
    // Aborted after streaming began: Stream Abort for the top-level transaction.
    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${n.bulk} ${rows(10000)}`);
      await tx.unsafe('select 1/0');
    }).catch(() => undefined);
    // A rolled-back subtransaction inside a streamed transaction: Stream Abort with its subxid.
    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${n.bulk} ${rows(20000)}`);
      await tx.savepoint(async (sp) => {
        await sp.unsafe(`insert into ${n.bulk} ${rows(30000)}`);
        throw new Error('roll back to the savepoint');
      }).catch(() => undefined);
      await tx.unsafe(`insert into ${n.bulk} values (40000, 'after savepoint')`);
    });
  },
  async teardown(sql, n) {
    await sql.unsafe(`drop publication if exists ${n.pub}; drop table if exists ${n.bulk}`);
  },
  check(messages, n, serverVersion) {
    checkStreamingV2(messages, n, serverVersion);
  },
};

/** Protocol 3 with two_phase (and streaming, for Stream Prepare). */
export const twoPhaseV3: Scenario = {
  name: 'v3-two-phase',
  protoVersion: 3,
  options: { two_phase: 'on', streaming: 'on' },
  workMem: '64kB',
  twoPhase: true,
  objects: ['tp'],
  async setup(sql, n) {
    await sql.unsafe(`
      create table ${n.tp} (id int primary key, payload text);
      create publication ${n.pub} for table ${n.tp};
    `);
  },
  async workload(sql, n) {
    const gid = (suffix: string) => `${n.tp}_${suffix}`;
    const reserved = await sql.reserve();
    try {
      await reserved.unsafe(`begin; insert into ${n.tp} values (1, 'one'); prepare transaction '${gid('commit')}'`);
      await reserved.unsafe(`commit prepared '${gid('commit')}'`);
      await reserved.unsafe(`begin; insert into ${n.tp} values (2, 'two'); prepare transaction '${gid('rollback')}'`);
      await reserved.unsafe(`rollback prepared '${gid('rollback')}'`);
      await reserved.unsafe(
        `begin; insert into ${n.tp} select g, repeat('p', 40) || g from generate_series(100, ${99 + STREAM_ROWS}) g; prepare transaction '${gid('stream')}'`,
      );
      await reserved.unsafe(`commit prepared '${gid('stream')}'`);
    } finally {
      reserved.release();
    }
  },
  async teardown(sql, n) {
    await sql.unsafe(`drop publication if exists ${n.pub}; drop table if exists ${n.tp}`);
  },
  check(messages, n) {
    checkTwoPhaseV3(messages, n);
  },
};

/** Every scenario, in capture order. */
export const scenarios: Scenario[] = [changesV1, streamingV2, twoPhaseV3];

/**
 * Run live only (no fixture): the row-change scenario under later protocol versions, whose
 * messages outside streams must be the same. Also covers protocol 3 where the server has no
 * prepared transactions for the two-phase scenario.
 */
export const liveOnlyScenarios: Scenario[] = [
  ...[2, 3, 4].map((protoVersion) => ({
    ...changesV1,
    name: `v${protoVersion}-changes`,
    protoVersion,
    options: { ...changesV1.options, streaming: 'on' },
  })),
  // Without the messages option (PostgreSQL 13 has none): the same rows, no Message frames.
  {
    ...changesV1,
    name: 'v1-changes-without-messages',
    options: {},
    check(messages, n, serverVersion) {
      checkChangesV1(messages, n, serverVersion, { messages: false });
    },
  },
];

/** Rows per large transaction: enough to pass a 64kB logical_decoding_work_mem several times. */
const STREAM_ROWS = 400;

const BIG = 'x'.repeat(5000);

/**
 * `messages: false`: the server was not asked for logical decoding messages, so none may arrive.
 * Before PostgreSQL 15 pgoutput also sends transactions without published changes (DDL, a
 * message nobody asked for) as empty Begin/Commit pairs; those are dropped before comparing.
 */
function checkChangesV1(messages: DecodedFrame[], n: Names, serverVersion: number, { messages: withMessages = true } = {}): void {
  const { facts, relations, relationNames, typeNames } = summarize(messages);
  const items = n.items!;
  const row = (id: string, rest: Record<string, string | null> = {}) => ({
    id, name: null, big: null, feeling: null, amount: null, data: null, ...rest,
  });
  const first = row('1', { name: 'naïve ☕', big: BIG, feeling: 'happy', amount: '12.50', data: '\\x00ff' });
  const { big: _big, ...firstWithoutBig } = first;
  const expected: object[] = [
    { begin: true },
    { insert: items, columns: first },
    { insert: items, columns: row('2') },
    { commit: true },
    // The TOASTed column is unchanged: listed, not null.
    { begin: true }, { update: items, columns: { ...firstWithoutBig, name: 'renamed' }, unchanged: ['big'] }, { commit: true },
    // A key change sends the old key ('K').
    { begin: true }, { update: items, columns: row('10'), old: { id: '2' }, oldKind: 'key' }, { commit: true },
    { begin: true }, { delete: items, columns: row('10'), old: { id: '10' }, oldKind: 'key' }, { commit: true },
    // REPLICA IDENTITY FULL sends the whole old row ('O'), the TOASTed value included.
    { begin: true },
    {
      update: items,
      columns: { ...firstWithoutBig, name: 'renamed', amount: '13.00' },
      old: { ...first, name: 'renamed' },
      oldKind: 'old',
      unchanged: ['big'],
    },
    { commit: true },
    // After ALTER TABLE ... ADD COLUMN the new column arrives through a new Relation message.
    { begin: true }, { insert: items, columns: { ...row('3', { name: 'three' }), extra: '7' } }, { commit: true },
    { begin: true },
    { delete: items, columns: { ...row('3', { name: 'three' }), extra: '7' }, old: { ...row('3', { name: 'three' }), extra: '7' }, oldKind: 'old' },
    { commit: true },
    // REPLICA IDENTITY USING INDEX (a, b): the key is the index's columns.
    { begin: true }, { insert: n.uniq, columns: { a: '1', b: 'x', c: 'c' } }, { commit: true },
    { begin: true }, { update: n.uniq, columns: { a: '1', b: 'y', c: 'c' }, old: { a: '1', b: 'x' }, oldKind: 'key' }, { commit: true },
    { begin: true }, { insert: n.other, columns: { id: '1' } }, { commit: true },
    { begin: true }, { truncate: [n.other], cascade: false, restartIdentity: false }, { commit: true },
    { begin: true }, { truncate: [items, n.other], cascade: true, restartIdentity: true }, { commit: true },
    { message: 'test/prefix', transactional: false, content: '00ff' },
    { begin: true }, { message: 'test/prefix', transactional: true, content: Buffer.from('transactional content').toString('hex') }, { commit: true },
    { begin: true },
    { origin: n.origin, originLsn: '0/ABCDEF' },
    { insert: items, columns: { ...row('4', { name: 'from origin' }), extra: '7' } },
    { commit: true },
  ];
  const sentEmpty = serverVersion < 150000;
  expect(sentEmpty ? withoutEmptyTransactions(facts) : facts).toEqual(withMessages ? expected : withoutEmptyTransactions(expected.filter((fact) => !('message' in fact))));

  // The cache holds the latest version of each relation.
  const firstInsert = messages.map((m) => m.message).find((m) => m.tag === 'insert');
  const itemsRelation = relations.require(firstInsert?.tag === 'insert' ? firstInsert.relationId : -1);
  const moodOid = itemsRelation.columns[3]!.typeOid;
  expect(moodOid).toBeGreaterThanOrEqual(16384); // a user-defined type, announced by a Type message
  expect(relations.getType(moodOid)).toMatchObject({ namespace: 'public', name: n.mood });
  expect(itemsRelation.columns.map((c) => [c.name, c.typeOid, c.typeModifier])).toEqual([
    ['id', 23, -1], ['name', 25, -1], ['big', 25, -1], ['feeling', moodOid, -1],
    ['amount', 1700, ((10 << 16) | 2) + 4], ['data', 17, -1], ['extra', 23, -1], // numeric(10,2): (10 << 16 | 2) + 4
  ]);
  expect(itemsRelation.replicaIdentity).toBe('f');
  expect(itemsRelation.keyColumns).toEqual(['id', 'name', 'big', 'feeling', 'amount', 'data', 'extra']); // FULL: every column
  expect([...new Set(typeNames)]).toEqual([n.mood!]);
  expect([...new Set(relationNames)].sort()).toEqual([items, n.uniq!, n.other!].sort());
  const uniqRelation = messages.map((m) => m.message).find((m) => m.tag === 'relation' && m.name === n.uniq);
  expect(uniqRelation).toMatchObject({
    replicaIdentity: 'i',
    namespace: 'public',
    columns: [
      { name: 'a', isKey: true, flags: 1, typeOid: 23 },
      { name: 'b', isKey: true, flags: 1, typeOid: 1043, typeModifier: 24 }, // varchar(20): 20 + 4
      { name: 'c', isKey: false, flags: 0, typeOid: 25 },
    ],
  });
  // Before REPLICA IDENTITY FULL the key was the primary key only.
  const firstItems = messages.map((m) => m.message).find((m) => m.tag === 'relation' && m.name === items);
  expect(firstItems).toMatchObject({ replicaIdentity: 'd', columns: [{ isKey: true }, { isKey: false }, { isKey: false }, { isKey: false }, { isKey: false }, { isKey: false }] });
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const bulkRow = (id: number) => ({ id: String(id), payload: 'p'.repeat(40) + id });

function checkStreamingV2(messages: DecodedFrame[], n: Names, serverVersion: number): void {
  const { facts } = summarize(messages);
  const bulk = n.bulk!;
  // Committed rows, as a consumer applying Stream Commit would see them (the aborted ones are not).
  const streamStarts = facts.filter((f) => 'streamStart' in f);
  expect(streamStarts.length).toBeGreaterThanOrEqual(4);
  const [small, ...rest] = facts;
  expect(small).toEqual({ begin: true });
  expect(rest.slice(0, 3)).toEqual([{ insert: bulk, columns: { id: '0', payload: 'small' } }, { commit: true }, { streamStart: rest[2]!.streamStart, first: true }]);

  const xidA = rest[2]!.streamStart as number;
  const inA = facts.filter((f) => f.xid === xidA);
  expect(inA).toEqual([
    ...range(1000, STREAM_ROWS).map((id) => ({ insert: bulk, columns: bulkRow(id), xid: xidA })),
    { message: 'stream', transactional: true, content: Buffer.from('inside').toString('hex'), xid: xidA },
  ]);
  expect(facts).toContainEqual({ streamCommit: xidA });

  // The aborted transaction: some rows streamed, then Stream Abort of the top level (subXid = xid).
  // PostgreSQL 18 checks whether a transaction is already known aborted before streaming it and
  // drops it instead; decoded after the fact (as here) it never appears.
  const aborts = facts.filter((f) => 'streamAbort' in f);
  const skipsAborted = serverVersion >= 180000;
  expect(aborts.length).toBe(skipsAborted ? 1 : 2);
  if (skipsAborted) {
    expect(facts.filter((f) => 'insert' in f && Number((f.columns as { id: string }).id) >= 10000 && Number((f.columns as { id: string }).id) < 20000)).toEqual([]);
  } else {
    const xidB = aborts[0]!.streamAbort as number;
    expect(aborts[0]).toEqual({ streamAbort: xidB, subXid: xidB });
    const inB = facts.filter((f) => f.xid === xidB);
    expect(inB.length).toBeGreaterThan(0);
    expect(inB).toEqual(range(10000, inB.length).map((id) => ({ insert: bulk, columns: bulkRow(id), xid: xidB })));
    expect(facts).not.toContainEqual({ streamCommit: xidB });
  }

  // The savepoint rolled back inside a streamed transaction: Stream Abort names the subtransaction.
  const lastAbort = aborts[aborts.length - 1]!;
  const xidC = lastAbort.streamAbort as number;
  const subXid = lastAbort.subXid as number;
  expect(subXid).not.toBe(xidC);
  expect(facts.filter((f) => f.xid === xidC)).toEqual(range(20000, STREAM_ROWS).map((id) => ({ insert: bulk, columns: bulkRow(id), xid: xidC })));
  const inSub = facts.filter((f) => f.xid === subXid);
  expect(inSub).toEqual(range(30000, inSub.length).map((id) => ({ insert: bulk, columns: bulkRow(id), xid: subXid })));
  const after = facts.filter((f) => 'insert' in f && (f.columns as { id: string }).id === '40000');
  expect(after).toHaveLength(1);
  expect(after[0]!.xid).not.toBe(subXid);
  expect(facts.at(-1)).toEqual({ streamCommit: xidC });
}

function checkTwoPhaseV3(messages: DecodedFrame[], n: Names): void {
  const { facts } = summarize(messages);
  const tp = n.tp!;
  const gid = (suffix: string) => `${tp}_${suffix}`;
  const xid = facts[8]?.streamStart as number;
  expect(facts.slice(0, 9)).toEqual([
    { beginPrepare: gid('commit') }, { insert: tp, columns: { id: '1', payload: 'one' } }, { prepare: gid('commit') }, { commitPrepared: gid('commit') },
    { beginPrepare: gid('rollback') }, { insert: tp, columns: { id: '2', payload: 'two' } }, { prepare: gid('rollback') }, { rollbackPrepared: gid('rollback') },
    // A large prepared transaction is streamed, then ends with Stream Prepare.
    { streamStart: xid, first: true },
  ]);
  expect(rowsOnly(facts.filter((f) => f.xid === xid))).toEqual(range(100, STREAM_ROWS).map((id) => ({ insert: tp, columns: bulkRow(id) })));
  expect(facts.slice(-2)).toEqual([{ streamPrepare: gid('stream') }, { commitPrepared: gid('stream') }]);
}

/** Facts without Begin/Commit pairs that hold nothing. */
function withoutEmptyTransactions(facts: readonly object[]): object[] {
  const out: object[] = [];
  for (const fact of facts) {
    const last = out[out.length - 1];
    if ('commit' in fact && last !== undefined && 'begin' in last) out.pop();
    else out.push(fact);
  }
  return out;
}
