/**
 * Cost of the per-wallet fence per persist (issue 15 step 4; a benchmark, not a test): N sequential persist blocks
 * of 4 entries naming one wallet each, on a throwaway PostgreSQL, with the group lease fence and with the per-wallet
 * fence (bursar_fence_wallets in the same statement). Prints the median and mean ms per persist of each.
 * Run: npx tsx scripts/bench/fenceBench.ts   (BENCH_PERSISTS, default 2000)
 */
import pg from 'pg'
import { PostgresStore } from '../../host/storage/PostgresStore.js'
import { acquireWalletLease } from '../../host/storage/walletLeases.js'
import { startPostgres } from '../pg/ensurePostgres.js'

const N = Number(process.env.BENCH_PERSISTS ?? 2000)
const W = `0x${'ab'.repeat(20)}`
const server = await startPostgres()
try {
  const result: string[] = []
  for (const mode of ['group', 'wallet', 'group', 'wallet'] as const) {
    const db = `fence_${mode}_${result.length}`
    const c = new pg.Client({ connectionString: server.url })
    await c.connect()
    await c.query(`CREATE DATABASE ${db}`)
    await c.end()
    const store = await PostgresStore.open(server.url.replace(/\/postgres$/, `/${db}`))
    if (mode === 'group') {
      await store.acquireLease('default', 'A', 'http://a', 600_000)
      store.setFence({ group: 'default', epoch: 1 })
    } else {
      await acquireWalletLease(store.pool, W, 'A', 'http://a', 600_000)
      store.setWalletFence({ holder: 'A', url: 'http://a', ttlMs: 600_000, epochs: new Map([[W, 1]]), onClaimed: () => {} })
    }
    const ms: number[] = []
    let seq = 0
    for (let i = 0; i < N; i++) {
      const entries = Array.from({ length: 4 }, () => {
        const s = seq++
        return JSON.stringify({ seq: s, hash: `0x${s.toString(16).padStart(64, '0')}`, time: 1, event: 'sign_allowed', wallet: W, agentId: 'a', verdict: 'allow' })
      })
      const t = performance.now()
      await store.persist({ entries, checkpoint: null, sealed: null })
      ms.push(performance.now() - t)
    }
    ms.sort((a, b) => a - b)
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length
    result.push(`${mode} fence: median ${ms[ms.length >> 1]!.toFixed(3)} ms, mean ${mean.toFixed(3)} ms per persist (${N} blocks of 4 entries)`)
    console.log(result.at(-1))
    await store.close()
  }
} finally {
  server.stop()
}
