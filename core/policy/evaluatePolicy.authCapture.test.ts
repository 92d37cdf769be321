import { describe, expect, it } from 'vitest'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockDecide, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const S0 = Math.floor(T0 / 1000)
const ESCROW = '0xf96815976523E00e65Be8f34cA5e64b4f41EB19c'
const OPERATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const FEES = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'

const auth = (amount: string, over: Partial<Extract<DecodedAction, { kind: 'auth_capture' }>> = {}): DecodedAction => ({
  kind: 'auth_capture', chainId: MOCK_CHAIN, asset: MOCK_USDC, amount, receiver: MOCK_PAYTO, operator: OPERATOR, feeReceiver: FEES, maxFeeBps: 0, escrow: ESCROW,
  validAfter: 0, validBefore: S0 + 300, captureDeadline: S0 + 3600, refundDeadline: S0 + 86400, nonce: `0x${'ab'.repeat(32)}`, ...over,
})
const policy = (over: Parameters<typeof mockPolicy>[0] = {}) =>
  mockPolicy({ escrows: [ESCROW], facilitators: [OPERATOR], rules: [{ id: 'ac', effect: 'allow', kinds: ['auth_capture'], payTo: { in: [MOCK_PAYTO] }, maxValiditySeconds: 600 }], ...over })
const decide = (a: DecodedAction, p = policy(), l = new SpendLedger()) => mockDecide(l, { policy: p, action: a, now: T0 })

describe('policy: x402 auth-capture', () => {
  it('the authorized amount counts when signed: per-tx and windows read it', () => {
    const l = new SpendLedger()
    expect(decide(auth('1000'), policy(), l)).toMatchObject({ verdict: 'allow' })
    expect(decide(auth('1001'), policy(), l)).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
    expect(l.spentAfter(MOCK_AGENT, MOCK_CHAIN, MOCK_USDC, 0)).toBe(1000n)
  })

  it('the operator must be on facilitators, the escrow on escrows; a fee receiver must be an allowed payee', () => {
    expect(decide(auth('5', { operator: FEES }))).toMatchObject({ verdict: 'deny', code: 'policy_facilitator_not_allowed' })
    expect(decide(auth('5'), policy({ escrows: undefined }))).toMatchObject({ verdict: 'deny', code: 'policy_escrow_not_allowed' })
    expect(decide(auth('5', { maxFeeBps: 100 }))).toMatchObject({ verdict: 'deny', code: 'policy_payto_not_allowed' })
    expect(decide(auth('5', { maxFeeBps: 100 }), policy({ rules: [{ id: 'ac', effect: 'allow', kinds: ['auth_capture'], payTo: { in: [MOCK_PAYTO, FEES] } }] }))).toMatchObject({ verdict: 'allow' })
  })
})
