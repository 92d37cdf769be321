import { buildTargets } from '../../test/fuzz/lib/targets.js'
import { runTargets } from '../../test/fuzz/lib/runTargets.js'
const targets = await buildTargets()
const t0 = Date.now()
const r = await runTargets({ seed: 1, count: Number(process.argv[2]), targets })
console.log(Date.now() - t0, r.crashCount, r.hangCount, r.peakRssMb, r.targets.map((t) => `${t.name} ${(t.totalMs / t.inputs).toFixed(3)} max ${t.slowestMs}`).join('\n'))
