/**
 * Golden frames: pgoutput messages captured from a real PostgreSQL 15 by
 * scripts/capture-pgoutput-frames.ts (protocol 1 with every row action, TRUNCATE, replica
 * identities, unchanged TOAST, ALTER TABLE, custom types, origins and messages; protocol 2 with
 * streamed, aborted and subtransaction-aborted transactions; protocol 3 with two-phase commit and
 * Stream Prepare), decoded without a server and checked against the same expectations as the
 * live test (test/integration/pgoutput/server-frames.test.ts).
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePgoutput } from '../../../src/pgoutput/decode.ts';
import { PgoutputDecodeError } from '../../../src/pgoutput/errors.ts';
import { encodePgoutput } from '../../helpers/pgoutput-frames.ts';
import { decodeCapture, decodeFrames, type Capture } from '../../helpers/pgoutput-capture.ts';
import { scenarios } from '../../helpers/pgoutput-scenarios.ts';

const dir = join(import.meta.dir, '..', '..', 'fixtures', 'pgoutput');

function load(name: string): Capture {
  const meta = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Capture & { frames: number };
  const frames = decodeFrames(new Uint8Array(readFileSync(join(dir, `${name}.bin`))));
  expect(frames.length).toBe(meta.frames);
  return { ...meta, frames };
}

describe('golden pgoutput frames captured from PostgreSQL', () => {
  test.each(scenarios.map((s) => [s.name, s] as const))('%s', (name, scenario) => {
    const captured = load(name);
    expect(captured.protoVersion).toBe(scenario.protoVersion);
    scenario.check(decodeCapture(captured), captured.names, captured.serverVersion);
  });

  test('re-encoding every decoded frame gives back the exact bytes (no field skipped or misread)', () => {
    for (const scenario of scenarios) {
      for (const { data, message } of decodeCapture(load(scenario.name))) {
        expect(Buffer.from(encodePgoutput(message)).toString('hex')).toBe(Buffer.from(data).toString('hex'));
      }
    }
  });

  test('every prefix of a real frame fails with PgoutputDecodeError', () => {
    for (const scenario of scenarios) {
      for (const frame of decodeCapture(load(scenario.name)).slice(0, 80)) {
        const inStream = 'xid' in frame.message && frame.message.xid !== undefined && frame.message.tag !== 'stream-start';
        for (let length = 0; length < frame.data.length; length++) {
          const prefix = frame.data.subarray(0, length);
          expect(() => decodePgoutput(prefix, { protoVersion: scenario.protoVersion, inStream })).toThrow(PgoutputDecodeError);
        }
      }
    }
  });
});
