/**
 * Section 7 of `make bench` alone (the agent SDK against the raw viem signature, interleaved pairs in one agent
 * process): prints the rows, goals and notes that `make bench` prints for it.
 *   npx tsx scripts/bench/sdkSection.ts [pairs=5]
 */
import { benchSdk } from './benchSdk.js'
import { summarizeSdk } from './summarizeSdk.js'

const pairs = Number(process.argv[2] ?? 5)
const sdk = summarizeSdk(await benchSdk({ pairs, log: (s) => console.log(s) }))
for (const r of sdk.rows) console.log(`  ${r.join(' | ')}`)
for (const g of sdk.goals) console.log(`  ${g.pass ? 'PASS' : 'MISS'} ${g.name}: ${g.actual}${g.pass ? '' : ` (${g.gap})`}`)
for (const n of sdk.notes) console.log(`  ${n}`)
