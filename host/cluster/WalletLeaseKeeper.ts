/**
 * UNTRUSTED: scale-out mode with per-wallet leases (issue 15 step 4, docs/scale.md "Per-wallet leases"). A host
 * serves a wallet only while it holds the wallet's lease; this keeper holds a *set* of them.
 *
 * Every tick (TTL/5): one statement renews every lease this host holds and its heartbeat (`cluster_hosts`); one
 * reads the cluster's view (live hosts, lease rows, wallets with a stored blob). A wallet whose lease is free or
 * expired is taken by its preferred live host (rendezvous hashing); any host takes it once it has stayed free for
 * 2 TTLs (the preferred host may be dead without its heartbeat having expired yet). Taking a wallet = its lease
 * (epoch + 1), then `loadWallet` into this host's enclave (its newest stored blob + the tail after it, read only
 * now, after the takeover committed), and only then serving it. A load that answers an error may still have loaded
 * (rt31a): the enclave's wallet list decides whether the wallet is served or its lease given back, so an honest
 * host never lets a wallet its enclave holds go to another. Orderly hand-back: a wallet whose preferred host is
 * another one, live for a while, is dropped from the enclave (its final blob stored) and then released.
 *
 * A lease that is *lost* (a renewal refused, the local deadline passed, or the database refused a persist) is
 * crash-only: `onLost` (the host exits 75; its supervisor restarts the pair, because the enclave may still hold
 * the wallet and must not serve it again).
 */
import { BaseError } from '../../shared/errors/base.js'
import type { PostgresStore, WalletFence } from '../storage/PostgresStore.js'
import { acquireWalletLease, type ClusterHost, clusterView, leaveCluster, releaseWalletLease, renewWalletLeases, type WalletLease, walletLease } from '../storage/walletLeases.js'
import { preferredHost } from './placement.js'

type Answer = { ok: true } | { ok: false; error: { code: string; message: string } }

/** What the keeper needs from the host's enclave gateway. */
export type WalletHost = {
  /** Resolves once the enclave is ready to take wallets (its own chain started). */
  waitReady(): Promise<void>
  loadWallet(wallet: string): Promise<Answer>
  dropWallet(wallet: string): Promise<Answer>
  /** The wallets the enclave holds now (lower-cased), or null when it cannot say. */
  wallets(): Promise<string[] | null>
}

export type WalletLeaseKeeperOptions = {
  store: PostgresStore
  node: string
  url: string
  ttlMs: number
  host: WalletHost
  log: (line: string) => void
  onLost: (why: string) => void
  /** Give a wallet back to its preferred host once that host has been live for 3 TTLs (default on). */
  handBack?: boolean
  /** No takeover sooner than this after start (default 2,500 ms, see start()). */
  acquireAfterMs?: number
  /** TEST HOOK: as LeaseKeeper's (only the database's fencing stands). */
  onlyDatabaseFencing?: boolean | undefined
}

type Held = { epoch: number; validUntil: number; ready: boolean }

export class WalletLeaseKeeper {
  role: 'running' | 'lost' = 'running'
  readonly held = new Map<string, Held>()
  /** The cluster as last read: live hosts and every lease row. */
  hosts: Array<ClusterHost & { upMs: number }> = []
  leases = new Map<string, WalletLease>()
  /** When each free wallet was first seen free (performance.now), for the 2-TTL fallback. */
  private freeSince = new Map<string, number>()
  /** Wallets whose load failed (not loaded): not taken again before this time. */
  private backoff = new Map<string, number>()
  private timer: NodeJS.Timeout | null = null
  private ticking = false
  private enclaveReady = false
  private acquireAfter = 0
  readonly fence: WalletFence

  constructor(readonly opts: WalletLeaseKeeperOptions) {
    this.fence = {
      holder: opts.node,
      url: opts.url,
      ttlMs: opts.ttlMs,
      epochs: new Map(),
      // A wallet this host's enclave created, claimed by the persist that stored its creation.
      onClaimed: (wallet) => {
        this.held.set(wallet, { epoch: 1, validUntil: performance.now() + opts.ttlMs - opts.ttlMs / 5, ready: true })
        this.fence.epochs.set(wallet, 1)
        this.opts.log(`wallet lease claimed: ${wallet} epoch 1 (created here)`)
      },
    }
  }

  start(): void {
    this.fence.holder = this.opts.node
    this.fence.url = this.opts.url
    this.opts.store.setWalletFence(this.fence)
    // As LeaseKeeper: no takeover before start + 2.5 s (resends from before the enclave's start must not reach it).
    this.acquireAfter = performance.now() + (this.opts.acquireAfterMs ?? 2_500)
    void this.opts.host.waitReady().then(() => (this.enclaveReady = true))
    const every = Math.max(50, Math.floor(this.opts.ttlMs / 5))
    const run = () => {
      if (this.ticking) return
      this.ticking = true
      this.tick()
        .catch((err: Error) => this.opts.log(`wallet lease tick failed: ${err.message}`))
        .finally(() => (this.ticking = false))
    }
    this.timer = setInterval(run, every)
    run()
  }

  /** Where a request naming `wallet` goes: served here, forwarded to the holder's URL, or nobody holds it now. */
  route(wallet: string): { local: true } | { local: false; url: string | null } {
    const w = wallet.toLowerCase()
    if (this.held.get(w)?.ready) return { local: true }
    const l = this.leases.get(w)
    return { local: false, url: l && l.expiresInMs > 0 && l.holder !== this.opts.node ? l.url : null }
  }

  /**
   * A wallet missing from the last view (created a moment ago on another host, or this host has not ticked yet):
   * its row is read now, so it is never taken for a wallet nobody leased. Null: never leased.
   */
  async lookup(wallet: string): Promise<WalletLease | null> {
    const w = wallet.toLowerCase()
    const l = await walletLease(this.opts.store.pool, w)
    if (l) this.leases.set(w, l)
    return l
  }

  /** Throws unless this host holds `wallet` (loaded) by its own clock, with a margin. */
  check(wallet: string): void {
    if (this.role === 'lost') throw new BaseError('lease_not_held', 'This host lost a wallet lease and is stopping')
    const h = this.held.get(wallet.toLowerCase())
    if (!h?.ready) throw new BaseError('lease_not_held', `This host does not hold the lease of wallet ${wallet}`)
    if (!this.opts.onlyDatabaseFencing && performance.now() > h.validUntil) {
      this.lost(`lease of ${wallet} passed its deadline by the local clock (paused or renewals failing)`)
      throw new BaseError('lease_not_held', `This host's lease of wallet ${wallet} expired`)
    }
  }

  private isLost(): boolean {
    return this.role === 'lost'
  }

  /** A lease was lost (renewal refused, deadline passed, or the database refused a persist): crash-only. */
  lost(why: string): void {
    if (this.role === 'lost') return
    this.role = 'lost'
    this.fence.epochs.clear()
    for (const w of this.held.keys()) this.fence.epochs.set(w, -1) // nothing more is stored by this process
    this.opts.log(`wallet lease lost: ${why}`)
    this.opts.onLost(why)
  }

  private async tick(): Promise<void> {
    const { store, node, url, ttlMs } = this.opts
    if (this.role === 'lost') return
    const t = performance.now()
    const mine = [...this.held.entries()].map(([wallet, h]) => ({ wallet, epoch: h.epoch }))
    const renewed = await renewWalletLeases(store.pool, node, url, mine, ttlMs)
    for (const { wallet } of mine) {
      const h = this.held.get(wallet)
      if (!h) continue
      const ms = renewed.get(wallet)
      if (ms !== undefined) h.validUntil = t + ms - ttlMs / 5
      else if (!this.opts.onlyDatabaseFencing) return this.lost(`renewal of ${wallet} (epoch ${h.epoch}) refused: another host took it or it expired`)
    }
    const view = await clusterView(store.pool)
    this.hosts = view.hosts
    this.leases = new Map(view.leases.map((l) => [l.wallet, l]))
    if (!this.enclaveReady || performance.now() < this.acquireAfter) return
    const live = view.hosts.map((h) => h.node)
    const now = performance.now()
    for (const wallet of view.wallets) {
      if (this.isLost()) return
      if (this.held.has(wallet)) continue
      const l = this.leases.get(wallet)
      if (l && l.expiresInMs > 0) {
        this.freeSince.delete(wallet)
        continue
      }
      if ((this.backoff.get(wallet) ?? 0) > now) continue
      const since = this.freeSince.get(wallet) ?? now
      this.freeSince.set(wallet, since)
      if (preferredHost(wallet, live) !== node && now - since < 2 * ttlMs) continue
      await this.take(wallet)
    }
    if (this.opts.handBack !== false) await this.handBackOne(live)
  }

  /** Lease, then load into the enclave; serve only once loaded. */
  private async take(wallet: string): Promise<void> {
    const { store, node, url, ttlMs, host, log } = this.opts
    const t = performance.now()
    const got = await acquireWalletLease(store.pool, wallet, node, url, ttlMs)
    if (!got) return
    this.freeSince.delete(wallet)
    const h: Held = { epoch: got.epoch, validUntil: t + got.expiresInMs - ttlMs / 5, ready: false }
    this.held.set(wallet, h)
    this.fence.epochs.set(wallet, got.epoch) // the load's own entry and seal are fenced by this epoch
    log(`wallet lease acquired: ${wallet} epoch ${got.epoch}`)
    const t0 = performance.now()
    const r = await host.loadWallet(wallet).catch((err: Error): Answer => ({ ok: false, error: { code: 'load_failed', message: err.message } }))
    if (this.isLost()) return
    if (r.ok || r.error.code === 'wallet_already_loaded') {
      h.ready = true
      log(`wallet loaded: ${wallet} epoch ${got.epoch} in ${Math.round(performance.now() - t0)} ms`)
      return
    }
    // An error may still have loaded it (rt31a): ask the enclave before letting the lease go.
    const have = await host.wallets().catch(() => null)
    if (have === null) return this.lost(`load of ${wallet} answered ${r.error.code} and the enclave's wallets cannot be read`)
    if (have.includes(wallet)) {
      h.ready = true
      log(`wallet load of ${wallet} answered ${r.error.code} but the enclave holds it: served`)
      return
    }
    log(`wallet load of ${wallet} refused (${r.error.code}: ${r.error.message}): lease given back`)
    this.held.delete(wallet)
    this.fence.epochs.delete(wallet)
    this.backoff.set(wallet, performance.now() + 5 * ttlMs)
    await releaseWalletLease(store.pool, wallet, node, got.epoch)
  }

  /** Orderly hand-back of one wallet per tick to its preferred host, once that host has been live for 3 TTLs. */
  private async handBackOne(live: string[]): Promise<void> {
    const { node, ttlMs, host, log, store } = this.opts
    const settled = new Set(this.hosts.filter((h) => h.upMs > 3 * ttlMs).map((h) => h.node))
    for (const [wallet, h] of this.held) {
      if (!h.ready) continue
      const p = preferredHost(wallet, live)
      if (!p || p === node || !settled.has(p)) continue
      h.ready = false // new requests for it are forwarded (or refused 503) from now on
      const r = await host.dropWallet(wallet).catch((err: Error): Answer => ({ ok: false, error: { code: 'drop_failed', message: err.message } }))
      if (!r.ok) {
        const have = await host.wallets().catch(() => null)
        if (have?.includes(wallet)) {
          h.ready = true // still held: keep serving it (hand back again later)
          log(`drop of ${wallet} refused (${r.error.code}): still served here`)
          return
        }
        // Gone from the enclave but its final blob maybe not stored: crash-only, the next holder loads what is stored.
        return this.lost(`drop of ${wallet} answered ${r.error.code}: ${r.error.message}`)
      }
      this.held.delete(wallet)
      this.fence.epochs.delete(wallet)
      await releaseWalletLease(store.pool, wallet, node, h.epoch)
      log(`wallet handed back: ${wallet} (epoch ${h.epoch}) to ${p}`)
      return
    }
  }

  /** TEST HOOK: stop ticking without releasing anything (a crashed or paused host). */
  halt(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /** Clean shutdown: drop and release every wallet, leave placement. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.role === 'lost') return
    const { store, node, host } = this.opts
    for (const [wallet, h] of this.held) {
      h.ready = false
      const r = await host.dropWallet(wallet).catch(() => null)
      if (r?.ok) await releaseWalletLease(store.pool, wallet, node, h.epoch).catch(() => {})
    }
    await leaveCluster(store.pool, node).catch(() => {})
  }
}
