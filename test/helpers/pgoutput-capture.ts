/**
 * Capturing real pgoutput messages: run a scenario's SQL against a throwaway PostgreSQL, read the
 * raw messages with pg_logical_slot_peek_binary_changes (each row's data is one pgoutput message,
 * exactly what a walsender puts in an XLogData), and store/load them as golden fixtures
 * (test/fixtures/pgoutput/<scenario>.bin + .json). Shared by the integration test, the fixture
 * unit test and scripts/capture-pgoutput-frames.ts.
 */
import type postgres from 'postgres';
import { decodePgoutput } from '../../src/pgoutput/decode.ts';
import type { PgoutputMessage } from '../../src/pgoutput/messages.ts';
import { parseLsn } from '../../src/replication/lsn.ts';

/** Logical object name → the unique name used in one capture. */
export type Names = Record<string, string>;

/** A SQL workload whose pgoutput output is known. */
export interface Scenario {
  name: string;
  protoVersion: number;
  /** pgoutput options besides proto_version and publication_names. */
  options: Record<string, string>;
  /** Logical names of the objects the scenario creates (each gets a unique real name). */
  objects: string[];
  /** Create the slot with two_phase = true (PostgreSQL 15+, needs max_prepared_transactions > 0). */
  twoPhase?: boolean;
  /** logical_decoding_work_mem for the decoding session (small values force streaming). */
  workMem?: string;
  /** Creates the tables and the publication `pub` (the slot is created after it). */
  setup(sql: postgres.Sql, n: Names): Promise<void>;
  /** The changes to decode. */
  workload(sql: postgres.Sql, n: Names): Promise<void>;
  /** Drops what setup created. */
  teardown(sql: postgres.Sql, n: Names): Promise<void>;
  /** Asserts the decoded messages of a server of `serverVersion` (server_version_num); throws on mismatch. */
  check(messages: DecodedFrame[], n: Names, serverVersion: number): void;
}

/** One row of pg_logical_slot_peek_binary_changes. */
export interface Frame {
  lsn: bigint;
  xid: number;
  data: Uint8Array;
}

/** What a capture produced, as stored in the fixture files. */
export interface Capture {
  scenario: string;
  serverVersion: number;
  protoVersion: number;
  names: Names;
  frames: Frame[];
}

/** A frame with its decoded message. */
export interface DecodedFrame extends Frame {
  message: PgoutputMessage;
}

/** Why a server of major version `major` cannot run a scenario, or undefined when it can. */
export function unsupportedOn(major: number, scenario: Scenario): string | undefined {
  if (scenario.protoVersion >= 4 && major < 16) return `proto_version ${scenario.protoVersion} needs PostgreSQL 16+`;
  if (scenario.protoVersion >= 3 && major < 15) return `proto_version ${scenario.protoVersion} needs PostgreSQL 15+`;
  if (scenario.protoVersion >= 2 && major < 14) return `proto_version ${scenario.protoVersion} needs PostgreSQL 14+`;
  if (scenario.options.messages !== undefined && major < 14) return 'the messages option needs PostgreSQL 14+';
  return undefined;
}

/** Whether this server can run a scenario (its version, and prepared transactions for two-phase). */
export async function supports(sql: postgres.Sql, scenario: Scenario): Promise<string | undefined> {
  const [row] = await sql<{ version: number; prepared: number }[]>`
    select current_setting('server_version_num')::int as version,
           current_setting('max_prepared_transactions')::int as prepared`;
  const byVersion = unsupportedOn(Math.floor((row?.version ?? 0) / 10000), scenario);
  if (byVersion !== undefined) return byVersion;
  if (scenario.twoPhase && (row?.prepared ?? 0) === 0) return 'two-phase decoding needs max_prepared_transactions > 0 (the server has 0)';
  return undefined;
}

/** Runs a scenario on the server and returns the raw messages; drops everything it created. */
export async function capture(sql: postgres.Sql, scenario: Scenario, uniqueName: (prefix: string) => string): Promise<Capture> {
  const names: Names = { pub: uniqueName('pub'), slot: uniqueName('slot') };
  for (const object of scenario.objects) names[object] = uniqueName(object);
  const [{ version } = { version: 0 }] = await sql<{ version: number }[]>`select current_setting('server_version_num')::int as version`;
  await scenario.setup(sql, names);
  try {
    // The two_phase argument exists from PostgreSQL 14 on.
    if (scenario.twoPhase) await sql`select pg_create_logical_replication_slot(${names.slot!}, 'pgoutput', false, true)`;
    else await sql`select pg_create_logical_replication_slot(${names.slot!}, 'pgoutput')`;
    try {
      await scenario.workload(sql, names);
      const args: string[] = ['proto_version', String(scenario.protoVersion), 'publication_names', names.pub!];
      for (const [key, value] of Object.entries(scenario.options)) args.push(key, value);
      const rows = await sql.begin(async (tx) => {
        if (scenario.workMem) await tx.unsafe(`set local logical_decoding_work_mem = '${scenario.workMem}'`);
        return tx.unsafe<{ lsn: string; xid: string; data: Buffer }[]>(
          `select lsn::text as lsn, xid::text as xid, data from pg_logical_slot_peek_binary_changes($1, null, null, ${args.map((_, i) => `$${i + 2}`).join(', ')})`,
          [names.slot!, ...args],
        );
      });
      const frames = rows.map((row) => ({ lsn: parseLsn(row.lsn), xid: Number(row.xid), data: new Uint8Array(row.data) }));
      return { scenario: scenario.name, serverVersion: version, protoVersion: scenario.protoVersion, names, frames };
    } finally {
      await sql`select pg_drop_replication_slot(${names.slot!})`;
    }
  } finally {
    await scenario.teardown(sql, names);
  }
}

/** Decodes a capture in order, tracking Stream Start/Stop as a replication client must. */
export function decodeCapture(captured: Capture): DecodedFrame[] {
  let inStream = false;
  return captured.frames.map((frame) => {
    const message = decodePgoutput(frame.data, { protoVersion: captured.protoVersion, inStream });
    if (message.tag === 'stream-start') inStream = true;
    else if (message.tag === 'stream-stop') inStream = false;
    return { ...frame, message };
  });
}

/** Fixture bytes: per frame Int64 LSN, Int32 xid, Int32 length, the message. */
export function encodeFrames(frames: Frame[]): Uint8Array {
  const size = frames.reduce((sum, f) => sum + 16 + f.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const frame of frames) {
    view.setBigUint64(at, frame.lsn);
    view.setUint32(at + 8, frame.xid);
    view.setUint32(at + 12, frame.data.length);
    out.set(frame.data, at + 16);
    at += 16 + frame.data.length;
  }
  return out;
}

/** Reads what encodeFrames wrote. */
export function decodeFrames(bytes: Uint8Array): Frame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Frame[] = [];
  for (let at = 0; at < bytes.length;) {
    const length = view.getUint32(at + 12);
    frames.push({ lsn: view.getBigUint64(at), xid: view.getUint32(at + 8), data: bytes.slice(at + 16, at + 16 + length) });
    at += 16 + length;
  }
  return frames;
}
