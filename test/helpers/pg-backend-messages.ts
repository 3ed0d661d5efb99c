/** Builders of backend messages for tests, written with the production Writer (STYLE practice 3). */
import { Writer } from '../../src/pg/writer.ts';

/** A whole backend message: type byte, length, body. */
export function message(type: string, body: (w: Writer) => void = () => {}): Uint8Array {
  const w = new Writer(64).begin(type);
  body(w);
  return w.end().finish().slice();
}

export const authenticationOk = () => message('R', (w) => w.i32(0));
export const authenticationCleartext = () => message('R', (w) => w.i32(3));
export const authenticationMd5 = (salt: number[]) => message('R', (w) => w.i32(5).bytes(Uint8Array.from(salt)));
export const authenticationSasl = (...mechanisms: string[]) =>
  message('R', (w) => {
    w.i32(10);
    for (const m of mechanisms) w.cstring(m);
    w.u8(0);
  });
export const authenticationSaslContinue = (data: string) => message('R', (w) => w.i32(11).string(data));
export const authenticationSaslFinal = (data: string) => message('R', (w) => w.i32(12).string(data));
export const parameterStatus = (name: string, value: string) => message('S', (w) => w.cstring(name).cstring(value));
export const backendKeyData = (pid: number, key = 1234) => message('K', (w) => w.i32(pid).i32(key));
export const readyForQuery = (status = 'I') => message('Z', (w) => w.u8(status.charCodeAt(0)));
export const emptyQueryResponse = () => message('I');
export const commandComplete = (tag: string) => message('C', (w) => w.cstring(tag));
export const copyBothResponse = () => message('W', (w) => w.u8(0).i16(0));
export const copyOutResponse = () => message('H', (w) => w.u8(0).i16(1).i16(0));
export const copyInResponse = () => message('G', (w) => w.u8(0).i16(1).i16(0));
export const copyData = (payload: Uint8Array) => message('d', (w) => w.bytes(payload));
export const copyDone = () => message('c');
export const notification = (pid: number, channel: string, payload: string) => message('A', (w) => w.i32(pid).cstring(channel).cstring(payload));

/** RowDescription with text columns of the given type OIDs (25 = text by default). */
export function rowDescription(names: string[], typeOids: number[] = names.map(() => 25)): Uint8Array {
  return message('T', (w) => {
    w.i16(names.length);
    names.forEach((name, i) => w.cstring(name).i32(0).i16(0).i32(typeOids[i]!).i16(-1).i32(-1).i16(0));
  });
}

/** DataRow of text values; null is SQL NULL. */
export function dataRow(values: (string | null)[]): Uint8Array {
  const utf8 = new TextEncoder();
  return message('D', (w) => {
    w.i16(values.length);
    for (const value of values) {
      if (value === null) w.i32(-1);
      else {
        const bytes = utf8.encode(value);
        w.i32(bytes.length).bytes(bytes);
      }
    }
  });
}

/** ErrorResponse ('E') or NoticeResponse ('N') from field letters, e.g. { S: 'ERROR', C: '42P01', M: '...' }. */
export function errorFields(type: 'E' | 'N', fields: Record<string, string>): Uint8Array {
  return message(type, (w) => {
    for (const [letter, value] of Object.entries(fields)) w.u8(letter.charCodeAt(0)).cstring(value);
    w.u8(0);
  });
}

/** Concatenates messages into one chunk. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
