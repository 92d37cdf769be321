/**
 * Section 7 alone, then the SDK's own CPU profile (V8 profiler in the agent process, after warm-up) at c = 64,
 * c = 1 and through createPayingFetch, summarized by function and module.
 *   npx tsx scripts/bench/profileSdk.ts [pairs=2] [profile window ms=3000]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { benchSdk } from './benchSdk.js'
import { formatCpuProfileSummary } from './formatCpuProfileSummary.js'
import { summarizeCpuProfile } from './summarizeCpuProfile.js'

const pairs = Number(process.argv[2] ?? 2)
const windowMs = Number(process.argv[3] ?? 3000)
const dir = mkdtempSync(path.join(tmpdir(), 'bursar-sdk-prof-'))
const prefix = path.join(dir, 'sdk')
await benchSdk({ pairs, profile: { prefix, windowMs }, log: (s) => console.log(s) })
for (const what of ['c64', 'c1', 'paid']) console.log(formatCpuProfileSummary(`agent SDK ${what}`, summarizeCpuProfile(`${prefix}-${what}.cpuprofile`, 25)))
console.log(`profiles in ${dir}`)
