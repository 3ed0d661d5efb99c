/**
 * Pure encoders of the frontend messages the client sends
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html). Each returns the complete
 * message bytes, ready for the socket.
 */
import { Writer } from './writer.ts';

/** Protocol 3.0: major 3 in the high 16 bits, minor 0 in the low 16 bits. */
export const PROTOCOL_VERSION_3_0 = 196608;
/** SSLRequest code: 1234 in the high 16 bits, 5679 in the low 16 bits. */
export const SSL_REQUEST_CODE = 80877103;

/** StartupMessage (no type byte): Int32 length, Int32 protocol version, name/value pairs, a final NUL. */
export function encodeStartup(params: Readonly<Record<string, string>>): Uint8Array {
  const w = new Writer(256).begin().i32(PROTOCOL_VERSION_3_0);
  for (const [name, value] of Object.entries(params)) w.cstring(name).cstring(value);
  return w.u8(0).end().finish();
}

/** SSLRequest (no type byte): Int32 8, Int32 80877103. The server answers one byte, 'S' or 'N'. */
export function encodeSSLRequest(): Uint8Array {
  return new Writer(8).begin().i32(SSL_REQUEST_CODE).end().finish();
}

/** Query ('Q'): String query. The simple query protocol; several statements may be separated by ';'. */
export function encodeQuery(sql: string): Uint8Array {
  return new Writer(sql.length + 16).begin('Q').cstring(sql).end().finish();
}

/** PasswordMessage ('p'): String password (cleartext, or the md5 hash text). */
export function encodePassword(password: string): Uint8Array {
  return new Writer(64).begin('p').cstring(password).end().finish();
}

/** SASLInitialResponse ('p'): String mechanism, Int32 length of the data (-1 none), Byte[n] data. */
export function encodeSASLInitialResponse(mechanism: string, data: Uint8Array): Uint8Array {
  return new Writer(64 + data.length).begin('p').cstring(mechanism).i32(data.length).bytes(data).end().finish();
}

/** SASLResponse ('p'): Byte[n] data (the rest of the message). */
export function encodeSASLResponse(data: Uint8Array): Uint8Array {
  return new Writer(16 + data.length).begin('p').bytes(data).end().finish();
}

/** CopyData ('d'): Byte[n] data, e.g. a StandbyStatusUpdate during replication. */
export function encodeCopyData(payload: Uint8Array): Uint8Array {
  return new Writer(5 + payload.length).begin('d').bytes(payload).end().finish();
}

/** CopyDone ('c'): no body. */
export function encodeCopyDone(): Uint8Array {
  return new Writer(5).begin('c').end().finish();
}

/** CopyFail ('f'): String error message; aborts a COPY FROM STDIN. */
export function encodeCopyFail(message: string): Uint8Array {
  return new Writer(64).begin('f').cstring(message).end().finish();
}

/** Terminate ('X'): no body; the server closes the connection. */
export function encodeTerminate(): Uint8Array {
  return new Writer(5).begin('X').end().finish();
}
