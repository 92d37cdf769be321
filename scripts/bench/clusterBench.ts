/**
 * Scale-out benchmark (issue 15; a benchmark, not a timed test): 20 wallets of 5 owners (2 agents each), payments at
 * concurrency C for D ms against (a) one pair on SQLite, (b) one pair on PostgreSQL, (c) three pairs on one
 * PostgreSQL with the load spread over all three hosts (one wallet group: one pair signs), (d) three pairs serving
 * three wallet groups on one PostgreSQL (each pair signs for its own wallets: owner o's wallets in group o mod 3),
 * (e) three pairs with per-wallet leases (issue 15 step 4: each wallet placed on one pair by rendezvous hashing, each
 * enclave on its own chain, the load spread over all three hosts, which forward by wallet). Reports ops/s, p50/p99
 * and CPU µs per request of every process. Env: BENCH_DURATION_MS (default 5000), BENCH_CONCURRENCY (default 48).
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
type Target = { urls: string[]; pids: Record<string, number>; stop(): Promise<void>; partitioned?: boolean; settle?: () => Promise<void> }

/** Per-wallet leases: wait until every wallet is held (and loaded) by its preferred live pair (hand-backs done). */
async function settled(urls: string[], auditToken: string): Promise<void> {
  const { preferredHost } = await import('../../host/cluster/placement.js')
  for (const until = Date.now() + 90_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    const views = await Promise.all(urls.map((u) => fetch(`${u}/v1/cluster`, { headers: { authorization: `Bearer ${auditToken}` } }).then((r) => r.json() as Promise<{ node: string; held: { wallet: string }[]; hosts: { node: string }[]; leases: { wallet: string }[] }>)))
    const nodes = views[0]!.hosts.map((h) => h.node)
    const where = new Map(views.flatMap((v) => v.held.map((h) => [h.wallet, v.node] as const)))
    const all = views[0]!.leases.map((l) => l.wallet)
    if (nodes.length === urls.length && all.length >= WALLETS && all.every((w) => where.get(w) === preferredHost(w, nodes))) {
      console.log(`  placement: ${views.map((v) => `${v.node} ${v.held.length}`).join(', ')} wallets`)
      return
    }
  }
  throw new Error('per-wallet placement did not settle in 90 s')
}

async function measure(name: string, t: Target) {
  // 4 wallets per owner is the enclave's limit: 5 owners (partitioned: owner o's wallets live in group o mod n).
  const byUrl: Awaited<ReturnType<typeof setupBenchAgents>>[] = t.urls.map(() => [])
  for (let o = 0; o < WALLETS / 4; o++) {
    const g = t.partitioned ? o % t.urls.length : 0
    const agents = await setupBenchAgents({ url: t.urls[g]!, owner: privateKeyToAccount(generatePrivateKey()), wallets: 4, agentsPerWallet: 2 })
    for (const [i, list] of byUrl.entries()) if (!t.partitioned || i === g) list.push(...agents)
  }
  await t.settle?.()
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
  const only = process.env.BENCH_ONLY_WALLET_LEASES === '1'
  const setups = [[1, undefined, false], [3, undefined, false], [3, ['g1', 'g2', 'g3'], false], [1, undefined, true], [3, undefined, true]] as const
  for (const [n, groups, perWallet] of setups.filter((x) => !only || x[2])) {
    const db = `b${n}${groups ? 'g' : ''}${perWallet ? 'w' : ''}`
    const { default: pgmod } = await import('pg')
    const c = new pgmod.Client({ connectionString: pg.url })
    await c.connect()
    await c.query(`CREATE DATABASE ${db}`)
    await c.end()
    const cl = await startCluster({
      databaseUrl: pg.url.replace(/\/postgres$/, `/${db}`),
      pairs: n,
      ...(groups ? { groups: [...groups] } : {}),
      ...(perWallet ? { env: { BURSAR_CLUSTER_LEASES: 'wallet' } } : {}),
    })
    await cl.waitReady(60_000)
    const pids: Record<string, number> = {}
    for (const p of cl.pairs) {
      pids[`host${p.index + 1}`] = p.host.pid!
      pids[`enclave${p.index + 1}`] = p.enclave.pid!
    }
    try {
      const name = perWallet ? `${n} pair${n > 1 ? 's' : ' '}, wallet leases` : groups ? `${n} pairs, ${groups.length} groups ` : `${n} pair${n > 1 ? 's' : ' '}, PostgreSQL`
      await measure(name, { urls: cl.pairs.map((p) => p.url), pids, stop: () => cl.stop(), partitioned: !!groups, ...(perWallet ? { settle: () => settled(cl.pairs.map((p) => p.url), cl.auditToken) } : {}) })
    } finally {
      await cl.stop()
    }
  }
} finally {
  pg.stop()
}
