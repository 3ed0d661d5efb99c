#!/usr/bin/env bun
/**
 * Records real pgoutput messages into test/fixtures/pgoutput/<scenario>.bin (+ .json), the golden
 * frames that test/unit/pgoutput/golden-frames.test.ts decodes without a server.
 *
 *   eval "$(scripts/pg start)"
 *   bun scripts/capture-pgoutput-frames.ts [scenario ...]
 *
 * The two-phase scenario needs max_prepared_transactions > 0, which the throwaway cluster does not
 * set; enable it on that cluster first:
 *   psql -c 'alter system set max_prepared_transactions = 10' && restart the server (pg_ctl restart)
 * Each capture is checked with the scenario's expectations before it is written.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { uniqueName } from '../test/helpers/pg.ts';
import { capture, decodeCapture, encodeFrames, supports } from '../test/helpers/pgoutput-capture.ts';
import { scenarios } from '../test/helpers/pgoutput-scenarios.ts';

const url = process.env.PSQL_STREAMER_PG_URL;
if (!url) {
  console.error('PSQL_STREAMER_PG_URL is not set: run eval "$(scripts/pg start)" first');
  process.exit(2);
}
const wanted = process.argv.slice(2);
const dir = join(import.meta.dir, '..', 'test', 'fixtures', 'pgoutput');
mkdirSync(dir, { recursive: true });
const sql = postgres(url, { max: 2, onnotice: () => {} });
let failed = false;
try {
  for (const scenario of scenarios.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
    const unsupported = await supports(sql, scenario);
    if (unsupported !== undefined) {
      console.error(`${scenario.name}: skipped: ${unsupported}`);
      failed = true;
      continue;
    }
    const captured = await capture(sql, scenario, uniqueName);
    scenario.check(decodeCapture(captured), captured.names, captured.serverVersion);
    const bytes = encodeFrames(captured.frames);
    writeFileSync(join(dir, `${scenario.name}.bin`), bytes);
    const meta = {
      scenario: scenario.name,
      serverVersion: captured.serverVersion,
      protoVersion: captured.protoVersion,
      options: scenario.options,
      names: captured.names,
      frames: captured.frames.length,
      format: 'per frame: Int64 LSN, Int32 xid, Int32 length, the pgoutput message (big-endian)',
    };
    writeFileSync(join(dir, `${scenario.name}.json`), JSON.stringify(meta, null, 2) + '\n');
    console.log(`${scenario.name}: ${captured.frames.length} frames, ${bytes.length} bytes`);
  }
} finally {
  await sql.end({ timeout: 5 });
}
process.exit(failed ? 1 : 0);
