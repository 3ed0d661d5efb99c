/**
 * The Source contract (test/contract/source.contract.ts) against the PostgreSQL source on the real
 * server: each upstream is a table of its own with its publication and slot; each change is an
 * insert in a transaction of its own (or all in one, for bulk); sources share one state store.
 */
import { Logger } from '../../../src/core/logger.ts';
import { createMetrics } from '../../../src/metrics/catalogue.ts';
import type { Lsn } from '../../../src/replication/lsn.ts';
import { createPostgresSource } from '../../../src/sources/postgres/create.ts';
import { createMemoryStateStore } from '../../../src/state/memory-store.ts';
import { runSourceContract } from '../../contract/source.contract.ts';
import { uniqueName } from '../../helpers/pg.ts';
import { testSourceOptions, useSourceTests } from '../../helpers/postgres-source.ts';

const t = useSourceTests();

runSourceContract<Lsn>('postgres', async () => {
  const table = uniqueName('contract');
  await t.sql.unsafe(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
  const { slot, publication } = await t.prepare([table]);
  const name = uniqueName('src');
  const store = createMemoryStateStore();
  let next = 0;
  return {
    async open() {
      // readCoalesce 0: a read is what the socket had, so back-pressure shows within one read.
      const options = testSourceOptions(t.pg.server, name, { slot, publication, source: { readCoalesce: 0 } });
      return createPostgresSource(name, options, { log: Logger.for('Source-PSQL', name), store, metrics: createMetrics() });
    },
    async produce(count, options = {}) {
      const ids = Array.from({ length: count }, () => ++next);
      if (options.bulk) {
        await t.sql.unsafe(`INSERT INTO ${table} (id, note) SELECT g, 'row ' || g FROM generate_series(${ids[0]}, ${ids.at(-1)}) g`);
      } else {
        for (const id of ids) await t.sql.unsafe(`INSERT INTO ${table} (id, note) VALUES (${id}, 'row ${id}')`);
      }
      return ids.map(String);
    },
    keyOf: (event) => String(event.columns?.id),
    async cleanup() {
      await t.sql.unsafe(`DROP TABLE ${table}`);
    },
  };
});
