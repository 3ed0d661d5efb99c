import { describe, expect, test } from 'bun:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kind, Parser, type ParserEvent } from '@nats-io/nats-core/internal';
import { readAcksFirst } from '../../../../src/sinks/nats/ack-reader.ts';

const prefix = '_INBOX.abc.';
const ack = (n: number) => `MSG ${prefix}${n} 2  ${`{"stream":"S","seq":${n}}`.length}\r\n{"stream":"S","seq":${n}}\r\n`;

/** A connection whose protocol has the client's real parser, dispatching into `seen`. */
function connection(seen: string[]): { nc: NatsConnection; protocol: { parser: Parser } } {
  const dispatcher = {
    push(e: ParserEvent) {
      if (e.kind === Kind.MSG) {
        const subject = new TextDecoder().decode(e.msg!.subject);
        seen.push(subject.startsWith(prefix) ? `ack ${subject.slice(prefix.length)}` : `msg ${subject}`);
      } else seen.push(`kind ${e.kind}`);
    },
  };
  const protocol = { parser: new Parser(dispatcher as never) };
  return { nc: { protocol } as unknown as NatsConnection, protocol };
}

describe('readAcksFirst: acknowledgements before the client parser, everything else to it', () => {
  // Acknowledgements, a PING, a message with headers (no responders), another subject's message.
  const stream = ack(1) + ack(2) + 'PING\r\n' + ack(3) + `HMSG ${prefix}4 2  16 16\r\nNATS/1.0 503\r\n\r\n\r\n` + ack(5) + 'MSG other.x 7  2\r\n{}\r\n' + ack(6) + ack(7);
  const expected = ['ack 1', 'ack 2', `kind ${Kind.PING}`, 'ack 3', 'ack 4', 'ack 5', 'msg other.x', 'ack 6', 'ack 7'];

  test('the stream cut into two chunks at every byte, and into chunks of 1..7 bytes: every frame once, in order', () => {
    const bytes = Buffer.from(stream);
    const cuts: number[][] = [];
    for (let at = 0; at <= bytes.length; at++) cuts.push([at]);
    for (let size = 1; size <= 7; size++) cuts.push(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size));
    for (const points of cuts) {
      const seen: string[] = [];
      const { nc, protocol } = connection(seen);
      expect(readAcksFirst(nc, prefix, (n) => seen.push(`ack ${n}`))).toBe(true);
      const bounds = [0, ...points.filter((p) => p > 0), bytes.length];
      for (let i = 0; i < bounds.length - 1; i++) protocol.parser.parse(new Uint8Array(bytes.subarray(bounds[i], bounds[i + 1])));
      expect(seen).toEqual(expected);
    }
  });

  test('acknowledgements cut anywhere never reach the client parser: the cut one is held for the next chunk', () => {
    const bytes = Buffer.from(Array.from({ length: 20 }, (_, i) => ack(i + 1)).join(''));
    for (let size = 1; size <= 60; size++) {
      const seen: string[] = [];
      const { nc, protocol } = connection(seen);
      const fast: number[] = [];
      readAcksFirst(nc, prefix, (n) => fast.push(n));
      for (let at = 0; at < bytes.length; at += size) protocol.parser.parse(new Uint8Array(bytes.subarray(at, at + size)));
      expect(seen).toEqual([]);
      expect(fast).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
  });

  test('a parser the client makes at a reconnect is read the same way; what was held with the old one is dropped', () => {
    const seen: string[] = [];
    const { nc, protocol } = connection(seen);
    readAcksFirst(nc, prefix, (n, buf, start, end) => seen.push(`ack ${n} ${Buffer.from(buf.subarray(start, end)).toString()}`));
    protocol.parser.parse(Buffer.from(ack(1).slice(0, 10))); // cut off, then the connection is lost
    protocol.parser = new Parser({ push: () => seen.push('old dispatcher') } as never);
    protocol.parser.parse(Buffer.from(ack(2)));
    expect(seen).toEqual(['ack 2 {"stream":"S","seq":2}']);
  });

  test('a connection without the expected internals: false, nothing changed', () => {
    expect(readAcksFirst({} as NatsConnection, prefix, () => {})).toBe(false);
    const protocol = { parser: { parse() {} } };
    expect(readAcksFirst({ protocol } as unknown as NatsConnection, prefix, () => {})).toBe(false);
  });
});
