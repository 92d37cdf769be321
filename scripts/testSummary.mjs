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
// Name each failure here, at the very end of `make test`'s output, where a CI log's tail shows it.
const failures = []
for (const file of r.testResults ?? []) {
  const where = file.name.replace(process.cwd() + '/', '')
  const bad = (file.assertionResults ?? []).filter((t) => t.status === 'failed')
  if (file.status === 'failed' && bad.length === 0) failures.push(`${where}: ${firstLine(file.message)}`)
  for (const t of bad) failures.push(`${where} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`)
}
if (junit && existsSync(junit)) {
  for (const m of readFileSync(junit, 'utf8').matchAll(/<testcase\b([^>]*)>\s*<(failure|error)\b[^>]*message="([^"]*)"/g)) {
    const attr = (k) => m[1].match(new RegExp(`\\b${k}="([^"]*)"`))?.[1] ?? ''
    failures.push(`pytest ${attr('classname')}::${attr('name')}: ${firstLine(m[3])}`)
  }
}
if (failures.length > 0) {
  console.log('failed:')
  for (const f of failures.slice(0, 20)) console.log(`  ${f}`)
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)

function firstLine(text) {
  const line = String(text ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim() !== '') ?? '(no message)'
  return line.trim().slice(0, 300)
}
