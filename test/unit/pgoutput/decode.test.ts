import { describe, expect, test } from 'bun:test';
import { decodePgoutput, pgoutputMessageName } from '../../../src/pgoutput/decode.ts';
import { PgoutputDecodeError } from '../../../src/pgoutput/errors.ts';
import { UNCHANGED_TOAST, type PgoutputMessage, type PgoutputTag } from '../../../src/pgoutput/messages.ts';
import { encodePgoutput, FrameWriter, randomSource, sampleMessages } from '../../helpers/pgoutput-frames.ts';

const fromHex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const ascii = (text: string) => Buffer.from(text, 'utf8').toString('hex');

function decodeError(bytes: Uint8Array, protoVersion = 1, inStream = false): PgoutputDecodeError {
  try {
    decodePgoutput(bytes, { protoVersion, inStream });
  } catch (error) {
    if (error instanceof PgoutputDecodeError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('decodePgoutput: byte layouts from the documentation', () => {
  test('Begin', () => {
    const bytes = fromHex('42 00000016B374D848 0002C4E1A2B3C4D5 000002D2');
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'begin', finalLsn: 0x16_b374d848n, commitTime: 0x0002c4e1a2b3c4d5n, xid: 722,
    });
  });

  test('Commit', () => {
    const bytes = fromHex('43 00 00000016B374D848 00000016B374D878 FFFFFFFFFFFFFFFF');
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'commit', flags: 0, commitLsn: 0x16_b374d848n, endLsn: 0x16_b374d878n, commitTime: -1n,
    });
  });

  test('Relation with two columns, key flag and typmod', () => {
    const bytes = fromHex(
      '52 00004000' + ascii('public') + '00' + ascii('users') + '00' + '66 0002' +
        '01' + ascii('id') + '00 00000014 FFFFFFFF' +
        '00' + ascii('näme') + '00 00000413 00000044',
    );
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'relation', xid: undefined, relationId: 0x4000, namespace: 'public', name: 'users', replicaIdentity: 'f',
      columns: [
        { flags: 1, isKey: true, name: 'id', typeOid: 20, typeModifier: -1 },
        { flags: 0, isKey: false, name: 'näme', typeOid: 1043, typeModifier: 68 },
      ],
    });
  });

  test('Insert with every column kind', () => {
    const bytes = fromHex('49 00004000 4E 0004 6E 75 74 00000002 3432 62 00000003 00FF10');
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'insert', xid: undefined, relationId: 0x4000, newTuple: [null, UNCHANGED_TOAST, '42', Uint8Array.of(0, 0xff, 0x10)],
    });
  });

  test('Insert inside a stream starts with the xid (protocol 2)', () => {
    const bytes = fromHex('49 FFFFFFFE 00004000 4E 0001 74 00000001 37');
    expect(decodePgoutput(bytes, { protoVersion: 2, inStream: true })).toEqual({
      tag: 'insert', xid: 0xfffffffe, relationId: 0x4000, newTuple: ['7'],
    });
    // The same bytes outside a stream read the xid as the relation OID and then fail on the marker.
    expect(decodeError(bytes, 2, false).offset).toBe(5);
    // inStream means nothing in protocol 1, which has no streaming.
    expect(decodeError(bytes, 1, true).offset).toBe(5);
  });

  test('Update with old key, Delete with old row', () => {
    const update = fromHex('55 00000010 4B 0002 74 00000001 31 6E 4E 0002 74 00000001 32 75');
    expect(decodePgoutput(update, { protoVersion: 1 })).toEqual({
      tag: 'update', xid: undefined, relationId: 16, oldKind: 'key', oldTuple: ['1', null], newTuple: ['2', UNCHANGED_TOAST],
    });
    const del = fromHex('44 00000010 4F 0001 74 00000000');
    expect(decodePgoutput(del, { protoVersion: 1 })).toEqual({
      tag: 'delete', xid: undefined, relationId: 16, oldKind: 'old', oldTuple: [''],
    });
  });

  test('Truncate with CASCADE and RESTART IDENTITY', () => {
    const bytes = fromHex('54 00000002 03 00004001 FFFFFFFF');
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'truncate', xid: undefined, options: 3, cascade: true, restartIdentity: true, relationIds: [0x4001, 0xffffffff],
    });
  });

  test('Message: transactional flag, prefix, content', () => {
    const bytes = fromHex('4D 01 0000000000000100' + ascii('my/prefix') + '00 00000003 616263');
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toEqual({
      tag: 'message', xid: undefined, flags: 1, transactional: true, lsn: 0x100n, prefix: 'my/prefix', content: fromHex('616263'),
    });
  });

  test('Stream Abort: abort LSN and time only when present (protocol 4, streaming = parallel)', () => {
    const short = fromHex('41 00000005 00000006');
    expect(decodePgoutput(short, { protoVersion: 2 })).toEqual({ tag: 'stream-abort', xid: 5, subXid: 6, abortLsn: undefined, abortTime: undefined });
    expect(decodePgoutput(short, { protoVersion: 4 })).toEqual({ tag: 'stream-abort', xid: 5, subXid: 6, abortLsn: undefined, abortTime: undefined });
    const long = fromHex('41 00000005 00000006 0000000000000010 0000000000000020');
    expect(decodePgoutput(long, { protoVersion: 4 })).toEqual({ tag: 'stream-abort', xid: 5, subXid: 6, abortLsn: 16n, abortTime: 32n });
    // Protocol 2/3 never has them: extra bytes are ignored like any trailing extension.
    expect(decodePgoutput(long, { protoVersion: 3 })).toMatchObject({ abortLsn: undefined });
  });

  test('Rollback Prepared: two end LSNs and two timestamps before the xid', () => {
    const bytes = fromHex('72 00 0000000000000001 0000000000000002 0000000000000003 0000000000000004 00000009' + ascii('g1') + '00');
    expect(decodePgoutput(bytes, { protoVersion: 3 })).toEqual({
      tag: 'rollback-prepared', flags: 0, prepareEndLsn: 1n, rollbackEndLsn: 2n, prepareTime: 3n, rollbackTime: 4n, xid: 9, gid: 'g1',
    });
  });
});

describe('decodePgoutput: every message type round-trips through the frame builder', () => {
  const seed = Date.now();
  const samples = sampleMessages(randomSource(seed));

  test('covers every tag', () => {
    const tags = new Set(samples.map((s) => s.message.tag));
    const all: PgoutputTag[] = [
      'begin', 'commit', 'origin', 'relation', 'type', 'insert', 'update', 'delete', 'truncate', 'message', 'stream-start',
      'stream-stop', 'stream-commit', 'stream-abort', 'begin-prepare', 'prepare', 'commit-prepared', 'rollback-prepared', 'stream-prepare',
    ];
    expect([...tags].sort()).toEqual([...all].sort());
  });

  test.each(samples.map((s, i) => [`${i} ${s.message.tag} v${s.protoVersion}${s.inStream ? ' in stream' : ''} (seed ${seed})`, s] as const))(
    '%s',
    (_name, sample) => {
      const bytes = encodePgoutput(sample.message);
      expect(decodePgoutput(bytes, { protoVersion: sample.protoVersion, inStream: sample.inStream })).toEqual(sample.message);
      // Every later protocol version decodes it the same way.
      for (let v = sample.protoVersion + 1; v <= 4; v++) {
        const again = decodePgoutput(bytes, { protoVersion: v, inStream: sample.inStream });
        expect(again).toEqual(sample.message);
      }
    },
  );
});

describe('decodePgoutput: versions and unknown types', () => {
  const versionOf: Record<string, number> = { S: 2, E: 2, c: 2, A: 2, b: 3, P: 3, K: 3, r: 3, p: 3 };

  test.each(Object.entries(versionOf))("'%s' needs protocol %d: earlier versions report an unknown type", (letter, since) => {
    const bytes = new FrameWriter().char(letter).raw(new Uint8Array(64)).u8(0).finish();
    for (let v = 1; v < since; v++) {
      const error = decodeError(bytes, v);
      expect(error.unknownType).toBe(true);
      expect(error.messageType).toBe(letter);
      expect(error.message).toContain(`needs protocol version ${since}`);
    }
    expect(() => decodePgoutput(bytes, { protoVersion: since })).not.toThrow();
  });

  test('unknown type bytes are PgoutputDecodeError with unknownType', () => {
    const known = new Set('BCORYIUDTMSEcAbPKrp');
    for (let byte = 0; byte < 256; byte++) {
      const letter = String.fromCharCode(byte);
      if (known.has(letter)) {
        expect(pgoutputMessageName(letter)).toBeString();
        continue;
      }
      const error = decodeError(Uint8Array.of(byte, 0, 0, 0, 0), 4);
      expect(error.unknownType).toBe(true);
      expect(error.offset).toBe(0);
      expect(error.messageType).toBe(letter);
      expect(pgoutputMessageName(letter)).toBeUndefined();
    }
  });

  test('an empty message is a PgoutputDecodeError', () => {
    const error = decodeError(new Uint8Array(0));
    expect(error.messageType).toBe('');
    expect(error.unknownType).toBe(false);
  });
});

describe('decodePgoutput: malformed messages', () => {
  test.each([
    ['unknown tuple kind', '49 00000001 4E 0001 78', 8, /unknown kind 0x78/],
    ['negative value length', '49 00000001 4E 0001 74 FFFFFFFF', 9, /negative length/],
    ['value longer than the message', '49 00000001 4E 0001 74 00000005 4142', 13, /truncated column value/],
    ['Insert without N', '49 00000001 4B 0000', 5, /expected 'N'/],
    ['Update with a bad old marker', '55 00000001 58 0000', 5, /expected 'N'/],
    ['Delete without K or O', '44 00000001 4E 0000', 5, /expected 'K'/],
    ['column count beyond the message', '49 00000001 4E FFFF 6E', 8, /count 65535/],
    ['unknown replica identity', '52 00000001 00 00 78 0000', 7, /replica identity/],
    ['unterminated string', '4F 0000000000000001 616263', 9, /unterminated origin name/],
    ['negative truncate count', '54 FFFFFFFF 00', 6, /negative relation count/],
    ['huge truncate count', '54 7FFFFFFF 00 00000001', 6, /does not fit/],
    ['negative message length', '4D 00 0000000000000001 00 FFFFFFFF', 15, /negative length/],
  ])('%s', (_name, hexText, offset, message) => {
    const error = decodeError(fromHex(hexText));
    expect(error.offset).toBe(offset);
    expect(error.message).toMatch(message);
    expect(error.unknownType).toBe(false);
  });
});

describe('decodePgoutput: results own their data', () => {
  test('mutating the input after decoding changes nothing', () => {
    const message: PgoutputMessage = {
      tag: 'update', xid: undefined, relationId: 7, oldKind: 'old',
      oldTuple: ['old', Uint8Array.of(1, 2, 3)], newTuple: ['new ünï', Uint8Array.of(4, 5, 6)],
    };
    const bytes = encodePgoutput(message);
    const decoded = decodePgoutput(bytes, { protoVersion: 1 });
    bytes.fill(0x41);
    expect(decoded).toEqual(message);
    const logical = encodePgoutput({ tag: 'message', xid: undefined, flags: 0, transactional: false, lsn: 1n, prefix: 'p', content: Uint8Array.of(9) });
    const decodedMessage = decodePgoutput(logical, { protoVersion: 1 });
    logical.fill(0);
    expect(decodedMessage).toMatchObject({ content: Uint8Array.of(9), prefix: 'p' });
  });

  test('a message inside a larger buffer (subarray) decodes the same', () => {
    const inner = encodePgoutput({ tag: 'insert', xid: undefined, relationId: 3, newTuple: ['a', null, 'b'] });
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    expect(decodePgoutput(outer.subarray(5, 5 + inner.length), { protoVersion: 1 })).toMatchObject({ newTuple: ['a', null, 'b'] });
  });
});
