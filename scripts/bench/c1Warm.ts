/**
 * Issue 18 (lat41): `make bench`'s c = 1 level as it runs (benchEndToEnd on a fresh stack, 1.5 s warm-up, then the
 * window) against the same level prewarmed at 64 in flight first (`prewarmMs` at `prewarmConcurrency` 64): how much of
 * the c = 1 row is a fresh stack's JIT warm-up (V8 compiling on its background threads over the first ~10,000
 * answers) rather than a lone request's steady-state cost. Pairs A B / B A alternate, each on its own fresh stack;
 * B ÷ A per pair for p50 and for each process's CPU µs per request.
 *
 *   npx tsx scripts/bench/c1Warm.ts [pairs=3] [prewarm ms=5000] [window ms=5000]
 */
import { loadavg } from 'node:os'
import { benchEndToEnd } from './benchEndToEnd.js'

const pairs = Number(process.argv[2] ?? 3)
const prewarmMs = Number(process.argv[3] ?? 5000)
const durationMs = Number(process.argv[4] ?? 5000)
const quiet = () => {}
type Row = { p50: number; p99: number; ops: number; cpu: Record<string, number> }
const one = async (warm: boolean): Promise<Row> => {
  const r = await benchEndToEnd({ levels: [1], auth: ['session'], warmupMs: 1500, durationMs, log: quiet, ...(warm ? { prewarmMs, prewarmConcurrency: 64 } : {}) })
  const l = r.levels[0]!
  return { p50: l.latencyMs.p50, p99: l.latencyMs.p99, ops: l.opsPerSec, cpu: l.cpuUsPerRequest }
}
const fmt = (r: Row) => `${r.ops} ops/s, p50 ${r.p50} ms, p99 ${r.p99} ms, cpu µs/request ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}`
const ratios: Record<string, number[]> = {}
for (let i = 0; i < pairs; i++) {
  const order = i % 2 === 0 ? [false, true] : [true, false]
  const got: Record<string, Row> = {}
  for (const warm of order) got[warm ? 'B' : 'A'] = await one(warm)
  const [a, b] = [got.A!, got.B!]
  const push = (k: string, x: number) => (ratios[k] ??= []).push(x)
  push('p50', b.p50 / a.p50)
  for (const k of Object.keys(a.cpu)) push(`cpu ${k}`, b.cpu[k]! / a.cpu[k]!)
  console.log(`pair ${i + 1} (load ${loadavg()[0]!.toFixed(1)}): A fresh ${fmt(a)}\n          B prewarmed ${fmt(b)}`)
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
for (const [k, xs] of Object.entries(ratios)) console.log(`B ÷ A ${k}: median ${med(xs).toFixed(3)} (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)}; ${xs.map((x) => x.toFixed(2)).join(' ')})`)
