import { describe, expect, test } from 'bun:test';
import { ProtocolError } from '../../../src/pg/errors.ts';
import { splitFrames } from '../../../src/pg/frames.ts';
import {
  encodeCopyData, encodeCopyDone, encodeCopyFail, encodePassword, encodeQuery, encodeSASLInitialResponse, encodeSASLResponse,
  encodeSSLRequest, encodeStartup, encodeTerminate,
} from '../../../src/pg/frontend.ts';
import {
  decodeAuthentication, decodeBackendKeyData, decodeCommandComplete, decodeCopyResponse, decodeDataRow, decodeErrorFields,
  decodeNegotiateProtocolVersion, decodeNotification, decodeParameterStatus, decodeReadyForQuery, decodeRowDescription,
} from '../../../src/pg/messages.ts';
import { Reader } from '../../../src/pg/reader.ts';
import * as m from '../../helpers/pg-backend-messages.ts';

/** The payload of a single whole message. */
function payload(bytes: Uint8Array): Uint8Array {
  const { frames, leftover } = splitFrames([bytes]);
  expect(frames.length).toBe(1);
  expect(leftover).toBe(0);
  return frames[0]!.payload;
}

describe('backend decoders', () => {
  test('Authentication requests', () => {
    expect(decodeAuthentication(payload(m.authenticationOk()))).toEqual({ kind: 'ok' });
    expect(decodeAuthentication(payload(m.authenticationCleartext()))).toEqual({ kind: 'cleartext' });
    const md5 = decodeAuthentication(payload(m.authenticationMd5([1, 2, 3, 4])));
    expect(md5.kind === 'md5' && [...md5.salt]).toEqual([1, 2, 3, 4]);
    expect(decodeAuthentication(payload(m.authenticationSasl('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256')))).toEqual({
      kind: 'sasl',
      mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
    });
    expect(decodeAuthentication(payload(m.authenticationSaslContinue('r=abc,s=xyz,i=4096')))).toEqual({ kind: 'sasl-continue', data: 'r=abc,s=xyz,i=4096' });
    expect(decodeAuthentication(payload(m.authenticationSaslFinal('v=sig')))).toEqual({ kind: 'sasl-final', data: 'v=sig' });
    expect(decodeAuthentication(payload(m.message('R', (w) => w.i32(7))))).toEqual({ kind: 'unsupported', code: 7, name: 'GSSAPI' });
  });

  test('a truncated md5 request or SASL list is a ProtocolError', () => {
    expect(() => decodeAuthentication(payload(m.message('R', (w) => w.i32(5).u8(1))))).toThrow(ProtocolError);
    expect(() => decodeAuthentication(payload(m.message('R', (w) => w.i32(10).string('SCRAM'))))).toThrow(ProtocolError);
    expect(() => decodeAuthentication(new Uint8Array(2))).toThrow(ProtocolError);
  });

  test('ErrorResponse fields: every known letter, numbers parsed, unknown letters skipped', () => {
    const fields = decodeErrorFields(payload(m.errorFields('E', {
      S: 'ERROR', V: 'ERROR', C: '42P01', M: 'relation "nope" does not exist', D: 'detail', H: 'hint', P: '15', p: '3',
      q: 'internal', W: 'where', s: 'public', t: 'nope', c: 'col', d: 'int4', n: 'pk', F: 'parse_relation.c', L: '1392',
      R: 'parserOpenTable', Z: 'future field',
    })));
    expect(fields).toEqual({
      severity: 'ERROR', severityCode: 'ERROR', code: '42P01', message: 'relation "nope" does not exist', detail: 'detail',
      hint: 'hint', position: 15, internalPosition: 3, internalQuery: 'internal', where: 'where', schema: 'public', table: 'nope',
      column: 'col', dataType: 'int4', constraint: 'pk', file: 'parse_relation.c', line: 1392, routine: 'parserOpenTable',
    });
  });

  test('ErrorResponse without V, C or M still yields usable fields', () => {
    expect(decodeErrorFields(payload(m.errorFields('N', { S: 'AVISO' })))).toEqual({
      severity: 'AVISO', severityCode: 'AVISO', code: 'XX000', message: '(no message)',
    });
    expect(() => decodeErrorFields(payload(m.message('E', (w) => w.u8(0x4d).string('no terminator'))))).toThrow(ProtocolError);
  });

  test('ParameterStatus, BackendKeyData, ReadyForQuery, CommandComplete', () => {
    expect(decodeParameterStatus(payload(m.parameterStatus('server_version', '15.18')))).toEqual({ name: 'server_version', value: '15.18' });
    const key = decodeBackendKeyData(payload(m.backendKeyData(4242, 99)));
    expect(key.processId).toBe(4242);
    expect(key.secretKey.length).toBe(4);
    expect(decodeReadyForQuery(payload(m.readyForQuery('T')))).toBe('T');
    expect(() => decodeReadyForQuery(payload(m.readyForQuery('X')))).toThrow(ProtocolError);
    expect(decodeCommandComplete(payload(m.commandComplete('INSERT 0 1')))).toBe('INSERT 0 1');
  });

  test('RowDescription and DataRow (NULL, empty string, UTF-8)', () => {
    const fields = decodeRowDescription(payload(m.rowDescription(['id', 'name'], [23, 25])));
    expect(fields.map((f) => [f.name, f.typeOid, f.format])).toEqual([['id', 23, 0], ['name', 25, 0]]);
    expect(decodeDataRow(payload(m.dataRow(['1', null, '', 'żółw 🐢'])))).toEqual(['1', null, '', 'żółw 🐢']);
  });

  test('a DataRow whose column length overruns the message is a ProtocolError', () => {
    expect(() => decodeDataRow(payload(m.message('D', (w) => w.i16(1).i32(10).string('abc'))))).toThrow(ProtocolError);
    expect(() => decodeRowDescription(payload(m.message('T', (w) => w.i16(2).cstring('a'))))).toThrow(ProtocolError);
  });

  test('CopyBothResponse, NotificationResponse, NegotiateProtocolVersion', () => {
    expect(decodeCopyResponse(payload(m.copyOutResponse()))).toEqual({ format: 0, columnFormats: [0] });
    expect(decodeCopyResponse(payload(m.copyBothResponse()))).toEqual({ format: 0, columnFormats: [] });
    expect(decodeNotification(payload(m.notification(7, 'chan', 'hello')))).toEqual({ processId: 7, channel: 'chan', payload: 'hello' });
    expect(decodeNegotiateProtocolVersion(payload(m.message('v', (w) => w.i32(0).i32(1).cstring('_pq_.x'))))).toEqual({
      minorVersion: 0,
      unrecognized: ['_pq_.x'],
    });
  });
});

describe('frontend encoders', () => {
  const typed = (bytes: Uint8Array) => {
    const r = new Reader(bytes);
    const type = String.fromCharCode(r.u8());
    const length = r.i32();
    expect(length).toBe(bytes.length - 1);
    return { type, r };
  };

  test('StartupMessage: protocol 3.0 and NUL-terminated pairs ending in an empty name', () => {
    const bytes = encodeStartup({ user: 'u', database: 'd', replication: 'database' });
    const r = new Reader(bytes);
    expect(r.i32()).toBe(bytes.length);
    expect(r.i32()).toBe(196608);
    expect([r.cstring(), r.cstring(), r.cstring(), r.cstring(), r.cstring(), r.cstring()]).toEqual(['user', 'u', 'database', 'd', 'replication', 'database']);
    expect(r.u8()).toBe(0);
    r.end('startup');
  });

  test('SSLRequest is the 8 bytes 0,0,0,8,4,210,22,47', () => {
    expect([...encodeSSLRequest()]).toEqual([0, 0, 0, 8, 4, 210, 22, 47]);
  });

  test('Query, PasswordMessage, CopyFail carry one C string', () => {
    for (const [bytes, type, text] of [[encodeQuery('SELECT 1'), 'Q', 'SELECT 1'], [encodePassword('pw'), 'p', 'pw'], [encodeCopyFail('no'), 'f', 'no']] as const) {
      const { type: t, r } = typed(bytes);
      expect(t).toBe(type);
      expect(r.cstring()).toBe(text);
      r.end(type);
    }
    expect(() => encodeQuery('SELECT 1\0; DROP TABLE x')).toThrow(ProtocolError);
  });

  test('SASLInitialResponse and SASLResponse', () => {
    const data = new TextEncoder().encode('n,,n=,r=abc');
    const initial = typed(encodeSASLInitialResponse('SCRAM-SHA-256', data));
    expect(initial.type).toBe('p');
    expect(initial.r.cstring()).toBe('SCRAM-SHA-256');
    expect(initial.r.i32()).toBe(data.length);
    expect(initial.r.string(data.length)).toBe('n,,n=,r=abc');
    const next = typed(encodeSASLResponse(data));
    expect(next.r.string(next.r.remaining)).toBe('n,,n=,r=abc');
  });

  test('CopyData, CopyDone, Terminate', () => {
    const copy = typed(encodeCopyData(Uint8Array.of(0x72, 1, 2)));
    expect(copy.type).toBe('d');
    expect([...copy.r.rest()]).toEqual([0x72, 1, 2]);
    expect([...encodeCopyDone()]).toEqual([0x63, 0, 0, 0, 4]);
    expect([...encodeTerminate()]).toEqual([0x58, 0, 0, 0, 4]);
  });
});

describe('fuzz', () => {
  const decoders = [
    decodeAuthentication, decodeErrorFields, decodeParameterStatus, decodeBackendKeyData, decodeReadyForQuery, decodeRowDescription,
    decodeDataRow, decodeCommandComplete, decodeCopyResponse, decodeNotification, decodeNegotiateProtocolVersion,
  ];

  test('random payloads: every decoder returns or throws ProtocolError, nothing else', () => {
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let round = 0; round < 4000; round++) {
      const bytes = new Uint8Array(Math.floor(random() * 40));
      // Mostly small numbers and NULs, which make plausible counts and terminators.
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.5 ? Math.floor(random() * 4) : Math.floor(random() * 256);
      for (const decode of decoders) {
        try {
          decode(bytes);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw new Error(`${decode.name}(${[...bytes]}) threw ${String(err)}`);
        }
      }
    }
  });
});
