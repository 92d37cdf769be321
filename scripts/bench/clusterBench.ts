/**
 * Scale-out benchmark (issue 15; a benchmark, not a timed test): 20 wallets of 5 owners (2 agents each), payments at
 * concurrency C for D ms against (a) one pair on SQLite, (b) one pair on PostgreSQL, (c) three pairs on one
 * PostgreSQL with the load spread over all three hosts. Reports ops/s, p50/p99 and CPU µs per request of every
 * process. Env: BENCH_DURATION_MS (default 5000), BENCH_CONCURRENCY (default 48).
 * Run: npx tsx scripts/bench/clusterBench.ts
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { buildEnclave } from '../buildEnclave.js'
import { startCluster } from '../lib/startCluster.js'
import { startStack } from '../lib/startStack.js'
import { startPostgres } from '../pg/ensurePostgres.js'
import { LoadGenerator } from './LoadGenerator.js'
import { ProcessSampler } from './ProcessSampler.js'
import { setupBenchAgents } from './setupBenchAgents.js'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000)
const C = Number(process.env.BENCH_CONCURRENCY ?? 48)
const WALLETS = 20

await buildEnclave({ quiet: true })
type Target = { urls: string[]; pids: Record<string, number>; stop(): Promise<void> }

async function measure(name: string, t: Target) {
  // 4 wallets per owner is the enclave's limit: 5 owners.
  const agents: Awaited<ReturnType<typeof setupBenchAgents>> = []
  for (let o = 0; o < WALLETS / 4; o++) {
    agents.push(...(await setupBenchAgents({ url: t.urls[0]!, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 2 })))
  }
  await new Promise((r) => setTimeout(r, 2_200)) // the enclaves' start floor
  const gens = await Promise.all(t.urls.map(() => LoadGenerator.start()))
  const sampler = new ProcessSampler(t.pids)
  sampler.start()
  const per = Math.max(1, Math.round(C / t.urls.length))
  const rs = await Promise.all(
    gens.map((g, i) => g.run({ url: t.urls[i]!, agents, concurrency: per, warmupMs: 1_000, durationMs: DURATION_MS })),
  )
  const used = sampler.stop()
  await Promise.all(gens.map((g) => g.close()))
  const ok = rs.reduce((a, r) => a + r.opsPerSec, 0)
  const answered = rs.reduce((a, r) => a + r.answeredAll, 0)
  const p50 = Math.max(...rs.map((r) => r.latencyMs.p50))
  const p99 = Math.max(...rs.map((r) => r.latencyMs.p99))
  const us = Object.entries(used.cpuSeconds)
    .map(([k, v]) => `${k} ${Math.round((v * 1e6) / Math.max(1, answered))}`)
    .join(', ')
  const failed = rs.reduce((a, r) => a + r.failed, 0)
  console.log(`${name}: ${ok} ops/s, p50 ${p50} ms, p99 ${p99} ms, ${failed} failed; cpu µs/request ${us}`)
  await t.stop()
}

console.log(`clusterBench: ${WALLETS} wallets × 2 agents, c=${C}, ${DURATION_MS} ms per setup`)
{
  const s = await startStack()
  try {
    await measure('1 pair, SQLite     ', { urls: [s.url], pids: { enclave: s.enclave.pid!, host: s.host.pid! }, stop: () => s.stop() })
  } finally {
    await s.stop()
  }
}
const pg = await startPostgres()
try {
  for (const n of [1, 3]) {
    const db = `b${n}`
    const { default: pgmod } = await import('pg')
    const c = new pgmod.Client({ connectionString: pg.url })
    await c.connect()
    await c.query(`CREATE DATABASE ${db}`)
    await c.end()
    const cl = await startCluster({ databaseUrl: pg.url.replace(/\/postgres$/, `/${db}`), pairs: n })
    const pids: Record<string, number> = {}
    for (const p of cl.pairs) {
      pids[`host${p.index + 1}`] = p.host.pid!
      pids[`enclave${p.index + 1}`] = p.enclave.pid!
    }
    try {
      await measure(`${n} pair${n > 1 ? 's' : ' '}, PostgreSQL`, { urls: cl.pairs.map((p) => p.url), pids, stop: () => cl.stop() })
    } finally {
      await cl.stop()
    }
  }
} finally {
  pg.stop()
}
