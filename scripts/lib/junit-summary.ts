/**
 * Counts a `bun test` JUnit report for scripts/test's final line.
 *
 *   bun scripts/lib/junit-summary.ts FILE...   prints "PASSED FAILED SKIPPED" (three integers),
 *                                              summed over the reports (one per PostgreSQL version)
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

if (import.meta.main) {
  const files = process.argv.slice(2)
  if (files.length === 0) {
    console.error('usage: bun scripts/lib/junit-summary.ts JUNIT_XML...')
    process.exit(2)
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
