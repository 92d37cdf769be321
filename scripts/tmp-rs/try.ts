import { buildTargets } from '/work/wt-resilience-suite/test/fuzz/lib/targets.ts'
import { runTargets } from '/work/wt-resilience-suite/test/fuzz/lib/runTargets.ts'
const targets = await buildTargets()
const t0 = Date.now()
const r = await runTargets({ seed: Number(process.argv[2] ?? 1), count: Number(process.argv[3] ?? 20000), targets })
console.log(JSON.stringify({ ...r, ms: Date.now() - t0 }, null, 1))
