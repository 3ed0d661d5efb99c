/**
 * Publication and per-table checks of a PostgreSQL source (pure: catalog facts in, results out):
 * the publications exist and what they publish, and for each published table whether its changes
 * decode completely (primary key, replica identity, TOAST-able columns, partitions, generated
 * columns). Each verdict and remedy is explained in docs/operations.md, "Readiness: check --live".
 */
import { fail, ok, warn, type CheckResult } from './result.ts';
import { sqlName, type PublicationFacts, type TableFacts } from './postgres-sql.ts';

/** How many table names a publication's line lists before "and N more". */
const LISTED_TABLES = 10;


const tableName = (t: TableFacts): string => `${sqlName(t.schema)}.${sqlName(t.name)}`;

/** Each configured name resolved as the source does: exact, else lower-cased (an unquoted identifier). */
export function resolvePublications(configured: readonly string[], found: readonly PublicationFacts[]): { name: string; facts: PublicationFacts | undefined }[] {
  const byName = new Map(found.map((p) => [p.name, p]));
  return configured.map((name) => ({ name, facts: byName.get(name) ?? byName.get(name.toLowerCase()) }));
}

/** One result per configured publication. */
export function checkPublications(configured: readonly string[], found: readonly PublicationFacts[], tables: readonly TableFacts[], database: string): CheckResult[] {
  return resolvePublications(configured, found).map(({ name, facts }) => {
    if (!facts) {
      return fail('publication', `does not exist in database ${database}`, `CREATE PUBLICATION ${sqlName(name)} FOR ALL TABLES; (or FOR TABLE a, b)`, name);
    }
    return checkPublication(facts, tables.filter((t) => t.publications.includes(facts.name)));
  });
}

function checkPublication(pub: PublicationFacts, tables: readonly TableFacts[]): CheckResult {
  const parts: string[] = [];
  if (pub.allTables) parts.push(`FOR ALL TABLES (${tables.length} now)`);
  else {
    const shown = tables.slice(0, LISTED_TABLES).map(tableName).join(', ');
    parts.push(`${tables.length} table(s)${tables.length > 0 ? `: ${shown}${tables.length > LISTED_TABLES ? `, and ${tables.length - LISTED_TABLES} more` : ''}` : ''}`);
  }
  const actions: [string, boolean | null][] = [['insert', pub.insert], ['update', pub.update], ['delete', pub.delete], ['truncate', pub.truncate]];
  const on = actions.filter(([, v]) => v === true).map(([a]) => a);
  const off = actions.filter(([, v]) => v === false).map(([a]) => a);
  parts.push(`publishes ${on.join(', ') || 'nothing'}`);
  if (pub.viaRoot !== null) parts.push(`publish_via_partition_root = ${pub.viaRoot}`);
  if (pub.generatedColumns !== null) parts.push(`publish_generated_columns = ${pub.generatedColumns ? 'stored' : 'none'}`);
  const reason = parts.join('; ');
  if (!pub.allTables && tables.length === 0) {
    return warn('publication', `${reason}: no change will be streamed`, `ALTER PUBLICATION ${sqlName(pub.name)} ADD TABLE schema.table;`, pub.name);
  }
  if (off.length > 0) {
    const all = actions.filter(([, v]) => v !== null).map(([a]) => a).join(', ');
    return warn('publication', `${reason}; ${off.join(', ')} not published: those changes are never seen`,
      `ALTER PUBLICATION ${sqlName(pub.name)} SET (publish = '${all}');`, pub.name);
  }
  return ok('publication', reason, pub.name);
}

interface Finding {
  verdict: 'WARN' | 'FAIL';
  reason: string;
  remedy: string;
}

/** One result per published table: OK with a description, or the worst finding with every reason and remedy. */
export function checkTables(tables: readonly TableFacts[], publications: readonly PublicationFacts[], versionNum: number, initialSnapshot = false): CheckResult[] {
  const byName = new Map(publications.map((p) => [p.name, p]));
  return tables.map((table) => {
    const pubs = table.publications.map((name) => byName.get(name)).filter((p): p is PublicationFacts => p !== undefined);
    const { notes, findings } = examineTable(table, pubs, versionNum, initialSnapshot);
    const subject = `${table.schema}.${table.name}`;
    if (findings.length === 0) return ok('table', notes.join('; '), subject);
    const worst = findings.some((f) => f.verdict === 'FAIL') ? fail : warn;
    return worst('table', [...findings.map((f) => f.reason), ...notes].join('; '), findings.map((f) => f.remedy).filter(Boolean).join(' '), subject);
  });
}

function examineTable(table: TableFacts, pubs: readonly PublicationFacts[], versionNum: number, initialSnapshot: boolean): { notes: string[]; findings: Finding[] } {
  const notes: string[] = [];
  const findings: Finding[] = [];
  const name = tableName(table);
  const updates = pubs.some((p) => p.update);
  const deletes = pubs.some((p) => p.delete);
  const hasKey = table.primaryKey.length > 0;
  notes.push(hasKey ? `primary key (${table.primaryKey.join(', ')})` : 'no primary key');
  notes.push(`replica identity ${table.identity}${table.identity === 'index' && table.identityIndex ? ` (${table.identityIndex})` : ''}`);

  // No replica identity: DEFAULT without a primary key, NOTHING, or USING INDEX of a dropped index.
  const noIdentity = table.identity === 'nothing' || (table.identity === 'default' && !hasKey) || (table.identity === 'index' && !table.identityIndex);
  if (noIdentity && (updates || deletes)) {
    const actions = [updates && 'UPDATE', deletes && 'DELETE'].filter(Boolean).join(' and ');
    findings.push({
      verdict: 'FAIL',
      reason: `no replica identity: ${actions} on this table fail on the primary ("cannot ${updates ? 'update' : 'delete from'} table ... because it does not have a replica identity")`,
      remedy: `ALTER TABLE ${name} ADD PRIMARY KEY (...); or ALTER TABLE ${name} REPLICA IDENTITY FULL;`,
    });
  } else if (!hasKey && table.identity === 'full' && (updates || deletes)) {
    findings.push({
      verdict: 'WARN',
      reason: 'no primary key: updates and deletes carry no Key, the whole old row identifies the row (Kafka keys use every column)',
      remedy: `ALTER TABLE ${name} ADD PRIMARY KEY (...);`,
    });
  }
  // Snapshots read a table in the order of its key (docs/snapshots.md "Which tables").
  if (initialSnapshot && !hasKey && !(table.identity === 'index' && table.identityIndex)) {
    findings.push({
      verdict: 'WARN',
      reason: 'no primary key or replica identity index: the initial snapshot cannot copy this table (it is marked failed; the other tables are copied)',
      remedy: `ALTER TABLE ${name} ADD PRIMARY KEY (...);`,
    });
  }
  if (table.toastable.length > 0 && table.identity !== 'full' && updates) {
    const fullSuggested = findings.some((f) => f.remedy.includes('REPLICA IDENTITY FULL'));
    findings.push({
      verdict: 'WARN',
      reason: `TOAST-able column(s) ${table.toastable.join(', ')}: an UPDATE that leaves a large value unchanged sends it as Unchanged, with no value in Columns or Old`,
      remedy: fullSuggested ? '' : `ALTER TABLE ${name} REPLICA IDENTITY FULL; (Old then carries every value; more WAL per update) or let consumers handle Unchanged.`,
    });
  }
  if (table.kind === 'p') notes.push('partitioned: its partitions\' changes are published under this name');
  if (table.partitionOf !== null) {
    const viaRoot = pubs.some((p) => p.viaRoot === true);
    if (!viaRoot) {
      const pub = pubs[0]?.name ?? 'publication';
      findings.push({
        verdict: 'WARN',
        reason: `partition of ${table.partitionOf}: events name ${table.schema}.${table.name}, not ${table.partitionOf} (sinks must map each partition)`,
        remedy: versionNum >= 130000
          ? `ALTER PUBLICATION ${sqlName(pub)} SET (publish_via_partition_root = true);`
          : 'map every partition in the sinks\' tableTopicMapping (PostgreSQL 13+ can publish via the partition root)',
      });
    }
  }
  if (table.generated.length > 0) {
    const columns = table.generated.join(', ');
    if (versionNum >= 180000) {
      if (!pubs.some((p) => p.generatedColumns === true)) {
        findings.push({
          verdict: 'WARN',
          reason: `generated column(s) ${columns} are not published: events lack them`,
          remedy: `ALTER PUBLICATION ${sqlName(pubs[0]?.name ?? 'publication')} SET (publish_generated_columns = stored);`,
        });
      } else notes.push(`generated column(s) ${columns} published`);
    } else {
      notes.push(`generated column(s) ${columns} are not in events (PostgreSQL 18+ can publish them)`);
    }
  }
  return { notes, findings };
}
