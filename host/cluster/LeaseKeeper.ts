/**
 * UNTRUSTED: scale-out mode (issue 15, docs/scale.md). One lease per wallet group: today a group is one enclave's
 * whole wallet set (the enclave keeps one snapshot of all its wallets), so exactly one host + enclave pair of a
 * cluster serves the group at a time and the others stand by, forwarding requests to the holder.
 *
 * A standby tries to take the lease every tick; once it holds it, the store fences every persist with its epoch
 * and the gateway may load the enclave (newest snapshot + audit tail from PostgreSQL) and serve. The holder renews
 * every tick; when a renewal fails (another host took over, or the lease expired while this process was paused)
 * the lease is lost for good: `onLost` runs (the host exits; its supervisor restarts the pair as a standby with a
 * fresh enclave, because the old enclave's in-memory state may be behind the new holder's).
 */
import { BaseError } from '../../shared/errors/base.js'
import type { Lease, PostgresStore } from '../storage/PostgresStore.js'

export type LeaseKeeperOptions = {
  store: PostgresStore
  group: string
  node: string
  /** The URL other hosts forward to while this host holds the lease. */
  url: string
  ttlMs: number
  log: (line: string) => void
  onLost: (why: string) => void
  /**
   * TEST HOOK: skip the local clock check and ignore refused renewals, so only the database's fencing (inside each
   * persist transaction) stands between a stale pair and a release.
   */
  onlyDatabaseFencing?: boolean | undefined
}

export class LeaseKeeper {
  role: 'standby' | 'holder' | 'lost' = 'standby'
  epoch = 0
  /** The group's lease as last read (holder's URL for forwarding). */
  current: Lease | null = null
  /** Local deadline (performance.now) before which this host may still send requests to its enclave. */
  private validUntil = 0
  private timer: NodeJS.Timeout | null = null
  private heldWaiters: Array<() => void> = []
  private ticking = false
  acquiredAt: number | null = null

  constructor(readonly opts: LeaseKeeperOptions) {}

  /**
   * No takeover before this (performance.now): an enclave refuses requests issued before its own start + 2 s, so a
   * pair that just started must not become the holder while resends from before its start are still arriving
   * (the SDK would report their outcome as unknown). The host starts after its enclave, so its start + 2.5 s is later.
   */
  private acquireAfter = 0

  start(): void {
    this.acquireAfter = performance.now() + 2_500
    const every = Math.max(50, Math.floor(this.opts.ttlMs / 5))
    const run = () => {
      if (this.ticking) return
      this.ticking = true
      this.tick()
        .catch((err: Error) => this.opts.log(`lease tick failed: ${err.message}`))
        .finally(() => (this.ticking = false))
    }
    this.timer = setInterval(run, every)
    run()
  }

  /** Resolves once this host holds the lease (the gateway waits for it before loading the enclave). */
  waitHeld(): Promise<void> {
    if (this.role === 'holder') return Promise.resolve()
    return new Promise((resolve) => this.heldWaiters.push(resolve))
  }

  /** Throws unless this host holds the lease by its own clock, with a margin (before any request reaches the enclave). */
  check(): void {
    if (this.role !== 'holder') throw new BaseError('lease_not_held', 'This host does not hold the wallet group lease')
    if (!this.opts.onlyDatabaseFencing && performance.now() > this.validUntil) {
      this.lost('lease deadline passed by the local clock (paused or renewals failing)')
      throw new BaseError('lease_not_held', 'This host\'s lease expired')
    }
  }

  /** Reads the group's lease row again (a standby that does not know the holder yet). */
  async refresh(): Promise<void> {
    if (this.role === 'standby') this.current = await this.opts.store.currentLease(this.opts.group)
  }

  /** The database refused a persist: another host holds the lease now. */
  lost(why: string): void {
    if (this.role === 'lost') return
    this.role = 'lost'
    this.opts.store.setFence({ group: this.opts.group, epoch: -1 }) // nothing more is stored by this process
    this.opts.log(`lease lost (epoch ${this.epoch}): ${why}`)
    this.opts.onLost(why)
  }

  private async tick(): Promise<void> {
    const { store, group, node, url, ttlMs } = this.opts
    if (this.role === 'lost') return
    if (this.role === 'holder') {
      const t = performance.now()
      const ms = await store.renewLease(group, node, this.epoch, ttlMs)
      if (ms === null && this.opts.onlyDatabaseFencing) return
      if (ms === null) return this.lost('renewal refused: another host took the group or the lease expired')
      this.validUntil = t + ms - ttlMs / 5
      return
    }
    const t = performance.now()
    if (t < this.acquireAfter) {
      this.current = await store.currentLease(group)
      return
    }
    const got = await store.acquireLease(group, node, url, ttlMs)
    if (!got) {
      this.current = await store.currentLease(group)
      return
    }
    this.epoch = got.epoch
    this.current = got
    this.validUntil = t + got.expiresInMs - ttlMs / 5
    store.setFence({ group, epoch: got.epoch })
    this.role = 'holder'
    this.acquiredAt = Date.now()
    this.opts.log(`lease acquired: group ${group} epoch ${got.epoch}`)
    for (const w of this.heldWaiters.splice(0)) w()
  }

  /** Clean shutdown: hand the lease back so a standby need not wait for it to expire. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.role === 'holder') await this.opts.store.releaseLease(this.opts.group, this.opts.node, this.epoch).catch(() => {})
  }
}
