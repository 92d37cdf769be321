/**
 * Scale-out benchmark (issue 15; a benchmark, not a timed test): 20 wallets of 5 owners (2 agents each), payments at
 * concurrency C for D ms against (a) one pair on SQLite, (b) one pair on PostgreSQL, (c) three pairs on one
 * PostgreSQL with the load spread over all three hosts (one wallet group: one pair signs), (d) three pairs serving
 * three wallet groups on one PostgreSQL (each pair signs for its own wallets: owner o's wallets in group o mod 3). Reports ops/s, p50/p99 and CPU µs per request of every
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
/** `partitioned`: each URL is its own wallet group (its own wallets and agents, load in proportion); else one group. */
type Target = { urls: string[]; pids: Record<string, number>; stop(): Promise<void>; partitioned?: boolean }

async function measure(name: string, t: Target) {
  // 4 wallets per owner is the enclave's limit: 5 owners (partitioned: owner o's wallets live in group o mod n).
  const byUrl: Awaited<ReturnType<typeof setupBenchAgents>>[] = t.urls.map(() => [])
  for (let o = 0; o < WALLETS / 4; o++) {
    const g = t.partitioned ? o % t.urls.length : 0
    const agents = await setupBenchAgents({ url: t.urls[g]!, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 2 })
    for (const [i, list] of byUrl.entries()) if (!t.partitioned || i === g) list.push(...agents)
  }
  await new Promise((r) => setTimeout(r, 2_200)) // the enclaves' start floor
  const gens = await Promise.all(t.urls.map(() => LoadGenerator.start()))
  const sampler = new ProcessSampler(t.pids)
  sampler.start()
  const total = byUrl.reduce((a, l) => a + (t.partitioned ? l.length : 0), 0)
  const per = (i: number) => Math.max(1, Math.round(t.partitioned ? (C * byUrl[i]!.length) / total : C / t.urls.length))
  const rs = await Promise.all(
    gens.map((g, i) => g.run({ url: t.urls[i]!, agents: byUrl[i]!, concurrency: per(i), warmupMs: 1_000, durationMs: DURATION_MS })),
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
  // 1 pair; 3 pairs on one group (one signs, two forward); 3 pairs on 3 groups (each signs for its own wallets).
  for (const [n, groups] of [[1, undefined], [3, undefined], [3, ['g1', 'g2', 'g3']]] as const) {
    const db = `b${n}${groups ? 'g' : ''}`
    const { default: pgmod } = await import('pg')
    const c = new pgmod.Client({ connectionString: pg.url })
    await c.connect()
    await c.query(`CREATE DATABASE ${db}`)
    await c.end()
    const cl = await startCluster({ databaseUrl: pg.url.replace(/\/postgres$/, `/${db}`), pairs: n, ...(groups ? { groups: [...groups] } : {}) })
    const pids: Record<string, number> = {}
    for (const p of cl.pairs) {
      pids[`host${p.index + 1}`] = p.host.pid!
      pids[`enclave${p.index + 1}`] = p.enclave.pid!
    }
    try {
      const name = groups ? `${n} pairs, ${groups.length} groups ` : `${n} pair${n > 1 ? 's' : ' '}, PostgreSQL`
      await measure(name, { urls: cl.pairs.map((p) => p.url), pids, stop: () => cl.stop(), partitioned: !!groups })
    } finally {
      await cl.stop()
    }
  }
} finally {
  pg.stop()
}
