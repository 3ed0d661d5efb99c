import { expect, test } from 'bun:test';
import { copyBytes, utf8Bytes } from '../../../src/core/bytes.ts';
import { LineWriter } from '../../../src/core/line-writer.ts';

const text = new TextDecoder();

test('lines written across chunk moves stay intact, each a view of what was written', () => {
  const w = new LineWriter(16);
  const lines: Uint8Array[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 500; i++) {
    const word = 'é'.repeat(i % 7) + 'x'.repeat(i % 40);
    w.ensure(20);
    w.bytes(utf8Bytes('#'));
    w.digits(i * 1_000_003);
    w.byte(0x3a);
    w.utf8(word);
    const source = utf8Bytes(`<${'y'.repeat(i % 60)}>`);
    w.ensure(source.length);
    w.copy(source, 0, source.length);
    lines.push(w.finish());
    expected.push(`#${i * 1_000_003}:${word}<${'y'.repeat(i % 60)}>`);
  }
  expect(lines.map((line) => text.decode(line))).toEqual(expected);
});

test('offset counts from the start of the line; setting `at` back drops what was written since', () => {
  const w = new LineWriter(8);
  w.ensure(3);
  w.bytes(utf8Bytes('abc'));
  const mark = w.offset;
  w.ensure(20);
  w.bytes(utf8Bytes('dropped-part'));
  w.at = w.at - w.offset + mark;
  w.ensure(1);
  w.byte(0x21);
  expect(text.decode(w.finish())).toBe('abc!');
  expect(w.offset).toBe(0);
});

test('digits writes every decimal digit of safe integers', () => {
  for (const n of [0, 7, 10, 99, 100, 123456789, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const w = new LineWriter(4);
    w.ensure(16);
    w.digits(n);
    expect(text.decode(w.finish())).toBe(String(n));
  }
});

test('copyBytes copies short and long runs alike', () => {
  const src = Uint8Array.from({ length: 100 }, (_, i) => i);
  for (const [start, end] of [[0, 0], [3, 10], [5, 29], [0, 100]]) {
    const target = new Uint8Array(120).fill(255);
    copyBytes(target, 7, src, start!, end!);
    expect(Array.from(target.subarray(7, 7 + end! - start!))).toEqual(Array.from(src.subarray(start, end)));
    expect(target[6]).toBe(255);
    expect(target[7 + end! - start!]).toBe(255);
  }
});
