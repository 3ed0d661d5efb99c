/**
 * Golden test against the real server: each scenario's SQL runs on the throwaway PostgreSQL, the
 * raw pgoutput messages are read with pg_logical_slot_peek_binary_changes, decoded, folded through
 * the relation cache and row helper, and compared with what PostgreSQL must have sent.
 * The same scenarios, captured once into test/fixtures/pgoutput, are checked by a unit test.
 */
import { describe, expect, test } from 'bun:test';
import { serverMajor, skipTest, uniqueName, usePostgres } from '../../helpers/pg.ts';
import { encodePgoutput } from '../../helpers/pgoutput-frames.ts';
import { capture, decodeCapture, supports, unsupportedOn } from '../../helpers/pgoutput-capture.ts';
import { liveOnlyScenarios, scenarios } from '../../helpers/pgoutput-scenarios.ts';

describe('pgoutput frames from the real server', () => {
  const pg = usePostgres();

  for (const scenario of [...scenarios, ...liveOnlyScenarios]) {
    const name = `${scenario.name} (proto_version ${scenario.protoVersion}, ${JSON.stringify(scenario.options)})`;
    // Too old a server: a visible skip (its captured fixture is still checked by the unit test).
    const tooOld = unsupportedOn(serverMajor(), scenario);
    if (tooOld !== undefined) {
      skipTest(name, tooOld);
      continue;
    }
    test(name, async () => {
      const sql = pg.sql({ max: 2 });
      // The version was checked above; what is left (prepared transactions) scripts/pg provides.
      expect(await supports(sql, scenario)).toBeUndefined();
      const captured = await capture(sql, scenario, uniqueName);
      expect(captured.frames.length).toBeGreaterThan(0);
      const decoded = decodeCapture(captured);
      scenario.check(decoded, captured.names, captured.serverVersion);
      // Re-encoding from the documentation's layouts gives back the server's exact bytes.
      for (const { data, message } of decoded) expect(Buffer.from(encodePgoutput(message)).equals(Buffer.from(data))).toBe(true);
    });
  }
});
