import { describe, expect, test } from 'bun:test';
import { decodePgoutput } from '../../../src/pgoutput/decode.ts';
import { TextSlicer, utf8Slice } from '../../../src/pgoutput/text.ts';
import { encodePgoutput, FrameWriter, randomSource } from '../../helpers/pgoutput-frames.ts';

const encoder = new TextEncoder();

function insertOf(values: string[]) {
  return decodePgoutput(encodePgoutput({ tag: 'insert', xid: undefined, relationId: 1, newTuple: values }), { protoVersion: 1 });
}

describe('text values', () => {
  test('ASCII, multi-byte, empty, long and mixed values come out exactly', () => {
    const values = ['', 'a', '12345', 'naïve café', '日本語', '😀 emoji', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(5000), '\u0000nul', 'é'.repeat(40)];
    expect(insertOf(values)).toMatchObject({ newTuple: values });
  });

  test('many short ASCII values spanning several Latin-1 windows', () => {
    const random = randomSource(Date.now());
    const values = Array.from({ length: 400 }, (_, i) => String(i).padStart(Math.floor(random() * 60), '0'));
    expect(insertOf(values)).toMatchObject({ newTuple: values });
  });

  test('random mixes of short and long, ASCII and not', () => {
    const random = randomSource(Date.now() + 1);
    const pieces = ['a', 'Z9', ' ', 'ä', '€', '𝄞', '\u007f', '-'];
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 20) }, () => {
        let s = '';
        const length = Math.floor(random() * (random() < 0.1 ? 300 : 40));
        for (let i = 0; i < length; i++) s += pieces[Math.floor(random() * (random() < 0.8 ? 3 : pieces.length))];
        return s;
      });
      expect(insertOf(values)).toMatchObject({ newTuple: values });
    }
  });

  test('invalid UTF-8 becomes U+FFFD, as a decoder would', () => {
    const bytes = new FrameWriter().char('I').i32(1).char('N').u16(2)
      .char('t').i32(3).raw(Uint8Array.of(0x61, 0xff, 0x62))
      .char('t').i32(2).raw(Uint8Array.of(0xc3, 0x28)).finish();
    expect(decodePgoutput(bytes, { protoVersion: 1 })).toMatchObject({ newTuple: ['a\ufffdb', '\ufffd('] });
  });

  test('TextSlicer and utf8Slice agree with TextDecoder on every slice of a mixed buffer', () => {
    const bytes = encoder.encode('ab€c 😀d' + 'e'.repeat(600) + 'fä');
    const slicer = new TextSlicer(bytes);
    const decoder = new TextDecoder();
    for (let start = 0; start < bytes.length; start += 7) {
      for (const length of [0, 1, 3, 10, 64, 65, 200]) {
        const end = Math.min(bytes.length, start + length);
        const expected = decoder.decode(bytes.subarray(start, end));
        expect(slicer.text(start, end)).toBe(expected);
        expect(utf8Slice(bytes, start, end)).toBe(expected);
      }
    }
  });
});
