/**
 * Section 7 of `make bench` alone (the agent SDK against the raw viem signature, interleaved pairs in one agent
 * process; then the Python SDK against eth_account's local signature in one Python agent process): prints the rows,
 * goals and notes that `make bench` prints for it.
 *   npx tsx scripts/bench/sdkSection.ts [pairs=5] [ts|py|both=both]
 * The Python part needs the project's .venv (`make install-python`).
 */
import { benchPySdk } from './benchPySdk.js'
import { benchSdk } from './benchSdk.js'
import { formatPyProfile, summarizePySdk } from './summarizePySdk.js'
import { summarizeSdk } from './summarizeSdk.js'

const pairs = Number(process.argv[2] ?? 5)
const which = process.argv[3] ?? 'both'
const parts = []
if (which !== 'py') parts.push(summarizeSdk(await benchSdk({ pairs, log: (s) => console.log(s) })))
let pyProfile = ''
if (which !== 'ts') {
  const py = await benchPySdk({ pairs, profileMs: 3000, log: (s) => console.log(s) })
  parts.push(summarizePySdk(py))
  pyProfile = formatPyProfile(py)
}
for (const sdk of parts) {
  for (const r of sdk.rows) console.log(`  ${r.join(' | ')}`)
  for (const g of sdk.goals) console.log(`  ${g.pass ? 'PASS' : 'MISS'} ${g.name}: ${g.actual}${g.pass ? '' : ` (${g.gap})`}`)
  for (const n of sdk.notes) console.log(`  ${n}`)
}
if (pyProfile) console.log(pyProfile)
