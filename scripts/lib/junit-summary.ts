/**
 * Counts a `bun test` JUnit report for scripts/test's final line.
 *
 *   bun scripts/lib/junit-summary.ts FILE...   prints "PASSED FAILED SKIPPED" (three integers),
 *                                              summed over the reports (one per PostgreSQL version)
 *   bun scripts/lib/junit-summary.ts --skipped FILE...
 *                                              prints "skipped: FILE: NAME" per distinct skipped test
 *                                              (its name says why), with the PostgreSQL versions it
 *                                              was skipped on
 *
 * A testcase failed when it holds a <failure> or <error>, was skipped when it holds <skipped>
 * (bun writes test.skip and test.todo that way), and passed otherwise. Skipped tests are not
 * passed. Errors outside any test (a file that fails to load) are not in the report at all;
 * scripts/test catches those through bun's exit code.
 */

/** Test counts of one JUnit report. */
export interface JUnitCounts {
  passed: number
  failed: number
  skipped: number
}

// <testcase attrs/> or <testcase attrs>body</testcase>; attribute values are quoted and may hold '>'.
const TESTCASE = /<testcase\b(?:[^>"']|"[^"]*"|'[^']*')*?(?:\/>|>([\s\S]*?)<\/testcase>)/g

/** Counts passed, failed and skipped testcases in JUnit XML. */
export function summarizeJUnit(xml: string): JUnitCounts {
  const counts: JUnitCounts = { passed: 0, failed: 0, skipped: 0 }
  for (const match of xml.matchAll(TESTCASE)) {
    const body = match[1] ?? ''
    if (/<(failure|error)\b/.test(body)) counts.failed += 1
    else if (/<skipped\b/.test(body)) counts.skipped += 1
    else counts.passed += 1
  }
  return counts
}

/** The skipped testcases in JUnit XML as `file: name` (XML entities decoded). */
export function skippedNames(xml: string): string[] {
  const names: string[] = []
  for (const match of xml.matchAll(TESTCASE)) {
    if (!/<skipped\b/.test(match[1] ?? '')) continue
    const name = /\sname="([^"]*)"/.exec(match[0])?.[1]
    const file = /\sfile="([^"]*)"/.exec(match[0])?.[1]
    if (name !== undefined) names.push(decodeEntities(file === undefined ? name : `${file}: ${name}`))
  }
  return names
}

/**
 * One line per distinct skipped test: a test skipped on several PostgreSQL versions (its name ends
 * `; the server is PostgreSQL N]`, test/helpers/pg.ts skipTest) once, with the versions.
 */
export function skippedLines(names: readonly string[]): string[] {
  const versions = new Map<string, string[]>()
  for (const name of names) {
    const match = /; the server is PostgreSQL (\d+)\]$/.exec(name)
    const key = match ? `${name.slice(0, match.index)}]` : name
    const list = versions.get(key) ?? []
    if (match) list.push(match[1]!)
    versions.set(key, list)
  }
  return [...versions].map(([name, on]) => `skipped: ${name}${on.length > 0 ? ` (on PostgreSQL ${on.sort((a, b) => Number(a) - Number(b)).join(', ')})` : ''}`)
}

function decodeEntities(text: string): string {
  return text.replace(/&(quot|apos|lt|gt|amp|#\d+);/g, (_, entity: string) =>
    entity === 'quot' ? '"' : entity === 'apos' ? "'" : entity === 'lt' ? '<' : entity === 'gt' ? '>' : entity === 'amp' ? '&' : String.fromCharCode(Number(entity.slice(1))))
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  const listSkipped = args[0] === '--skipped'
  const files = listSkipped ? args.slice(1) : args
  if (files.length === 0) {
    console.error('usage: bun scripts/lib/junit-summary.ts [--skipped] JUNIT_XML...')
    process.exit(2)
  }
  if (listSkipped) {
    const names: string[] = []
    for (const file of files) names.push(...skippedNames(await Bun.file(file).text()))
    for (const line of skippedLines(names)) console.log(line)
    process.exit(0)
  }
  const total: JUnitCounts = { passed: 0, failed: 0, skipped: 0 }
  for (const file of files) {
    const counts = summarizeJUnit(await Bun.file(file).text())
    total.passed += counts.passed
    total.failed += counts.failed
    total.skipped += counts.skipped
  }
  console.log(`${total.passed} ${total.failed} ${total.skipped}`)
}
