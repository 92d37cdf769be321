/**
 * Issue 18 (cpu37): where the enclave's hot path allocates. V8's sampling heap profiler with collected objects kept
 * (so short-lived garbage — what the young generation's scavenges pay for — counts, not only what survives), over
 * the in-process hot path of hotPathAb.ts (request decode, dispatch, answer encode at 64 in flight). Prints bytes
 * allocated per request by the innermost function, and by module (node_modules packages and source files).
 *
 *   npx tsx scripts/bench/allocProfile.ts [CHECKOUT=.] [REQUESTS=4000]
 */
import { Session } from 'node:inspector/promises'
import { setup } from './hotPathAb.js'

type Node = { callFrame: { functionName: string; url: string }; selfSize: number; children: Node[] }

const dir = process.argv[2] ?? '.'
const n = Number(process.argv[3] ?? 4000)
const run = await setup(dir)
await run(3000) // past the first tier-ups
const session = new Session()
session.connect()
await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
await run(n)
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } }
const byFn = new Map<string, number>()
const byModule = new Map<string, number>()
const moduleOf = (url: string) => {
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) { const rest = url.slice(nm + 13).split('/'); return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]! }
  return url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '') || '(native)'
}
let total = 0
const walk = (node: Node) => {
  const { functionName, url } = node.callFrame
  if (node.selfSize) {
    total += node.selfSize
    const k = `${functionName || '(anonymous)'} ${moduleOf(url)}` // tsx reports line 1 for its transformed sources
    byFn.set(k, (byFn.get(k) ?? 0) + node.selfSize)
    byModule.set(moduleOf(url), (byModule.get(moduleOf(url)) ?? 0) + node.selfSize)
  }
  for (const c of node.children) walk(c)
}
walk(profile.head)
const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k)
console.log(`${(total / n).toFixed(0)} bytes allocated per request (sampled every 512 B, ${n} requests)`)
for (const [k, v] of top(byFn, 30)) console.log(`${(v / n).toFixed(0).padStart(7)} B  ${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`)
console.log('by module:')
for (const [k, v] of top(byModule, 20)) console.log(`${(v / n).toFixed(0).padStart(7)} B  ${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`)
process.exit(0)
