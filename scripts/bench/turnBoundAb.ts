/**
 * writer40 (issue 18): bounded writer turns, before/after. Each arm is a checkout's build (dist/ by
 * `npx tsx scripts/buildEnclave.ts`) and optional stack environment; arms run in rotating order, round after round,
 * each on a fresh stack through this checkout's harness: one c = 64 window (enclave + host CPU µs per answer, ÷ a raw
 * viem signature measured in this process around the run), then one open-loop window (Poisson) at a FIXED rate, the
 * same for every arm (RATE, or half the first run's c = 64 rate). Prints each run and, per arm pair, the ratios
 * B ÷ A of p50 / p99 / p99.9 and of CPU per answer with min / median / max over the rounds.
 *
 *   npx tsx scripts/bench/turnBoundAb.ts ROUNDS RATE name=DIR[,K=V...] name=DIR[,K=V...] ...   (OPEN_MS=10000, C64_MS=4000)
 *   e.g. base=/tmp/wt-base bounded=. lifted=.,BURSAR_ENCLAVE_TURN_FRAMES=1000000
 */
import { loadavg } from 'node:os'
import path from 'node:path'
import { benchEndToEnd } from './benchEndToEnd.js'
import { rawSignatureCpuUs } from './rawSignatureCpu.js'

const [roundsArg, rateArg, ...armArgs] = process.argv.slice(2)
if (!roundsArg || !rateArg || armArgs.length < 2) throw new Error('usage: turnBoundAb.ts ROUNDS RATE name=DIR[,K=V] name=DIR[,K=V] ...')
const arms = armArgs.map((a) => {
  const [name, rest] = a.split(/=(.*)/s) as [string, string]
  const [dir, ...kvs] = rest.split(',')
  return { name, root: path.resolve(dir!), env: Object.fromEntries(kvs.map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string])) }
})
const openMs = Number(process.env.OPEN_MS ?? 10_000)
const c64Ms = Number(process.env.C64_MS ?? 4000)
let rate = Number(rateArg)
type Row = { arm: string; round: number; p50: number; p99: number; p999: number; ops: number; cpu: number; enclave: number; host: number; c64: number; perCommit: number; openPerCommit: number; load: number }
const rows: Row[] = []
const q = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return { min: s[0]!, med: s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2, max: s.at(-1)! }
}
const f = (x: number) => x.toFixed(3)
const perCommit = (l: { commits?: { commits: number; entries: number } | undefined }) => (l.commits ? l.commits.entries / Math.max(1, l.commits.commits) : Number.NaN)

for (let round = 0; round < Number(roundsArg); round++) {
  for (let i = 0; i < arms.length; i++) {
    const arm = arms[(i + round) % arms.length]!
    const before = rawSignatureCpuUs(1000)
    const r = await benchEndToEnd({
      levels: [64],
      warmupMs: 1500,
      durationMs: c64Ms,
      root: arm.root,
      env: arm.env,
      openLoopRates: (closed) => {
        if (!rate) rate = Math.round(0.5 * closed[0]!.opsPerSec)
        return [rate]
      },
    })
    const after = rawSignatureCpuUs(1000)
    const raw = (before.cpuUs + after.cpuUs) / 2
    const c = r.levels[0]!, o = r.openLoop[0]!
    const row: Row = {
      arm: arm.name, round, p50: o.latencyMs.p50, p99: o.latencyMs.p99, p999: o.latencyMs.p999, ops: c.opsPerSec,
      cpu: ((c.cpuUsPerRequest.enclave ?? 0) + (c.cpuUsPerRequest.host ?? 0)) / raw, enclave: (c.cpuUsPerRequest.enclave ?? 0) / raw, host: (c.cpuUsPerRequest.host ?? 0) / raw,
      c64: c.latencyMs.p99, perCommit: perCommit(c), openPerCommit: perCommit(o), load: loadavg()[0]!,
    }
    rows.push(row)
    console.log(`round ${round} ${arm.name}: open ${rate}/s p50 ${row.p50} p99 ${row.p99} p99.9 ${row.p999} ms; c=64 ${row.ops}/s (enclave ${c.cpuUsPerRequest.enclave} + host ${c.cpuUsPerRequest.host} µs, raw ${Math.round(raw)} µs: ${f(row.cpu)}×; p99 ${row.c64} ms; entries per host commit c=64 ${row.perCommit.toFixed(1)}, open ${row.openPerCommit.toFixed(2)}); load ${row.load.toFixed(1)}`)
  }
}

const a = arms[0]!.name
for (const b of arms.slice(1).map((x) => x.name)) {
  const pairs = [...new Set(rows.map((r) => r.round))].map((round) => [rows.find((r) => r.arm === a && r.round === round)!, rows.find((r) => r.arm === b && r.round === round)!] as const)
  console.log(`\n${b} ÷ ${a} (${pairs.length} interleaved pairs, open loop ${rate}/s):`)
  for (const k of ['p50', 'p99', 'p999', 'cpu', 'enclave', 'host', 'ops', 'c64', 'perCommit', 'openPerCommit'] as const) {
    const s = q(pairs.map(([x, y]) => y[k] / x[k]))
    console.log(`  ${k.padEnd(13)} min ${f(s.min)}  median ${f(s.med)}  max ${f(s.max)}   (${a} median ${q(pairs.map(([x]) => x[k])).med.toFixed(3)}, ${b} ${q(pairs.map(([, y]) => y[k])).med.toFixed(3)})`)
  }
}
