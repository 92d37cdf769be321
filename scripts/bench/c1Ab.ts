/**
 * Issue 18 (c1-42): make bench's c = 1 level (benchEndToEnd on a fresh stack, session MACs, prewarmed 5 s at 64 in
 * flight, 1.5 s warm-up, then the window: exactly as scripts/bench.ts runs it) for whole builds interleaved: each
 * config is a directory holding a built dist/ under this checkout (as hostAb.ts), every round runs each config once
 * on its own fresh stack in rotating order. Per config: p50, p90 and each process's CPU µs per request; then B ÷ A
 * per round (min / median / max) for each config against the first, with the load average beside.
 *
 * `NAME=DIR@K=V,K=V`: that config's run (stack and load generator) also gets these environment variables, e.g.
 * `node=.@BENCH_HTTP_CLIENT=node` (the generator on node:http, as before stop 42; the default is the agent SDK's transport).
 *
 * `C1AB_LEVEL=64`: that level instead (no prewarm: the 1.5 s warm-up, then the window), for a c = 64 check of the same
 * configs: ops/s and each process's CPU µs per answered request (enclave + host is make bench's CPU per payment's numerator).
 *
 *   npx tsx scripts/bench/c1Ab.ts [rounds=3] [windowMs=5000] NAME=DIR[@K=V,…] [NAME=DIR ...]
 */
import { loadavg } from 'node:os'
import path from 'node:path'
import { benchEndToEnd } from './benchEndToEnd.js'

const [roundsArg, msArg, ...specs] = process.argv.slice(2)
const rounds = Number(roundsArg ?? 3)
const durationMs = Number(msArg ?? 5000)
const configs = specs.map((s) => {
  const [spec, envs] = s.split('@')
  const [name, dir] = spec!.split('=')
  const env = Object.fromEntries((envs ? envs.split(',') : []).map((kv) => kv.split('=') as [string, string]))
  return { name: name!, root: path.resolve(dir!), env }
})
const baseEnv = { ...process.env }
const level = Number(process.env.C1AB_LEVEL ?? 1)
const prewarm = level === 1 ? { prewarmMs: 5000, prewarmConcurrency: 64 } : {}
type Row = { p50: number; p90: number; ops: number; cpu: Record<string, number>; load: number }
const rows = new Map<string, Row[]>(configs.map((c) => [c.name, []]))
for (let p = 0; p < rounds; p++) {
  for (let i = 0; i < configs.length; i++) {
    const c = configs[(i + p) % configs.length]!
    const load = loadavg()[0]!
    process.env = { ...baseEnv, ...c.env } // the load generator's process inherits it
    const r = await benchEndToEnd({ levels: [level], auth: ['session'], warmupMs: 1500, durationMs, ...prewarm, root: c.root, env: c.env })
    const l = r.levels[0]!
    const row = { p50: l.latencyMs.p50, p90: l.latencyMs.p90, ops: l.opsPerSec, cpu: l.cpuUsPerRequest, load }
    rows.get(c.name)!.push(row)
    console.log(`round ${p + 1} ${c.name.padEnd(8)} ${row.ops} ops/s, p50 ${row.p50} ms, p90 ${row.p90} ms, CPU µs/request ${Object.entries(row.cpu).map(([k, v]) => `${k} ${v}`).join(', ')} (load ${load.toFixed(2)})`)
  }
}
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return `median ${s[s.length >> 1]!.toFixed(3)} (min ${s[0]!.toFixed(3)}, max ${s.at(-1)!.toFixed(3)}; ${xs.map((x) => x.toFixed(2)).join(' ')})`
}
const [a, ...others] = configs
for (const c of others) {
  const [ra, rb] = [rows.get(a!.name)!, rows.get(c.name)!]
  console.log(`${c.name} ÷ ${a!.name} per round:`)
  console.log(`  p50 ${stat(rb.map((x, i) => x.p50 / ra[i]!.p50))}`)
  console.log(`  p90 ${stat(rb.map((x, i) => x.p90 / ra[i]!.p90))}`)
  console.log(`  ops/s ${stat(rb.map((x, i) => x.ops / ra[i]!.ops))}`)
  console.log(`  CPU enclave + host ${stat(rb.map((x, i) => (x.cpu.enclave! + x.cpu.host!) / (ra[i]!.cpu.enclave! + ra[i]!.cpu.host!)))}`)
  for (const k of Object.keys(ra[0]!.cpu)) console.log(`  CPU ${k} ${stat(rb.map((x, i) => x.cpu[k]! / ra[i]!.cpu[k]!))}`)
}
for (const c of configs) {
  const xs = rows.get(c.name)!.map((x) => x.p50).sort((x, y) => x - y)
  console.log(`${c.name}: p50 median ${xs[xs.length >> 1]} ms (${xs.join(' ')})`)
}
