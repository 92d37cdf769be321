import { BaseError } from '../../shared/errors/base.js'
import type { z } from 'zod'
import type { LedgerEvent, PendingRecordSchema, PermitRecordSchema, SpendLedgerJsonSchema } from './LedgerEvent.js'
import { TimeSeries } from './TimeSeries.js'

/**
 * The spend ledger of one wallet: rolling spend sums per (agent, chain,
 * asset), pre-approval usage, request and denial counters, pending requests,
 * spend permits and frozen agents. `apply(event)` is the only mutator and is
 * deterministic, so replaying the audit log's events rebuilds the same state.
 * Reads take an explicit `now`; nothing here looks at the wall clock.
 */
export const HOUR_MS = 3_600_000
/** Spends are kept 27 h: the longest calendar day (25 h, DST) plus margin; the rolling window is 24 h. */
export const SPEND_RETENTION_MS = 27 * HOUR_MS
/** Counters keep at most this many newest entries; policy limits never exceed it, so decisions stay exact. */
export const COUNTER_MAX = 10_000
/** Spends older than this are merged into COALESCE_BUCKET_MS buckets stamped at the bucket end. */
export const COALESCE_AFTER_MS = 60_000
export const COALESCE_BUCKET_MS = 60_000
const SWEEP_EVERY_MS = 60_000

export type PendingRecord = z.infer<typeof PendingRecordSchema>
export type PendingStatus = PendingRecord['status']
export type PermitRecord = z.infer<typeof PermitRecordSchema>
export type FrozenRecord = { reason: string; at: number }
/** A batch-settlement channel of this wallet: everything deposited into it and the highest voucher total signed. */
export type ChannelRecord = { chainId: number; asset: string; deposited: bigint; signed: bigint; released?: bigint }
/** Inferred from SpendLedgerJsonSchema (LedgerEvent.ts, what sealed snapshots are decoded by): a new field goes there. */
export type SpendLedgerJson = z.infer<typeof SpendLedgerJsonSchema>

export class LedgerInvariantError extends BaseError {
  constructor(message: string) {
    super('ledger_invariant', message)
  }
}

export function spendKey(agentId: string, chainId: number, asset: string): string {
  return `${agentId}|${chainId}|${asset.toLowerCase()}`
}

export class SpendLedger {
  private spends = new Map<string, TimeSeries>()
  private credits = new Map<string, TimeSeries>()
  private preApprovals = new Map<string, TimeSeries>()
  private requests = new Map<string, TimeSeries>()
  private denials = new Map<string, TimeSeries>()
  private pendings = new Map<string, PendingRecord>()
  private pendingByDigest = new Map<string, string>()
  private permits = new Map<string, PermitRecord>()
  private holdsByKey = new Map<string, Set<string>>()
  private frozen = new Map<string, FrozenRecord>()
  private riskResetAt = new Map<string, number>()
  private lastSweepAt = 0
  private channels = new Map<string, ChannelRecord>()

  /** Applies one event; throws LedgerInvariantError (a bug or tampering: halt) if it is illegal in this state. */
  apply(e: LedgerEvent): void {
    switch (e.type) {
      case 'spend': {
        series(this.spends, spendKey(e.agentId, e.chainId, e.asset)).add(e.at, BigInt(e.amount))
        if (e.preApprovalId) {
          series(this.preApprovals, `${e.agentId}|${e.preApprovalId}`).add(e.at, BigInt(e.amount))
          series(this.preApprovals, `${e.agentId}|${e.preApprovalId}|n`).add(e.at, 1n)
        }
        break
      }
      case 'budget_credit':
        series(this.credits, spendKey(e.agentId, e.chainId, e.asset)).add(e.at, BigInt(e.amount))
        break
      case 'request':
        counter(this.requests, e.agentId, e.at)
        break
      case 'denial':
        counter(this.denials, e.agentId, e.at)
        break
      case 'pending_created': {
        if (this.pendings.has(e.pendingId)) throw new LedgerInvariantError(`pending ${e.pendingId} exists`)
        const { type: _t, at, ...rest } = e
        this.addPending({ ...rest, createdAt: at, status: 'pending', resolvedAt: null })
        break
      }
      case 'pending_resolved': {
        const p = this.livePending(e.pendingId, 'pending', e.at)
        p.status = e.approve ? 'approved' : 'rejected'
        p.resolvedAt = e.at
        break
      }
      case 'pending_used': {
        const p = this.livePending(e.pendingId, 'approved', e.at)
        p.status = 'used'
        break
      }
      case 'permit_issued': {
        if (this.permits.has(e.permitId)) throw new LedgerInvariantError(`permit ${e.permitId} exists`)
        const { type: _t, at, ...rest } = e
        this.addPermit({ ...rest, issuedAt: at, used: false, spent: null, released: false, closedAt: null })
        break
      }
      case 'permit_used': {
        const p = this.livePermit(e.permitId, e.at)
        if (BigInt(e.amount) > BigInt(p.amount)) throw new LedgerInvariantError(`permit ${e.permitId} overspent`)
        p.used = true
        p.spent = e.amount
        p.closedAt = e.at
        break
      }
      case 'budget_released': {
        const p = this.livePermit(e.permitId, e.at)
        p.released = true
        p.closedAt = e.at
        break
      }
      case 'channel': {
        const c = this.channels.get(e.channelId) ?? { chainId: e.chainId, asset: e.asset, deposited: 0n, signed: 0n }
        if (c.chainId !== e.chainId || c.asset !== e.asset) throw new LedgerInvariantError(`channel ${e.channelId} changed token`)
        c.deposited += BigInt(e.locked)
        if (BigInt(e.signed) > c.signed) c.signed = BigInt(e.signed)
        this.channels.set(e.channelId, c)
        break
      }
      case 'channel_released': {
        const c = this.channels.get(e.channelId)
        if (!c) throw new LedgerInvariantError(`channel ${e.channelId} unknown`)
        c.released = (c.released ?? 0n) + BigInt(e.amount)
        break
      }
      case 'agent_frozen':
        this.frozen.set(e.agentId, { reason: e.reason, at: e.at })
        break
      case 'agent_unfrozen':
        this.frozen.delete(e.agentId)
        this.riskResetAt.set(e.agentId, e.at)
        break
    }
    if (e.at >= this.lastSweepAt + SWEEP_EVERY_MS) this.sweep(e.at)
  }

  /** Spend recorded for (agent, chain, asset) at times > t (the rolling window is t = now − 24 h). */
  spentAfter(agentId: string, chainId: number, asset: string, t: number): bigint {
    return this.spends.get(spendKey(agentId, chainId, asset))?.sumAfter(t) ?? 0n
  }

  /**
   * Owner-signed credits usable in the window after t: never more than the spends in that window made before the
   * newest credit, so a credit stops counting once the spends it gave back leave the window.
   */
  creditedAfter(agentId: string, chainId: number, asset: string, t: number): bigint {
    const c = this.credits.get(spendKey(agentId, chainId, asset))
    const credited = c?.sumAfter(t) ?? 0n
    if (credited === 0n) return 0n
    const spends = this.spends.get(spendKey(agentId, chainId, asset))
    const last = c!.lastTime()!
    const before = (spends?.sumAfter(t) ?? 0n) - (spends?.sumAfter(last) ?? 0n)
    return credited < before ? credited : before > 0n ? before : 0n
  }

  /** Amount held by live (unused, unreleased, unexpired at now) cap-bound permits, minus `exceptPermitId`'s. */
  held(agentId: string, chainId: number, asset: string, now: number, exceptPermitId?: string): bigint {
    let sum = 0n
    for (const id of this.holdsByKey.get(spendKey(agentId, chainId, asset)) ?? []) {
      const p = this.permits.get(id)
      if (p && id !== exceptPermitId && !p.used && !p.released && p.expiresAt > now) sum += BigInt(p.amount)
    }
    return sum
  }

  /**
   * What counts against a window after t: spends plus live cap-bound permit holds, less owner credits (never below
   * zero), for one agent, or with agentId null summed over every agent of the wallet (wallet-wide caps).
   */
  usedAfter(agentId: string | null, chainId: number, asset: string, t: number, now: number, exceptPermitId?: string): bigint {
    if (agentId === null) {
      const tail = spendKey('', chainId, asset)
      const agents = new Set<string>()
      for (const m of [this.spends, this.credits, this.holdsByKey]) for (const k of m.keys()) if (k.endsWith(tail)) agents.add(k.slice(0, -tail.length))
      let sum = 0n
      for (const a of agents) sum += this.usedAfter(a, chainId, asset, t, now, exceptPermitId)
      return sum
    }
    const gross = this.spentAfter(agentId, chainId, asset, t) + this.held(agentId, chainId, asset, now, exceptPermitId)
    const credit = this.creditedAfter(agentId, chainId, asset, t)
    return gross > credit ? gross - credit : 0n
  }

  preApprovalUsage(agentId: string, preApprovalId: string, t: number): { count: number; amount: bigint } {
    const s = this.preApprovals.get(`${agentId}|${preApprovalId}`)
    // Entries in one millisecond merge, so the count lives in a parallel series of 1s.
    const c = this.preApprovals.get(`${agentId}|${preApprovalId}|n`)
    return { count: Number(c?.sumAfter(t) ?? 0n), amount: s?.sumAfter(t) ?? 0n }
  }

  requestsAfter(agentId: string, t: number): number {
    return Number(this.requests.get(agentId)?.sumAfter(t) ?? 0n)
  }

  denialsAfter(agentId: string, t: number): number {
    return Number(this.denials.get(agentId)?.sumAfter(Math.max(t, this.riskResetAt.get(agentId) ?? -1)) ?? 0n)
  }

  /** When the owner last unfroze the agent (risk windows start after it), or -1. */
  riskResetTime(agentId: string): number {
    return this.riskResetAt.get(agentId) ?? -1
  }

  channelCount(): number {
    return this.channels.size
  }

  /** The batch-settlement channel, if a deposit or voucher for it was signed. */
  channel(channelId: string): Readonly<ChannelRecord> | undefined {
    return this.channels.get(channelId)
  }

  /** Funds locked in escrow, not yet promised by a voucher nor released by the owner: deposited − highest signed total − released (≥ 0), per channel or over all of (chain, asset). */
  locked(chainId: number, asset: string, channelId?: string): bigint {
    let sum = 0n
    for (const [id, c] of this.channels) {
      if (c.chainId !== chainId || c.asset !== asset || (channelId !== undefined && id !== channelId)) continue
      const held = c.deposited - c.signed - (c.released ?? 0n)
      if (held > 0n) sum += held
    }
    return sum
  }

  frozenInfo(agentId: string): FrozenRecord | undefined {
    return this.frozen.get(agentId)
  }

  /** Requests of this agent still waiting for the owner at `now`. */
  openPendingCount(agentId: string, now: number): number {
    let n = 0
    for (const p of this.pendings.values()) if (p.agentId === agentId && p.status === 'pending' && p.expiresAt > now) n++
    return n
  }

  getPending(pendingId: string): Readonly<PendingRecord> | undefined {
    return this.pendings.get(pendingId)
  }

  /** The latest pending request of this agent with this approval key, if any; a `key` thunk runs only if the wallet has any (cpu18: ~10 µs per request). */
  findPending(agentId: string, key: string | (() => string)): Readonly<PendingRecord> | undefined {
    if (this.pendingByDigest.size === 0) return undefined
    const id = this.pendingByDigest.get(`${agentId}|${typeof key === 'string' ? key : key()}`)
    return id === undefined ? undefined : this.pendings.get(id)
  }

  getPermit(permitId: string): Readonly<PermitRecord> | undefined {
    return this.permits.get(permitId)
  }

  toJSON(): SpendLedgerJson {
    const dump = (m: Map<string, TimeSeries>) => Object.fromEntries(live(m).map(([k, s]) => [k, s.toJSON()]))
    return { v: 1, spends: dump(this.spends), credits: dump(this.credits), preApprovals: dump(this.preApprovals), requests: dump(this.requests), denials: dump(this.denials), ...this.restJSON() }
  }

  /**
   * Issue 18: exactly `JSON.stringify(this.toJSON())` (what a wallet blob seals), with each series' text mostly from
   * its cache (TimeSeries.toJSONText), so a seal costs what changed since the last one, not the whole history.
   */
  toJSONText(): string {
    // Object.keys(Object.fromEntries(…)): the key order JSON.stringify of toJSON's objects gives.
    const dump = (m: Map<string, TimeSeries>, o = Object.fromEntries(live(m))) => `{${Object.keys(o).map((k) => `${JSON.stringify(k)}:${o[k]!.toJSONText()}`).join(',')}}`
    return `{"v":1,"spends":${dump(this.spends)},"credits":${dump(this.credits)},"preApprovals":${dump(this.preApprovals)},"requests":${dump(this.requests)},"denials":${dump(this.denials)},${JSON.stringify(this.restJSON()).slice(1)}`
  }

  /** The fields after the series (toJSON and toJSONText share them). */
  private restJSON(): Omit<SpendLedgerJson, 'v' | 'spends' | 'credits' | 'preApprovals' | 'requests' | 'denials'> {
    return {
      pendings: [...this.pendings.values()].map((p) => ({ ...p })),
      permits: [...this.permits.values()].map((p) => ({ ...p })),
      frozen: Object.fromEntries(this.frozen),
      riskResetAt: Object.fromEntries(this.riskResetAt),
      lastSweepAt: this.lastSweepAt,
      ...(this.channels.size > 0
        ? { channels: Object.fromEntries([...this.channels].map(([k, c]) => [k, { chainId: c.chainId, asset: c.asset, deposited: c.deposited.toString(), signed: c.signed.toString(), ...(c.released ? { released: c.released.toString() } : {}) }])) }
        : {}),
    }
  }

  static fromJSON(json: SpendLedgerJson): SpendLedger {
    if (json.v !== 1) throw new LedgerInvariantError('unknown ledger snapshot version')
    const l = new SpendLedger()
    const load = (m: Map<string, TimeSeries>, o: Record<string, [number, string][]>) => {
      for (const [k, v] of Object.entries(o)) m.set(k, TimeSeries.fromJSON(v))
    }
    load(l.spends, json.spends)
    load(l.credits, json.credits ?? {})
    load(l.preApprovals, json.preApprovals)
    load(l.requests, json.requests)
    load(l.denials, json.denials)
    for (const p of json.pendings) l.addPending({ ...p })
    for (const p of json.permits) l.addPermit({ ...p })
    for (const [k, v] of Object.entries(json.frozen)) l.frozen.set(k, { ...v })
    for (const [k, v] of Object.entries(json.riskResetAt)) l.riskResetAt.set(k, v)
    l.lastSweepAt = json.lastSweepAt
    for (const [k, c] of Object.entries(json.channels ?? {})) l.channels.set(k, { chainId: c.chainId, asset: c.asset, deposited: BigInt(c.deposited), signed: BigInt(c.signed), ...(c.released ? { released: BigInt(c.released) } : {}) })
    return l
  }

  private addPending(p: PendingRecord): void {
    this.pendings.set(p.pendingId, p)
    this.pendingByDigest.set(`${p.agentId}|${p.key}`, p.pendingId)
  }

  private addPermit(p: PermitRecord): void {
    this.permits.set(p.permitId, p)
    if (p.exceedCaps) return
    const k = spendKey(p.agentId, p.chainId, p.asset)
    let s = this.holdsByKey.get(k)
    if (!s) this.holdsByKey.set(k, (s = new Set()))
    s.add(p.permitId)
  }

  private livePending(id: string, status: PendingStatus, at: number): PendingRecord {
    const p = this.pendings.get(id)
    if (!p || p.status !== status || at >= p.expiresAt) throw new LedgerInvariantError(`pending ${id} is not ${status}`)
    return p
  }

  private livePermit(id: string, at: number): PermitRecord {
    const p = this.permits.get(id)
    if (!p || p.used || p.released || at >= p.expiresAt) throw new LedgerInvariantError(`permit ${id} is not live`)
    return p
  }

  /** Drops what no window can see any more, so the ledger stays bounded (deterministic: driven by event time). */
  private sweep(at: number): void {
    this.lastSweepAt = at
    const cutoff = at - SPEND_RETENTION_MS
    for (const m of [this.spends, this.credits, this.preApprovals, this.denials, this.requests]) {
      for (const [k, s] of m) {
        s.prune(m === this.requests ? at - 2 * HOUR_MS : cutoff)
        // Spend sums older than a minute: per-minute buckets, conservative (see TimeSeries.coalesce).
        if (m === this.spends || m === this.preApprovals) s.coalesce(at - COALESCE_AFTER_MS, COALESCE_BUCKET_MS)
        if (s.size === 0) m.delete(k)
      }
    }
    for (const [id, p] of this.pendings) {
      // An expired pending can no longer be approved or used: drop it at once (bounded state).
      if (p.expiresAt >= at) continue
      this.pendings.delete(id)
      const k = `${p.agentId}|${p.key}`
      if (this.pendingByDigest.get(k) === id) this.pendingByDigest.delete(k)
    }
    for (const [id, p] of this.permits) {
      if (p.expiresAt >= cutoff) continue
      this.permits.delete(id)
      this.holdsByKey.get(spendKey(p.agentId, p.chainId, p.asset))?.delete(id)
    }
  }
}

/** The non-empty series of a map (what a snapshot keeps). */
const live = (m: Map<string, TimeSeries>): Array<[string, TimeSeries]> => [...m].filter(([, s]) => s.size > 0)

function series(m: Map<string, TimeSeries>, k: string): TimeSeries {
  let s = m.get(k)
  if (!s) m.set(k, (s = new TimeSeries()))
  return s
}

function counter(m: Map<string, TimeSeries>, k: string, at: number): void {
  const s = series(m, k)
  s.add(at, 1n)
  s.keepLast(COUNTER_MAX)
}
