/**
 * Per-wallet leases (issue 15 step 4): placement, takeover and fencing of three keepers on one real PostgreSQL, with
 * a recording stand-in for the enclave (the real-process cluster tests run real pairs).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../scripts/lib/startStack.js'
import { freshDatabase, releasePostgres } from '../../test/helpers/postgres.js'
import { PostgresStore } from '../storage/PostgresStore.js'
import { WalletLeaseLostError } from '../storage/storeErrors.js'
import { releaseWalletLease } from '../storage/walletLeases.js'
import { preferredHost } from './placement.js'
import { type WalletHost, WalletLeaseKeeper } from './WalletLeaseKeeper.js'

afterAll(() => releasePostgres())

const TTL = 600
const wallets = Array.from({ length: 20 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`)

/** An enclave stand-in: loads and drops; `loadErrorButLoaded` answers an error although it loaded (rt31a). */
function fakeHost(loadErrorButLoaded = new Set<string>()): WalletHost & { have: Set<string>; loads: string[] } {
  const have = new Set<string>()
  const loads: string[] = []
  return {
    have,
    loads,
    waitReady: async () => {},
    async loadWallet(w) {
      loads.push(w)
      if (have.has(w)) return { ok: false, error: { code: 'wallet_already_loaded', message: '' } }
      have.add(w)
      if (loadErrorButLoaded.has(w)) return { ok: false, error: { code: 'enclave_timeout', message: 'late' } }
      return { ok: true }
    },
    async dropWallet(w) {
      have.delete(w)
      return { ok: true }
    },
    wallets: async () => [...have],
  }
}

describe('per-wallet lease keepers (real PostgreSQL)', () => {
  it('20 wallets spread over 3 hosts by rendezvous placement; a dead host\'s wallets are taken and loaded by the others; its persists are refused', async () => {
    const url = await freshDatabase()
    const seed = await PostgresStore.open(url)
    for (const w of wallets) await seed.pool.query("INSERT INTO snapshots(wallet, version, audit_seq, blob, stored_at) VALUES ($1, 1, 0, '\\x01', 0)", [w])
    const nodes = ['A', 'B', 'C']
    const odd = new Set([wallets[3]!])
    const made = await Promise.all(
      nodes.map(async (node) => {
        const store = await PostgresStore.open(url)
        const host = fakeHost(node === preferredHost(wallets[3]!, nodes) ? odd : undefined)
        const lost: string[] = []
        const keeper = new WalletLeaseKeeper({ store, node, url: `http://${node}`, ttlMs: TTL, host, log: () => {}, onLost: (w) => lost.push(w), acquireAfterMs: 0 })
        return { node, store, host, keeper, lost }
      }),
    )
    for (const m of made) m.keeper.start()
    // Every wallet ends up held and loaded by its preferred host (a host that took one early hands it back).
    await waitFor(async () => wallets.every((w) => made.find((m) => m.node === preferredHost(w, nodes))!.host.have.has(w) && made.filter((m) => m.host.have.has(w)).length === 1), 20_000, 'placement settles')
    await waitFor(async () => made.every((m) => [...m.host.have].every((w) => m.keeper.route(w).local)), 5_000, 'all loaded wallets served')
    for (const m of made) expect(m.host.have.size).toBeGreaterThan(0)
    const rows = (await seed.pool.query<{ wallet: string; holder: string }>('SELECT wallet, holder FROM wallet_leases WHERE expires_at > clock_timestamp()')).rows
    expect(new Map(rows.map((r) => [r.wallet, r.holder]))).toEqual(new Map(wallets.map((w) => [w, preferredHost(w, nodes)])))
    // The load that answered an error but loaded (rt31a) is served, not given away.
    expect(made.some((m) => m.keeper.route(wallets[3]!).local)).toBe(true)
    // Forwarding: every host routes every wallet to its holder's URL (once a tick has read the newest rows).
    const routed = () => made.every((m) => wallets.every((w) => {
      const r = m.keeper.route(w)
      return r.local ? m.host.have.has(w) : r.url === `http://${preferredHost(w, nodes)}`
    }))
    await waitFor(async () => routed(), 5_000, 'every host routes every wallet to its holder')

    // C dies (stops renewing, releases nothing): A and B take its wallets within about a TTL and load them.
    const c = made[2]!
    const cWallets = [...c.host.have]
    // suite40: "within about a TTL" counted in the survivors' own ticks (one per TTL/5 at most; a loaded machine runs
    // fewer, never more), not in wall time (the old < 6 TTL wall bound was 3.6 s on a loaded CI box). Expected: C's
    // leases run out (≤ 5 ticks) + one tick; ≤ 30 ticks is the old bound on an idle machine.
    const ticks = made.slice(0, 2).map((m) => {
      const k = m.keeper as unknown as { tick: () => Promise<void> }
      const tick = k.tick.bind(m.keeper)
      const n = { ticks: 0 }
      k.tick = () => (n.ticks++, tick())
      return n
    })
    c.keeper.halt()
    const t0 = performance.now()
    await waitFor(async () => cWallets.every((w) => made.slice(0, 2).some((m) => m.host.have.has(w) && m.keeper.route(w).local)), 30_000, 'C\'s wallets taken')
    const takeoverTicks = Math.max(...ticks.map((n) => n.ticks))
    console.log(`keeper takeover of ${cWallets.length} wallets after a dead host: ${takeoverTicks} ticks, ${Math.round(performance.now() - t0)} ms (TTL ${TTL} ms)`)
    expect(takeoverTicks).toBeLessThanOrEqual(30)
    for (const w of cWallets) expect(made.find((m) => m.node === preferredHost(w, ['A', 'B']))!.host.have.has(w)).toBe(true)
    // The stale holder can neither store for a wallet it lost nor release it.
    const entry = JSON.stringify({ seq: 0, hash: `0x${'ab'.repeat(32)}`, time: 1, event: 'sign_allowed', wallet: cWallets[0], agentId: 'x', verdict: 'allow' })
    await expect(c.store.persist({ entries: [entry], checkpoint: null, sealed: null })).rejects.toBeInstanceOf(WalletLeaseLostError)
    expect(await releaseWalletLease(c.store.pool, cWallets[0]!, 'C', c.keeper.held.get(cWallets[0]!)!.epoch)).toBe(false)
    const epochs = (await seed.pool.query<{ epoch: number }>('SELECT epoch FROM wallet_leases WHERE wallet = $1', [cWallets[0]])).rows[0]!.epoch
    expect(epochs).toBeGreaterThanOrEqual(2)
    expect(made.slice(0, 2).every((m) => m.lost.length === 0)).toBe(true)
    for (const m of made.slice(0, 2)) await m.keeper.stop()
    // A clean stop drops and releases every wallet.
    expect(made.slice(0, 2).every((m) => m.host.have.size === 0)).toBe(true)
    for (const m of made) await m.store.close()
    await seed.close()
  }, 60_000)
})
