/**
 * The crash test's identity check (test/helpers/crash/identity.ts): a redelivery equal but for its
 * Timestamp passes; another UUID, other JSON, a UUID shared by two changes, a UUID that is not the
 * derived one or a TxIndex out of range is reported. A checker that could not fail would prove nothing.
 */
import { describe, expect, test } from 'bun:test';
import { EventIdentity } from '../../../src/event/identity.ts';
import { IdentityCheck } from '../../helpers/crash/identity.ts';
import { parseLine } from '../../helpers/crash/output.ts';

const identity = EventIdentity.of('7301234567890123456', 'crash');
const LSN = 0x1a8e94f0n;

/** A file sink line of the crash table: transaction 1 (CommitLSN LSN) change `index`. */
function line(index: number, options: { timestamp?: string; uuid?: string; version?: number } = {}): string {
  const uuid = options.uuid ?? identity.stream(LSN, index);
  return `{"Host":"h","Database":"d","Table":"crash","Action":"insert","WALPosition":${Number(LSN) - 100 + index},` +
    `"Timestamp":"${options.timestamp ?? '2026-12-07T04:00:00.1+00:00'}","UUID":"${uuid}","Columns":{"id":${index + 1},"payload":"x","txn":1,"version":${options.version ?? 1}},` +
    `"Schema":"public","XID":700,"CommitLSN":${LSN},"CommitTime":"2026-12-07T03:59:59Z","TxIndex":${index},"Key":["id"]}`;
}

function check(lines: string[], withIdentity = true): { problems: string[]; redelivered: number } {
  const problems: string[] = [];
  const ids = new IdentityCheck([0, 3], withIdentity ? identity : undefined, (text) => problems.push(text));
  lines.forEach((text, segment) => ids.see(parseLine(text, segment)!, text));
  return { problems, redelivered: ids.redelivered };
}

describe('crash identity check', () => {
  test('a redelivery that differs only in Timestamp passes and is counted', () => {
    expect(check([line(0), line(1), line(0, { timestamp: '2026-12-07T04:00:09.9+00:00' }), line(2)])).toEqual({ problems: [], redelivered: 1 });
  });

  test('a redelivery with another UUID or other JSON is reported', () => {
    const otherUuid = check([line(0), line(0, { uuid: identity.stream(LSN, 2) })], false);
    expect(otherUuid.problems).toHaveLength(1);
    expect(otherUuid.problems[0]).toContain('delivered again with other JSON');
    expect(check([line(0), line(0, { version: 2 })]).problems[0]).toContain('delivered again with other JSON');
  });

  test('two changes with one UUID, a UUID not derived as documented, a TxIndex out of range', () => {
    const shared = check([line(0), line(1, { uuid: identity.stream(LSN, 0) })], false);
    expect(shared.problems).toEqual([expect.stringContaining('was already another change')]);
    const random = check([line(0, { uuid: crypto.randomUUID() })]);
    expect(random.problems).toEqual([expect.stringContaining('as docs/kafka.md derives it')]);
    expect(check([line(3)]).problems).toEqual([expect.stringContaining('TxIndex outside 0..2')]);
    expect(check([line(0).replace(',"TxIndex":0', '')]).problems).toEqual([expect.stringContaining('TxIndex outside')]);
  });
});
