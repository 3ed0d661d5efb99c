/**
 * Writes the Debezium golden scenario's SQL (test/helpers/debezium-scenario.ts) for
 * scripts/debezium/generate-fixtures: `bun scenario-sql.ts DIR` creates DIR/setup.sql,
 * DIR/changes.json (a JSON array of statements) and DIR/tables.txt.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANGE_STATEMENTS, SETUP_SQL, TABLES } from '../../test/helpers/debezium-scenario.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: bun scripts/debezium/scenario-sql.ts DIR');
writeFileSync(join(dir, 'setup.sql'), SETUP_SQL + '\n');
writeFileSync(join(dir, 'changes.json'), JSON.stringify(CHANGE_STATEMENTS, null, 1) + '\n');
writeFileSync(join(dir, 'tables.txt'), TABLES.map((t) => `public.${t}`).join(',') + '\n');
