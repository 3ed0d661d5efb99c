import { describe, expect, test } from 'bun:test';
import { FrameWriter } from '../../../../src/sinks/nats/frames.ts';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('FrameWriter: HPUB frames as the NATS protocol defines them', () => {
  test('one frame: subject, reply, header and total sizes, Nats-Msg-Id, payload', () => {
    const w = new FrameWriter('_INBOX.abc.', undefined);
    w.add('cdc.users', 7, '0190c1a2-0000-8000-8000-000000000001', Buffer.from('{"a":1}'));
    const header = 'NATS/1.0\r\nNats-Msg-Id: 0190c1a2-0000-8000-8000-000000000001\r\n\r\n';
    expect(text(w.take())).toBe(`HPUB cdc.users _INBOX.abc.7 ${header.length} ${header.length + 7}\r\n${header}{"a":1}\r\n`);
    expect(w.size).toBe(0);
  });

  test('Nats-Expected-Stream with a stream; several frames; UTF-8 subjects and payloads counted in bytes', () => {
    const w = new FrameWriter('r.', 'CDC', 16); // a tiny chunk size: the buffer grows as needed
    w.add('cdc.ünïcode', 1, 'id-1', Buffer.from('é'));
    w.add('cdc.b', 2, 'id-2', new Uint8Array());
    const header1 = 'NATS/1.0\r\nNats-Msg-Id: id-1\r\nNats-Expected-Stream: CDC\r\n\r\n';
    const header2 = header1.replace('id-1', 'id-2');
    expect(text(w.take())).toBe(`HPUB cdc.ünïcode r.1 ${header1.length} ${header1.length + 2}\r\n${header1}é\r\nHPUB cdc.b r.2 ${header2.length} ${header2.length}\r\n${header2}\r\n`);
    expect(w.messageBytes('id-1', Buffer.from('é'))).toBe(header1.length + 2);
  });

  test('a taken chunk is not written over until reclaimed; reclaimed, its buffer takes the next frames', () => {
    const w = new FrameWriter('r.', undefined);
    w.add('a', 1, 'x', Buffer.from('one'));
    const first = w.take();
    const before = text(first);
    w.add('b', 2, 'y', Buffer.from('two'));
    expect(text(first)).toBe(before);
    const second = w.take();
    w.reclaim();
    w.add('c', 3, 'z', Buffer.from('six'));
    expect(text(second)).not.toContain('two'); // written over: the same buffer again
    expect(text(w.take())).toContain('six');
  });

  test('discard drops the frames not taken yet', () => {
    const w = new FrameWriter('r.', undefined);
    w.add('a', 1, 'x', Buffer.from('one'));
    w.discard();
    expect(w.size).toBe(0);
    w.add('b', 2, 'y', Buffer.from('two'));
    expect(text(w.take())).toStartWith('HPUB b r.2 ');
  });
});

describe('FrameWriter: numbers and ids written byte by byte', () => {
  test('publish numbers 0..large and a non-ASCII id come out as the protocol line and header say', () => {
    const w = new FrameWriter('r.', undefined);
    for (const n of [0, 9, 10, 99, 100, 123456789, 2 ** 40 + 7]) {
      w.add('s', n, 'ïd-ü', Buffer.from('p'));
      const header = 'NATS/1.0\r\nNats-Msg-Id: ïd-ü\r\n\r\n';
      const bytes = Buffer.byteLength(header);
      expect(text(w.take())).toBe(`HPUB s r.${n} ${bytes} ${bytes + 1}\r\n${header}p\r\n`);
    }
  });
});
