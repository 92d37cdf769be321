import { describe, expect, it } from 'vitest'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { explainPolicy } from './explainPolicy.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockDecide, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const S0 = Math.floor(T0 / 1000)
const FACILITATOR = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const OTHER_FACILITATOR = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65'

/** An x402 upto authorization: the facilitator may settle up to `amount` to the payee until `deadline`. */
const upto = (amount: string, over: Partial<Extract<DecodedAction, { kind: 'upto' }>> = {}): DecodedAction => ({
  kind: 'upto',
  chainId: MOCK_CHAIN,
  asset: MOCK_USDC,
  amount,
  payTo: MOCK_PAYTO,
  facilitator: FACILITATOR,
  nonce: '1',
  deadline: String(S0 + 300),
  validAfter: '0',
  ...over,
})
const policy = (over: Parameters<typeof mockPolicy>[0] = {}) =>
  mockPolicy({ facilitators: [FACILITATOR], rules: [{ id: 'upto', effect: 'allow', kinds: ['upto'], payTo: { in: [MOCK_PAYTO] }, maxValiditySeconds: 600 }], ...over })
const decide = (action: DecodedAction, p = policy(), ledger = new SpendLedger(), now = T0) => mockDecide(ledger, { policy: p, action, now })

describe('policy: x402 upto', () => {
  it('counts the signed maximum when signed: per-tx and rolling caps read the maximum, not what may settle', () => {
    const ledger = new SpendLedger()
    expect(decide(upto('1000'), policy(), ledger)).toMatchObject({ verdict: 'allow', rule: 'rules.upto' })
    expect(decide(upto('1001'), policy(), ledger)).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
    for (let i = 0; i < 3; i++) expect(decide(upto('1000', { nonce: String(i + 2) }), policy(), ledger).verdict).toBe('allow')
    // 4,000 counted: the calendar-day cap (4,000) has nothing left.
    expect(decide(upto('1', { nonce: '9' }), policy(), ledger)).toMatchObject({ verdict: 'deny', code: 'policy_calendar_day_cap_exceeded', remaining: '0' })
  })

  it('the facilitator must be on the policy’s facilitator allowlist (case-insensitive); no list, no upto', () => {
    expect(decide(upto('5', { facilitator: FACILITATOR.toLowerCase() }))).toMatchObject({ verdict: 'allow' })
    expect(decide(upto('5', { facilitator: OTHER_FACILITATOR }))).toMatchObject({ verdict: 'deny', code: 'policy_facilitator_not_allowed', rule: 'facilitators' })
    expect(decide(upto('5'), policy({ facilitators: undefined }))).toMatchObject({ verdict: 'deny', code: 'policy_facilitator_not_allowed' })
    // Before the rules: a pending-on-violation rule does not turn an unknown facilitator into a request for the owner.
    const lenient = policy({ rules: [{ id: 'upto', effect: 'allow', kinds: ['upto'], onViolation: 'pending' }] })
    expect(decide(upto('5', { facilitator: OTHER_FACILITATOR }), lenient)).toMatchObject({ verdict: 'deny', code: 'policy_facilitator_not_allowed' })
  })

  it('the deadline is bounded like EIP-3009 validity: maxValiditySeconds, not yet valid, expired', () => {
    expect(decide(upto('5', { deadline: String(S0 + 601) }))).toMatchObject({ verdict: 'deny', code: 'policy_validity_window_too_long' })
    expect(decide(upto('5', { deadline: String(S0 + 600) }))).toMatchObject({ verdict: 'allow' })
    expect(decide(upto('5', { validAfter: String(S0 + 10) }))).toMatchObject({ verdict: 'deny', code: 'policy_not_yet_valid' })
    expect(decide(upto('5', { deadline: String(S0) }))).toMatchObject({ verdict: 'deny', code: 'policy_authorization_expired' })
  })

  it('the payee is the witness’s to: the pay-to list applies', () => {
    expect(decide(upto('5', { payTo: '0x3333333333333333333333333333333333333333' }))).toMatchObject({ verdict: 'deny', code: 'policy_payto_not_allowed' })
  })

  it('policy explain shows the facilitator check and its verdict', () => {
    const out = explainPolicy({ policy: policy(), action: upto('5', { facilitator: OTHER_FACILITATOR }), agentId: MOCK_AGENT, ledger: new SpendLedger(), now: T0 })
    expect(out.verdict).toMatchObject({ verdict: 'deny', code: 'policy_facilitator_not_allowed' })
    expect(out.trace.stages).toContainEqual(expect.objectContaining({ name: 'facilitators', ok: false, code: 'policy_facilitator_not_allowed' }))
  })
})
