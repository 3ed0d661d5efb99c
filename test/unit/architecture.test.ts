/**
 * The dependency rule of docs/architecture.md, enforced: every import of every file under src/
 * (static, type-only, `export ... from`, dynamic `import()`, `require('…')`) may go to its own unit, a lower layer,
 * or a same-layer unit its row names; nothing else. The layer table is read from that page, so the
 * page is the one source of truth. A failure lists each offending import as
 * `file:line → target (rule)`.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { scanImports } from '../helpers/scan-imports.ts';

const ROOT = join(import.meta.dir, '../..');
const DOC = 'docs/architecture.md';

// ---------------------------------------------------------------------------------------------
// The layer table

interface Unit {
  name: string;
  layer: number;
  /** Same-layer units this one may import. */
  also: readonly string[];
}

/** The rows of the table under `## Layers`: `| 1 | \`pgtypes\` | \`event\` | ... |`. */
function parseLayerTable(markdown: string): Map<string, Unit> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Layers\n'));
  if (section === undefined) throw new Error(`${DOC}: no "## Layers" section`);
  const units = new Map<string, Unit>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^\d+$/.test(cells[1]!)) continue;
    const name = /^`([^`]+)`$/.exec(cells[2]!)?.[1];
    if (name === undefined) throw new Error(`${DOC}: expected a unit in backticks, found "${cells[2]}" in: ${line}`);
    if (units.has(name)) throw new Error(`${DOC}: unit ${name} is listed twice`);
    const also = [...cells[3]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    units.set(name, { name, layer: Number(cells[1]), also });
  }
  if (units.size === 0) throw new Error(`${DOC}: the Layers table has no rows`);
  return units;
}

/** The unit of a path under src/: the longest unit that is the file itself or one of its folders. */
function unitOf(path: string, units: ReadonlyMap<string, Unit>): Unit | undefined {
  let best: Unit | undefined;
  for (const unit of units.values()) {
    const matches = path === unit.name || path.startsWith(`${unit.name}/`);
    if (matches && (best === undefined || unit.name.length > best.name.length)) best = unit;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The rule

interface Violation {
  file: string;
  line: number;
  target: string;
  rule: string;
}

const formatViolation = (v: Violation) => `src/${v.file}:${v.line} → src/${v.target} (${v.rule})`;

/** Checks `files` (path under src/ → source text) against the table; paths outside src/ are not checked. */
function checkImports(files: ReadonlyMap<string, string>, units: ReadonlyMap<string, Unit>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, code] of files) {
    const from = unitOf(file, units);
    for (const imp of scanImports(code)) {
      if (imp.specifier === '') {
        violations.push({ file, line: imp.line, target: '?', rule: 'import() of a computed name: the rule cannot check it; import a literal path' });
        continue;
      }
      if (!imp.specifier.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), imp.specifier));
      if (target.startsWith('../')) continue;
      const to = unitOf(target, units);
      const report = (rule: string) => violations.push({ file, line: imp.line, target, rule });
      if (from === undefined) report(`src/${file} is in no unit of the ${DOC} table`);
      else if (to === undefined) report(`the target is in no unit of the ${DOC} table`);
      else if (from === to || to.layer < from.layer) continue;
      else if (to.layer > from.layer) report(`upward: ${from.name} (layer ${from.layer}) may not import ${to.name} (layer ${to.layer})`);
      else if (!from.also.includes(to.name)) report(`sideways: ${from.name} may not import its layer-${from.layer} sibling ${to.name}`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------
// The tree

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return walk(join(dir, entry.name), rel);
    return /\.(ts|tsx|js|mjs)$/.test(entry.name) ? [rel] : [];
  });
}

const table = parseLayerTable(readFileSync(join(ROOT, DOC), 'utf8'));
const sources = new Map(walk(join(ROOT, 'src')).map((file) => [file, readFileSync(join(ROOT, 'src', file), 'utf8')]));

describe('the dependency rule (docs/architecture.md)', () => {
  test('no import under src/ runs up the layers or across siblings', () => {
    expect(checkImports(sources, table).map(formatViolation)).toEqual([]);
  });

  test('no two units import each other', () => {
    const edges = new Set<string>();
    for (const [file, code] of sources) {
      for (const imp of scanImports(code)) {
        if (!imp.specifier.startsWith('.')) continue;
        const a = unitOf(file, table)?.name;
        const b = unitOf(posix.normalize(posix.join(posix.dirname(file), imp.specifier)), table)?.name;
        if (a && b && a !== b) edges.add(`${a} → ${b}`);
      }
    }
    const pairs = [...edges]
      .map((e) => e.split(' → ') as [string, string])
      .filter(([a, b]) => a < b && edges.has(`${b} → ${a}`))
      .map(([a, b]) => `${a} ↔ ${b}`);
    expect(pairs).toEqual([]);
  });

  test('the table matches the tree: every file has a unit, every unit has files', () => {
    expect([...sources.keys()].filter((f) => unitOf(f, table) === undefined)).toEqual([]);
    const used = new Set([...sources.keys()].map((f) => unitOf(f, table)!.name));
    expect([...table.keys()].filter((u) => !used.has(u))).toEqual([]);
  });

  test('the table is well formed: same-layer imports name units of the same layer, without cycles', () => {
    const problems: string[] = [];
    for (const unit of table.values()) {
      for (const name of unit.also) {
        const other = table.get(name);
        if (!other) problems.push(`${unit.name}: ${name} is not a unit`);
        else if (other.layer !== unit.layer) problems.push(`${unit.name}: ${name} is in layer ${other.layer}, not ${unit.layer}`);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) {
        problems.push(`cycle: ${[...path, name].join(' → ')}`);
        return;
      }
      visiting.add(name);
      for (const next of table.get(name)?.also ?? []) visit(next, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of table.keys()) visit(name, []);
    expect(problems).toEqual([]);
  });

  test('the import scanner finds at least every import Bun finds, in every file under src/', () => {
    const transpiler = new Bun.Transpiler({ loader: 'ts' });
    const missed: string[] = [];
    for (const [file, code] of sources) {
      const ours = new Set(scanImports(code).map((i) => i.specifier));
      for (const imp of transpiler.scanImports(code.replace(/^#!.*/, ''))) if (!ours.has(imp.path)) missed.push(`${file}: ${imp.path}`);
    }
    expect(missed).toEqual([]);
  });
});

describe('the checker bites', () => {
  const check = (files: Record<string, string>) => checkImports(new Map(Object.entries(files)), table).map(formatViolation);

  test('an upward import (core → sources) is reported', () => {
    expect(check({ 'core/bad.ts': "import type { Source } from '../sources/source.ts';\n" })).toEqual([
      'src/core/bad.ts:1 → src/sources/source.ts (upward: core (layer 0) may not import sources (layer 2))',
    ]);
  });

  test('config importing an implementation is reported', () => {
    expect(check({ 'config/parse.ts': "\n\nimport { postgresSourceType } from '../sources/postgres/spec.ts';" })).toEqual([
      'src/config/parse.ts:3 → src/sources/postgres/spec.ts (upward: config (layer 1) may not import sources/postgres (layer 3))',
    ]);
  });

  test('siblings: a sink importing another sink, a source importing a sink, the pipeline importing a source', () => {
    expect(check({
      'sinks/file/file.ts': "export { KafkaSink } from '../kafka/sink.ts';",
      'sources/postgres/row-bytes.ts': "const m = await import('../../sinks/kafka/key-bytes.ts');",
      'pipeline/pipeline.ts': "import type {\n  PostgresSource,\n} from '../sources/postgres/source.ts';",
    })).toEqual([
      'src/sinks/file/file.ts:1 → src/sinks/kafka/sink.ts (sideways: sinks/file may not import its layer-3 sibling sinks/kafka)',
      'src/sources/postgres/row-bytes.ts:1 → src/sinks/kafka/key-bytes.ts (sideways: sources/postgres may not import its layer-3 sibling sinks/kafka)',
      'src/pipeline/pipeline.ts:1 → src/sources/postgres/source.ts (sideways: pipeline may not import its layer-3 sibling sources/postgres)',
    ]);
  });

  test('a same-layer import the table does not name is reported, one it names is not', () => {
    expect(check({ 'pg/frames.ts': "import { parseLsn } from '../replication/lsn.ts';" })).toEqual([
      'src/pg/frames.ts:1 → src/replication/lsn.ts (sideways: pg may not import its layer-1 sibling replication)',
    ]);
    expect(check({ 'replication/lsn.ts': "import { PgError } from '../pg/errors.ts';" })).toEqual([]);
  });

  test('allowed: own unit, lower layers, a component its own interface, packages', () => {
    expect(check({
      'sources/kafka/source.ts': "import type { Source } from '../source.ts';\nimport { x } from './offsets.ts';\nimport { Admin } from '@platformatic/kafka';",
      'app.ts': "import { Pipeline } from './pipeline/pipeline.ts';",
    })).toEqual([]);
  });

  test('a dynamic import of a computed name is reported', () => {
    expect(check({ 'app.ts': 'const m = await import(`./sinks/${type}/spec.ts`);' })).toEqual([
      'src/app.ts:1 → src/? (import() of a computed name: the rule cannot check it; import a literal path)',
    ]);
  });

  test('a file outside every unit is reported', () => {
    expect(check({ 'stray/file.ts': "import { log } from '../core/logger.ts';" })).toEqual([
      `src/stray/file.ts:1 → src/core/logger.ts (src/stray/file.ts is in no unit of the ${DOC} table)`,
    ]);
  });
});

describe('the import scanner', () => {
  const specifiers = (code: string) => scanImports(code).map((i) => `${i.kind} ${i.specifier} @${i.line}`);

  test('static, type-only, side-effect, namespace, default, re-exports, dynamic imports and literal requires', () => {
    const code = [
      "import type { A } from './a.ts';",
      "import { b, type B } from \"./b.ts\";",
      "import './c.ts';",
      "import * as d from './d.ts';",
      "import e, { f } from './e.ts';",
      "export { g } from './g.ts';",
      "export type { H } from './h.ts';",
      "export * as i from './i.ts';",
      "export * from './j.ts';",
      "const k = await import('./k.ts');",
      "import {",
      "  l,",
      "} from './l.ts';",
      "const m = require('./m.ts') as M;",
      "const n = require(pathOf('n'));",
      "const o = x.require('./o.ts');",
    ].join('\n');
    expect(specifiers(code)).toEqual([
      'static ./a.ts @1', 'static ./b.ts @2', 'static ./c.ts @3', 'static ./d.ts @4', 'static ./e.ts @5',
      'export-from ./g.ts @6', 'export-from ./h.ts @7', 'export-from ./i.ts @8', 'export-from ./j.ts @9',
      'dynamic ./k.ts @10', 'static ./l.ts @11', 'require ./m.ts @14',
    ]);
  });

  test('not imports: comments, strings, templates, regex literals, local exports, import.meta', () => {
    const code = [
      "// import { x } from './comment.ts';",
      "/* import './block.ts'; */",
      "const s = \"import { y } from './string.ts'\";",
      "const t = `import('./template.ts') ${'${'} ${ { a: 1 }.a }`;",
      "const r = /['\"]import/;",
      "export { s, t };",
      "export const u = 1;",
      "const v = import.meta.dir;",
      "const w = `${await import('./in-template.ts')}`;",
    ].join('\n');
    expect(specifiers(code)).toEqual(['dynamic ./in-template.ts @9']);
  });
});
