import { describe, expect, it } from 'vitest'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { MAX_OPEN_PENDING } from './decidePolicy.js'
import { issuePermit } from './issuePermit.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_USDC, mockDecide, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

/** Regressions from the security review (each failed before its fix). */
const T0 = Date.UTC(2026, 10, 24, 12)

describe('review regressions', () => {
  it('an agent cannot pile up more than MAX_OPEN_PENDING approval requests; expired ones are dropped', () => {
    const policy = mockPolicy({
      pendingTtlSeconds: 600,
      rules: [{ id: 'small', effect: 'allow', kinds: ['eip3009'], caps: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '100' }], onViolation: 'pending' }],
    })
    const l = new SpendLedger()
    for (let i = 0; i < MAX_OPEN_PENDING; i++) {
      expect(mockDecide(l, { policy, action: mockPayment(String(1000 + i), T0), now: T0 + i }).verdict).toBe('pending')
    }
    const over = mockDecide(l, { policy, action: mockPayment('5000', T0), now: T0 + 100 })
    expect(over).toMatchObject({ verdict: 'deny', code: 'policy_pending_limit' })
    expect(l.toJSON().pendings.length).toBe(MAX_OPEN_PENDING)
    // Past their expiry (and a sweep), the slots free up and the records are gone.
    const later = T0 + 601_000 + 60_000
    expect(mockDecide(l, { policy, action: mockPayment('5001', later), now: later }).verdict).toBe('pending')
    expect(l.toJSON().pendings.length).toBe(1)
  })

  it('a budget credit stops counting once the spends it gave back leave the window', () => {
    const policy = mockPolicy({
      budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, rolling24h: '1000' }],
      rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'] }],
    })
    const l = new SpendLedger()
    expect(mockDecide(l, { policy, action: mockPayment('1000', T0), now: T0 }).verdict).toBe('allow')
    l.apply({ type: 'budget_credit', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC.toLowerCase(), amount: '1000', at: T0 + 23 * HOUR_MS })
    const t = T0 + 24 * HOUR_MS + 120_000
    expect(mockDecide(l, { policy, action: mockPayment('1000', t), now: t }).verdict).toBe('allow')
    expect(mockDecide(l, { policy, action: mockPayment('1000', t + 1), now: t + 1 })).toMatchObject({ verdict: 'deny', code: 'policy_daily_cap_exceeded' })
  })

  it('a permit without a pay-to lock covers x402 payments only', () => {
    const policy = mockPolicy({ budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, rolling24h: '1000000' }], rules: [] })
    const l = new SpendLedger()
    const issued = issuePermit(l, {
      permitId: 'p1',
      agentId: MOCK_AGENT,
      chainId: MOCK_CHAIN,
      asset: MOCK_USDC,
      amount: '500',
      payTo: null,
      host: 'api.example.com',
      expiresAt: T0 + HOUR_MS,
      exceedCaps: false,
      now: T0,
    })
    expect(issued.ok).toBe(true)
    if (issued.ok) for (const e of issued.events) l.apply(e)
    const transfer = {
      kind: 'erc20_transfer' as const,
      chainId: MOCK_CHAIN,
      nonce: 0,
      gas: '0',
      maxFeePerGas: '0',
      maxPriorityFeePerGas: '0',
      asset: MOCK_USDC,
      amount: '100',
      payTo: '0x4444444444444444444444444444444444444444',
      from: '0x1111111111111111111111111111111111111111',
      method: 'transfer' as const,
    }
    const v = mockDecide(l, { policy, action: transfer, now: T0 + 1, permitId: 'p1', context: { resourceUrl: 'https://api.example.com/x' } })
    expect(v).toMatchObject({ verdict: 'deny', code: 'policy_permit_mismatch', message: 'a permit without a pay-to lock covers x402 payments only' })
  })
})
