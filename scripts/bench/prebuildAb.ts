/**
 * Issue 18 (lat35): does the load generator's own request building sit inside the open-loop latency? One stack, one
 * load generator process, the bench's 4 × 16 agents and a c = 64 window first (state), then open-loop windows at one
 * rate alternating A (each request built and MACed at its scheduled time, as before) and B (`prebuild`: built before
 * it), order flipped every pair: p50 / p90 / p99 and the generator's send and timer lateness per window, B ÷ A per pair.
 *
 *   npx tsx scripts/bench/prebuildAb.ts [pairs 4] [rate 184] [ms 5000]
 */
import { loadavg } from 'node:os'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { startStack } from '../lib/startStack.js'
import { LoadGenerator } from './LoadGenerator.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const [pairs, rate, ms] = [Number(process.argv[2] ?? 4), Number(process.argv[3] ?? 184), Number(process.argv[4] ?? 5000)]
const s = await startStack()
const started = Date.now()
const load = await LoadGenerator.start()
try {
  const agents = await setupBenchAgents({ url: s.url, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 16 })
  await new Promise((r) => setTimeout(r, Math.max(0, started + 2_200 - Date.now())))
  await load.run({ url: s.url, agents, concurrency: 8, requests: 0, auth: 'session' })
  const c64 = await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1000, durationMs: ms, auth: 'session' })
  console.log(`c=64: ${c64.opsPerSec}/s (load ${loadavg()[0]!.toFixed(2)})`)
  const rows: Record<'A' | 'B', number[][]> = { A: [], B: [] }
  for (let p = 0; p < pairs; p++) {
    for (const v of p % 2 ? (['B', 'A'] as const) : (['A', 'B'] as const)) {
      const r = await load.run({ url: s.url, agents, concurrency: 64, warmupMs: 1500, durationMs: ms, ratePerSec: rate, auth: 'session', prebuild: v === 'B' })
      const l = r.latencyMs
      rows[v].push([l.p50, l.p90, l.p99, r.sendLateMs!.p50, r.sendLateMs!.p99, r.timerLateMs!.p50])
      console.log(`pair ${p + 1} ${v}: ${r.opsPerSec}/s (${r.failed} failed) p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} p99.9 ${l.p999} ms; sent late p50 ${r.sendLateMs!.p50} p99 ${r.sendLateMs!.p99} ms, of which the timer p50 ${r.timerLateMs!.p50} p99 ${r.timerLateMs!.p99} ms (load ${loadavg()[0]!.toFixed(2)})`)
    }
  }
  const names = ['p50', 'p90', 'p99', 'sent late p50', 'sent late p99', 'timer late p50']
  names.forEach((n, k) => {
    const ratios = rows.A.map((a, i) => rows.B[i]![k]! / a[k]!).sort((x, y) => x - y)
    console.log(`B ÷ A ${n}: ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${ratios[ratios.length >> 1]!.toFixed(2)})`)
  })
} finally {
  await load.close()
  await s.stop()
}
