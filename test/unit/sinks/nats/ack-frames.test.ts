import { describe, expect, test } from 'bun:test';
import { scanAckFrames } from '../../../../src/sinks/nats/ack-frames.ts';

const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const prefix = bytes('_INBOX.abc.');

/** The acknowledgements scanAckFrames() reads from `text`, the bytes it consumed and whether the rest is a cut acknowledgement. */
function scan(text: string): { acks: Array<[number, string]>; used: number; partial: boolean } {
  const acks: Array<[number, string]> = [];
  const { consumed, partial } = scanAckFrames(bytes(text), prefix, (n, buf, start, end) => acks.push([n, Buffer.from(buf.subarray(start, end)).toString()]));
  return { acks, used: consumed, partial };
}

const ack = (n: number, payload: string, sid = 2) => `MSG _INBOX.abc.${n} ${sid}  ${payload.length}\r\n${payload}\r\n`;

describe('scanAckFrames: JetStream acknowledgements read from the received bytes', () => {
  test('consecutive acknowledgements as nats-server writes them (empty reply field: two spaces)', () => {
    const a = ack(7, '{"stream":"S", "seq":1}');
    const b = ack(123456, '{"stream":"S", "seq":2, "duplicate": true}', 14);
    expect(scan(a + b)).toEqual({ acks: [[7, '{"stream":"S", "seq":1}'], [123456, '{"stream":"S", "seq":2, "duplicate": true}']], used: (a + b).length, partial: false });
  });

  test('a single space before the size is read as well', () => {
    const a = 'MSG _INBOX.abc.3 2 2\r\n{}\r\n';
    expect(scan(a)).toEqual({ acks: [[3, '{}']], used: a.length, partial: false });
  });

  test('stops at the first frame that is not an acknowledgement, leaving it to the client', () => {
    const a = ack(1, '{"stream":"S","seq":1}');
    const others = [
      'PING\r\n',
      'MSG other.subject.1 2  2\r\n{}\r\n', // another subject
      'MSG _INBOX.abd.1 2  2\r\n{}\r\n', // another inbox
      'MSG _INBOX.abc.x 2  2\r\n{}\r\n', // not a publish number
      'MSG _INBOX.abc.1 2 reply.subject 2\r\n{}\r\n', // a reply subject
      'HMSG _INBOX.abc.1 2  28 28\r\nNATS/1.0 503\r\n\r\n\r\n', // headers (no responders)
      'MSG _INBOX.abc.1 2  2\r\n{}xx', // no CRLF after the payload
      'MSG _INBOX.abc.1 2  1234567890123456789\r\n{}\r\n', // an absurd size
      'MSG _INBOX.abc.1 2  2\rx', // CR without LF
    ];
    for (const other of others) expect(scan(a + other + a)).toEqual({ acks: [[1, '{"stream":"S","seq":1}']], used: a.length, partial: false });
    expect(scan('')).toEqual({ acks: [], used: 0, partial: false });
  });

  test('an acknowledgement cut off by the end of the chunk, at every byte, is reported partial', () => {
    const a = ack(1, '{"stream":"S","seq":1}');
    const b = ack(22, '{"stream":"S","seq":2}');
    for (let cut = 1; cut < b.length; cut++) expect(scan(a + b.slice(0, cut))).toEqual({ acks: [[1, '{"stream":"S","seq":1}']], used: a.length, partial: true });
    // Not partial once a byte shows it is something else.
    expect(scan(a + 'MSG _INBOX.abc.12 2 r')).toEqual({ acks: [[1, '{"stream":"S","seq":1}']], used: a.length, partial: false });
    expect(scan(a + 'MSX')).toEqual({ acks: [[1, '{"stream":"S","seq":1}']], used: a.length, partial: false });
  });

  test('every cut of a stream of acknowledgements: whole frames before the cut, nothing after', () => {
    const frames = [ack(1, '{"stream":"S","seq":1}'), ack(22, '{"stream":"S","seq":2}'), ack(333, '{"error":{"code":503}}')];
    const all = frames.join('');
    for (let cut = 0; cut <= all.length; cut++) {
      let whole = 0;
      let n = 0;
      for (const f of frames) if (whole + f.length <= cut) { whole += f.length; n++; }
      const { acks, used, partial } = scan(all.slice(0, cut));
      expect(used).toBe(whole);
      expect(acks.length).toBe(n);
      expect(partial).toBe(cut > whole);
    }
  });
});
