import type { ApprovalSummary } from '../../shared/owner/approvalSummary.js'
import { describe, expect, it } from 'vitest'
import { applyLedgerEvent } from './applyLedgerEvent.js'
import type { LedgerEvent } from './LedgerEvent.js'
import { HOUR_MS, LedgerInvariantError, SpendLedger } from './SpendLedger.js'
const K1 = `0x${'d1'.repeat(32)}`
const K2 = `0x${'d2'.repeat(32)}`
const K3 = `0x${'d3'.repeat(32)}`
const SUMMARY = {
  agentId: 'agt_x',
  host: null,
  describe: 'message',
  action: { kind: 'raw_message', length: 1, message: { text: 'x' } },
  free: [],
  validForSeconds: null,
} as ApprovalSummary

const A = 'agt_0123456789abcdef0123456789abcdef01234567'
const USDC = '0x036cbd53842c5426634e7929541ec2318f3dcf7e'
const PAYTO = '0x2222222222222222222222222222222222222222'
const T0 = Date.UTC(2026, 10, 24, 12)

const spend = (at: number, amount: string, extra: Partial<LedgerEvent> = {}): LedgerEvent =>
  ({ type: 'spend', agentId: A, chainId: 84532, asset: USDC, amount, payTo: PAYTO, role: 'authorization', host: null, at, validBefore: null, ...extra }) as LedgerEvent
const permit = (id: string, amount: string, at: number, exceedCaps = false): LedgerEvent => ({
  type: 'permit_issued',
  permitId: id,
  agentId: A,
  chainId: 84532,
  asset: USDC,
  amount,
  payTo: PAYTO,
  host: null,
  expiresAt: at + HOUR_MS,
  exceedCaps,
  at,
})

function sample(): LedgerEvent[] {
  return [
    spend(T0, '100'),
    spend(T0 + 1, '50', { preApprovalId: 'nightly' }),
    { type: 'request', agentId: A, at: T0 + 2 },
    { type: 'denial', agentId: A, code: 'policy_daily_cap_exceeded', at: T0 + 3 },
    { type: 'pending_created', pendingId: 'pnd_1', agentId: A, key: K1, digest: K1, at: T0 + 4, summary: SUMMARY, expiresAt: T0 + 900_000 },
    { type: 'pending_resolved', pendingId: 'pnd_1', approve: true, at: T0 + 5 },
    permit('pmt_1', '1000', T0 + 6),
    permit('pmt_2', '400', T0 + 7),
    { type: 'permit_used', permitId: 'pmt_1', amount: '300', at: T0 + 8 },
    { type: 'agent_frozen', agentId: A, reason: 'manual', at: T0 + 9 },
  ]
}

describe('SpendLedger', () => {
  it('round-trips through plain JSON and answers every query the same', () => {
    const l = new SpendLedger()
    for (const e of sample()) l.apply(e)
    const back = SpendLedger.fromJSON(JSON.parse(JSON.stringify(l)))
    expect(back.toJSON()).toEqual(l.toJSON())
    for (const x of [l, back]) {
      expect(x.spentAfter(A, 84532, USDC, T0 - 1)).toBe(150n)
      expect(x.held(A, 84532, USDC, T0 + 10)).toBe(400n)
      expect(x.preApprovalUsage(A, 'nightly', T0 - 1)).toEqual({ count: 1, amount: 50n })
      expect(x.requestsAfter(A, T0)).toBe(1)
      expect(x.denialsAfter(A, T0)).toBe(1)
      expect(x.getPending('pnd_1')?.status).toBe('approved')
      expect(x.findPending(A, K1)?.pendingId).toBe('pnd_1')
      expect(x.frozenInfo(A)?.reason).toBe('manual')
    }
  })

  it('findPending computes a thunk key only when the wallet has pending requests (cpu18), with the same answer', () => {
    let calls = 0
    const key = () => (calls++, K1)
    expect(new SpendLedger().findPending(A, key)).toBeUndefined()
    expect(calls).toBe(0)
    const l = new SpendLedger()
    for (const e of sample()) l.apply(e)
    expect(l.findPending(A, key)?.pendingId).toBe('pnd_1')
    expect(calls).toBe(1)
    expect(l.findPending(A, () => 'other')).toBeUndefined()
  })

  it('replaying the events from a snapshot equals applying them live', () => {
    const events = sample()
    const live = new SpendLedger()
    for (const e of events) live.apply(e)
    const half = new SpendLedger()
    for (const e of events.slice(0, 5)) applyLedgerEvent(half, JSON.parse(JSON.stringify(e)))
    const restored = SpendLedger.fromJSON(JSON.parse(JSON.stringify(half)))
    for (const e of events.slice(5)) applyLedgerEvent(restored, JSON.parse(JSON.stringify(e)))
    expect(restored.toJSON()).toEqual(live.toJSON())
  })

  it('a permit holds its amount; using it spends once and returns the unused amount', () => {
    const l = new SpendLedger()
    l.apply(permit('p', '1000', T0))
    expect(l.held(A, 84532, USDC, T0 + 1)).toBe(1000n)
    expect(l.held(A, 84532, USDC, T0 + 1, 'p')).toBe(0n)
    l.apply({ type: 'permit_used', permitId: 'p', amount: '300', at: T0 + 2 })
    l.apply(spend(T0 + 2, '300', { permitId: 'p' }))
    expect(l.held(A, 84532, USDC, T0 + 3)).toBe(0n)
    expect(l.spentAfter(A, 84532, USDC, T0 - 24 * HOUR_MS)).toBe(300n)
    expect(l.getPermit('p')).toMatchObject({ used: true, spent: '300' })
    expect(() => l.apply({ type: 'permit_used', permitId: 'p', amount: '1', at: T0 + 4 })).toThrow(LedgerInvariantError)
  })

  it('expired, released and exceedCaps permits hold nothing', () => {
    const l = new SpendLedger()
    l.apply(permit('a', '10', T0))
    l.apply(permit('b', '20', T0))
    l.apply(permit('c', '40', T0, true))
    expect(l.held(A, 84532, USDC, T0)).toBe(30n)
    l.apply({ type: 'budget_released', permitId: 'b', at: T0 + 1 })
    expect(l.held(A, 84532, USDC, T0 + 1)).toBe(10n)
    expect(l.held(A, 84532, USDC, T0 + HOUR_MS - 1)).toBe(10n)
    expect(l.held(A, 84532, USDC, T0 + HOUR_MS)).toBe(0n)
    expect(() => l.apply({ type: 'permit_used', permitId: 'a', amount: '1', at: T0 + HOUR_MS })).toThrow(LedgerInvariantError)
    expect(() => l.apply({ type: 'permit_used', permitId: 'a', amount: '11', at: T0 + 2 })).toThrow(/overspent/)
    expect(() => l.apply(permit('a', '1', T0 + 3))).toThrow(/exists/)
  })

  it('a pending request is resolved once and used once, only before it expires', () => {
    const l = new SpendLedger()
    l.apply({ type: 'pending_created', pendingId: 'p', agentId: A, key: K2, digest: K2, at: T0, summary: SUMMARY, expiresAt: T0 + 1000 })
    expect(() => l.apply({ type: 'pending_used', pendingId: 'p', at: T0 + 1 })).toThrow(LedgerInvariantError)
    l.apply({ type: 'pending_resolved', pendingId: 'p', approve: true, at: T0 + 1 })
    expect(() => l.apply({ type: 'pending_resolved', pendingId: 'p', approve: false, at: T0 + 2 })).toThrow(LedgerInvariantError)
    l.apply({ type: 'pending_used', pendingId: 'p', at: T0 + 3 })
    expect(() => l.apply({ type: 'pending_used', pendingId: 'p', at: T0 + 4 })).toThrow(LedgerInvariantError)
    l.apply({ type: 'pending_created', pendingId: 'q', agentId: A, key: K3, digest: K3, at: T0, summary: SUMMARY, expiresAt: T0 + 1000 })
    expect(() => l.apply({ type: 'pending_resolved', pendingId: 'q', approve: true, at: T0 + 1000 })).toThrow(LedgerInvariantError)
  })

  it('rejects malformed events on the replay path', () => {
    const l = new SpendLedger()
    expect(() => applyLedgerEvent(l, { ...spend(T0, '1'), amount: '1.5' })).toThrow(LedgerInvariantError)
    expect(() => applyLedgerEvent(l, { ...spend(T0, '1'), asset: USDC.toUpperCase().replace('0X', '0x') })).toThrow(LedgerInvariantError)
    expect(() => applyLedgerEvent(l, { type: 'mint', at: T0 })).toThrow(LedgerInvariantError)
    expect(l.toJSON().spends).toEqual({})
  })

  it('stays bounded: ten days of one spend and one request a minute keep about 27 h of spends', () => {
    const l = new SpendLedger()
    for (let m = 0; m < 10 * 24 * 60; m++) {
      const at = T0 + m * 60_000
      l.apply(spend(at, '1'))
      l.apply({ type: 'request', agentId: A, at })
      if (m % 60 === 0) l.apply(permit(`p${m}`, '1', at))
    }
    const j = l.toJSON()
    const n = Object.values(j.spends)[0]!.length
    expect(n).toBeGreaterThanOrEqual(27 * 60)
    expect(n).toBeLessThanOrEqual(27 * 60 + 10)
    expect(Object.values(j.requests)[0]!.length).toBeLessThanOrEqual(2 * 60 + 10)
    expect(j.permits.length).toBeLessThanOrEqual(30)
    // Exact sum over the last 24 h is unaffected by pruning.
    const end = T0 + (10 * 24 * 60 - 1) * 60_000
    expect(l.spentAfter(A, 84532, USDC, end - 24 * HOUR_MS)).toBe(BigInt(24 * 60))
  })

  it('unfreezing resets the denial window used by risk controls', () => {
    const l = new SpendLedger()
    for (let i = 0; i < 3; i++) l.apply({ type: 'denial', agentId: A, code: 'x', at: T0 + i })
    l.apply({ type: 'agent_frozen', agentId: A, reason: 'r', at: T0 + 3 })
    l.apply({ type: 'agent_unfrozen', agentId: A, at: T0 + 4 })
    expect(l.frozenInfo(A)).toBeUndefined()
    expect(l.denialsAfter(A, T0 - 1)).toBe(0)
    l.apply({ type: 'denial', agentId: A, code: 'x', at: T0 + 5 })
    expect(l.denialsAfter(A, T0 - 1)).toBe(1)
  })
})
