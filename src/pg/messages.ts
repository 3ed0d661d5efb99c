/**
 * Pure codecs of the backend messages the client understands
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html). Frontend encoders are in
 * frontend.ts. Each decoder takes the payload (after the type byte and length) and reads it with the
 * bounds-checked Reader, so a short or malformed message throws ProtocolError.
 */
import type { PgErrorFields } from './errors.ts';
import { ProtocolError } from './errors.ts';
import { Reader } from './reader.ts';

/** Backend message type bytes, named as in the protocol documentation. */
export const Backend = {
  Authentication: 0x52, // 'R'
  BackendKeyData: 0x4b, // 'K'
  BindComplete: 0x32, // '2'
  CloseComplete: 0x33, // '3'
  CommandComplete: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyInResponse: 0x47, // 'G'
  CopyOutResponse: 0x48, // 'H'
  CopyBothResponse: 0x57, // 'W'
  DataRow: 0x44, // 'D'
  EmptyQueryResponse: 0x49, // 'I'
  ErrorResponse: 0x45, // 'E'
  NegotiateProtocolVersion: 0x76, // 'v'
  NoData: 0x6e, // 'n'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  ParameterDescription: 0x74, // 't'
  ParameterStatus: 0x53, // 'S'
  ParseComplete: 0x31, // '1'
  PortalSuspended: 0x73, // 's'
  ReadyForQuery: 0x5a, // 'Z'
  RowDescription: 0x54, // 'T'
} as const;

/**
 * Authentication request, by its Int32 code: 0 ok, 3 cleartext, 5 md5 (with a 4-byte salt),
 * 10 SASL (mechanism list), 11 SASLContinue, 12 SASLFinal; others (Kerberos, GSS, SSPI) unsupported.
 */
export type AuthenticationRequest =
  | { kind: 'ok' }
  | { kind: 'cleartext' }
  | { kind: 'md5'; salt: Uint8Array }
  | { kind: 'sasl'; mechanisms: string[] }
  | { kind: 'sasl-continue'; data: string }
  | { kind: 'sasl-final'; data: string }
  | { kind: 'unsupported'; code: number; name: string };

const UNSUPPORTED_AUTH: Record<number, string> = { 2: 'Kerberos V5', 6: 'SCM credentials', 7: 'GSSAPI', 8: 'GSSAPI', 9: 'SSPI' };

/** AuthenticationXXX ('R'): Int32 code, then code-specific data. */
export function decodeAuthentication(payload: Uint8Array): AuthenticationRequest {
  const r = new Reader(payload);
  const code = r.i32();
  switch (code) {
    case 0:
      return { kind: 'ok' };
    case 3:
      return { kind: 'cleartext' };
    case 5:
      return { kind: 'md5', salt: r.bytes(4) };
    case 10: {
      // String list terminated by an empty string.
      const mechanisms: string[] = [];
      for (let name = r.cstring(); name !== ''; name = r.cstring()) mechanisms.push(name);
      return { kind: 'sasl', mechanisms };
    }
    case 11:
      return { kind: 'sasl-continue', data: r.string(r.remaining) };
    case 12:
      return { kind: 'sasl-final', data: r.string(r.remaining) };
    default:
      return { kind: 'unsupported', code, name: UNSUPPORTED_AUTH[code] ?? `authentication request ${code}` };
  }
}

/** Field type bytes of ErrorResponse/NoticeResponse (protocol-error-fields.html). */
const ERROR_FIELDS: Record<number, keyof PgErrorFields> = {
  0x53: 'severity', // S
  0x56: 'severityCode', // V
  0x43: 'code', // C
  0x4d: 'message', // M
  0x44: 'detail', // D
  0x48: 'hint', // H
  0x50: 'position', // P
  0x70: 'internalPosition', // p
  0x71: 'internalQuery', // q
  0x57: 'where', // W
  0x73: 'schema', // s
  0x74: 'table', // t
  0x63: 'column', // c
  0x64: 'dataType', // d
  0x6e: 'constraint', // n
  0x46: 'file', // F
  0x4c: 'line', // L
  0x52: 'routine', // R
};
const NUMERIC_FIELDS = new Set<keyof PgErrorFields>(['position', 'internalPosition', 'line']);

/**
 * ErrorResponse ('E') and NoticeResponse ('N'): repeated `Byte1(field type) String(value)`, ended by
 * a zero byte. Unknown field types are skipped, as the documentation asks of clients.
 */
export function decodeErrorFields(payload: Uint8Array): PgErrorFields {
  const r = new Reader(payload);
  const fields: Record<string, string | number> = {};
  for (let field = r.u8(); field !== 0; field = r.u8()) {
    const value = r.cstring();
    const name = ERROR_FIELDS[field];
    if (name === undefined) continue;
    fields[name] = NUMERIC_FIELDS.has(name) ? Number(value) : value;
  }
  const severity = typeof fields.severity === 'string' ? fields.severity : 'ERROR';
  return {
    ...fields,
    severity,
    severityCode: typeof fields.severityCode === 'string' ? fields.severityCode : severity,
    code: typeof fields.code === 'string' ? fields.code : 'XX000',
    message: typeof fields.message === 'string' ? fields.message : '(no message)',
  } as PgErrorFields;
}

/** ParameterStatus ('S'): `String(name) String(value)`. */
export function decodeParameterStatus(payload: Uint8Array): { name: string; value: string } {
  const r = new Reader(payload);
  return { name: r.cstring(), value: r.cstring() };
}

/** BackendKeyData ('K'): Int32 process id, then the cancel key (4 bytes; variable since protocol 3.2). */
export function decodeBackendKeyData(payload: Uint8Array): { processId: number; secretKey: Uint8Array } {
  const r = new Reader(payload);
  return { processId: r.i32(), secretKey: r.rest().slice() };
}

/** ReadyForQuery ('Z'): Byte1 transaction status, 'I' idle, 'T' in a transaction, 'E' failed transaction. */
export function decodeReadyForQuery(payload: Uint8Array): 'I' | 'T' | 'E' {
  const status = String.fromCharCode(new Reader(payload).u8());
  if (status !== 'I' && status !== 'T' && status !== 'E') throw new ProtocolError(`unknown transaction status '${status}'`, 0);
  return status;
}

/** One column of a RowDescription. */
export interface FieldDescription {
  name: string;
  tableOid: number;
  columnNumber: number;
  typeOid: number;
  typeSize: number;
  typeModifier: number;
  /** 0 text, 1 binary. */
  format: number;
}

/** RowDescription ('T'): Int16 count, then per field name, table oid, column, type oid, size, typmod, format. */
export function decodeRowDescription(payload: Uint8Array): FieldDescription[] {
  const r = new Reader(payload);
  const count = r.i16();
  const fields: FieldDescription[] = [];
  for (let i = 0; i < count; i++) {
    fields.push({
      name: r.cstring(),
      tableOid: r.u32(),
      columnNumber: r.i16(),
      typeOid: r.u32(),
      typeSize: r.i16(),
      typeModifier: r.i32(),
      format: r.i16(),
    });
  }
  return fields;
}

/** DataRow ('D'): Int16 count, then per column Int32 length (-1 = NULL) and the bytes; text format here. */
export function decodeDataRow(payload: Uint8Array): (string | null)[] {
  const r = new Reader(payload);
  const count = r.i16();
  if (count < 0) throw new ProtocolError(`DataRow with ${count} columns`, 0);
  const values: (string | null)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = r.i32();
    values[i] = length < 0 ? null : r.string(length);
  }
  return values;
}

/** CommandComplete ('C'): the command tag, e.g. `INSERT 0 1`, `SELECT 3`, `IDENTIFY_SYSTEM`. */
export function decodeCommandComplete(payload: Uint8Array): string {
  return new Reader(payload).cstring();
}

/** CopyInResponse/CopyOutResponse/CopyBothResponse ('G'/'H'/'W'): Int8 overall format, Int16 count, Int16 formats. */
export function decodeCopyResponse(payload: Uint8Array): { format: number; columnFormats: number[] } {
  const r = new Reader(payload);
  const format = r.u8();
  const count = r.i16();
  const columnFormats: number[] = [];
  for (let i = 0; i < count; i++) columnFormats.push(r.i16());
  return { format, columnFormats };
}

/** NotificationResponse ('A'): Int32 sender pid, String channel, String payload. */
export function decodeNotification(payload: Uint8Array): { processId: number; channel: string; payload: string } {
  const r = new Reader(payload);
  return { processId: r.i32(), channel: r.cstring(), payload: r.cstring() };
}

/** NegotiateProtocolVersion ('v'): Int32 newest minor version supported, Int32 count, option names. */
export function decodeNegotiateProtocolVersion(payload: Uint8Array): { minorVersion: number; unrecognized: string[] } {
  const r = new Reader(payload);
  const minorVersion = r.i32();
  const count = r.i32();
  const unrecognized: string[] = [];
  for (let i = 0; i < count; i++) unrecognized.push(r.cstring());
  return { minorVersion, unrecognized };
}
