// Prints the plain closing line CI reads ("tests: N passed, N failed, N skipped") from vitest's JSON report,
// plus pytest's JUnit XML report (the Python SDK's tests) when one is given.
import { existsSync, readFileSync } from 'node:fs'

const r = JSON.parse(readFileSync(process.argv[2] ?? '.vitest-results.json', 'utf8'))
let passed = r.numPassedTests
let failed = r.numFailedTests
let skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
const junit = process.argv[3]
if (junit) {
  if (!existsSync(junit)) failed += 1 // pytest did not run to the end: count it as a failure, never as a pass
  else {
    const suite = readFileSync(junit, 'utf8').match(/<testsuite\b[^>]*>/)?.[0] ?? ''
    const n = (k) => Number(suite.match(new RegExp(`\\b${k}="(\\d+)"`))?.[1] ?? 0)
    const bad = n('failures') + n('errors')
    passed += n('tests') - bad - n('skipped')
    failed += bad
    skipped += n('skipped')
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
