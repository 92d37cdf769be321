import { describe, expect, it } from 'vitest'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockDecide, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)

describe('risk controls', () => {
  it('freezes after N denials within M minutes; a frozen agent gets nothing until unfrozen', () => {
    const policy = mockPolicy({ risk: { denialBurst: { count: 3, windowMinutes: 10 } } })
    const l = new SpendLedger()
    const go = (amount: string, now: number) => mockDecide(l, { policy, action: mockPayment(amount, now), now })
    expect(go('2000', T0).events.map((e) => e.type)).toEqual(['request', 'denial'])
    // The first denial leaves the 10-minute window exactly at T0 + 10 min.
    go('2000', T0 + 10 * 60_000)
    expect(go('2000', T0 + 10 * 60_000 + 1).events.map((e) => e.type)).toEqual(['request', 'denial'])
    const third = go('2000', T0 + 11 * 60_000)
    expect(third.events.map((e) => e.type)).toEqual(['request', 'denial', 'agent_frozen'])
    expect(l.frozenInfo(MOCK_AGENT)?.reason).toMatch(/3 denials within 10 min/)
    expect(go('1', T0 + 12 * 60_000)).toMatchObject({ verdict: 'deny', code: 'agent_frozen' })
    l.apply({ type: 'agent_unfrozen', agentId: MOCK_AGENT, at: T0 + 13 * 60_000 })
    expect(go('1', T0 + 14 * 60_000).verdict).toBe('allow')
    // Denials before the unfreeze no longer count toward the next burst.
    expect(go('2000', T0 + 15 * 60_000).events.map((e) => e.type)).toEqual(['request', 'denial'])
  })

  it('freezes when the last hour exceeds max(k × trailing hourly average, minimum)', () => {
    const policy = mockPolicy({
      budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '100000' }],
      risk: { spendSpike: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, multiplierPct: 300, baselineHours: 23, minimum: '500' }] },
    })
    const l = new SpendLedger()
    // Baseline: 100 per hour for the previous 23 hours → average 100, k × avg = 300, minimum 500 dominates.
    for (let h = 2; h <= 24; h++)
      l.apply({ type: 'spend', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '100', payTo: MOCK_PAYTO, role: 'authorization', host: null, at: T0 - h * HOUR_MS + 1, validBefore: null })
    const go = (amount: string, now: number) => mockDecide(l, { policy, action: mockPayment(amount, now), now })
    expect(go('500', T0).verdict).toBe('allow') // 500 is not > 500
    const spike = go('1', T0 + 1)
    expect(spike).toMatchObject({ verdict: 'deny', code: 'policy_risk_spend_spike' })
    expect(spike.events.map((e) => e.type)).toEqual(['request', 'denial', 'agent_frozen'])
    expect(go('1', T0 + 2)).toMatchObject({ code: 'agent_frozen' })
  })

  it('with a high baseline the multiplier dominates', () => {
    const policy = mockPolicy({
      budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '100000' }],
      risk: { spendSpike: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, multiplierPct: 200, baselineHours: 2, minimum: '1' }] },
    })
    const l = new SpendLedger()
    for (const h of [2, 3])
      l.apply({ type: 'spend', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '1000', payTo: MOCK_PAYTO, role: 'authorization', host: null, at: T0 - h * HOUR_MS + 1, validBefore: null })
    const go = (amount: string, now: number) => mockDecide(l, { policy, action: mockPayment(amount, now), now })
    expect(go('2000', T0).verdict).toBe('allow') // 2000 = 2 × 1000, not above
    expect(go('1', T0 + 1)).toMatchObject({ code: 'policy_risk_spend_spike' })
  })
})
