import { describe, expect, it } from 'vitest'
import { HOUR_MS, SpendLedger } from '../ledger/SpendLedger.js'
import { issuePermit } from './issuePermit.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_USDC, mockDecide, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'
import { resolvePending } from './resolvePending.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const OTHER = '0x3333333333333333333333333333333333333333'
const askOwner = mockPolicy({
  pendingTtlSeconds: 600,
  rules: [{ id: 'small', effect: 'allow', kinds: ['eip3009'], caps: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '100' }], onViolation: 'pending' }],
})
const applyAll = (l: SpendLedger, r: { ok: boolean; events?: Parameters<SpendLedger['apply']>[0][] }) => {
  expect(r.ok).toBe(true)
  for (const e of r.events ?? []) l.apply(e)
}

describe('pending approvals', () => {
  it('out of policy → pending; the same request stays one pending; once approved it is allowed exactly once', () => {
    const l = new SpendLedger()
    const big = mockPayment('500', T0)
    const first = mockDecide(l, { policy: askOwner, action: big, now: T0 })
    expect(first).toMatchObject({ verdict: 'pending', code: 'approval_pending', rule: 'rules.small' })
    if (first.verdict !== 'pending') return
    expect(first.expiresAt).toBe(T0 + 600_000)
    expect(first.events.map((e) => e.type)).toEqual(['request', 'pending_created'])
    const again = mockDecide(l, { policy: askOwner, action: big, now: T0 + 1000 })
    expect(again).toMatchObject({ verdict: 'pending', pendingId: first.pendingId })
    expect(again.events.map((e) => e.type)).toEqual(['request'])

    applyAll(l, resolvePending(l, { pendingId: first.pendingId, approve: true, now: T0 + 2000 }))
    expect(resolvePending(l, { pendingId: first.pendingId, approve: true, now: T0 + 2001 })).toMatchObject({ ok: false, code: 'pending_already_resolved' })
    // Another amount or payee is not covered by the approval.
    const more = mockDecide(l, { policy: askOwner, action: mockPayment('501', T0), now: T0 + 3000 })
    expect(more.verdict).toBe('pending')
    expect(more).not.toMatchObject({ pendingId: first.pendingId })
    // The x402 retry of the same purchase (fresh nonce and window) is: the nonce is the kind's free field.
    const retry = mockPayment('500', T0 + 4000, { nonce: `0x${'cd'.repeat(32)}` })
    const ok = mockDecide(l, { policy: askOwner, action: retry, now: T0 + 4000 })
    expect(ok).toMatchObject({ verdict: 'allow', rule: `pending.${first.pendingId}` })
    expect(ok.events.map((e) => e.type)).toEqual(['request', 'pending_used', 'spend'])
    expect(l.spentAfter(MOCK_AGENT, MOCK_CHAIN, MOCK_USDC, 0)).toBe(500n)
    const twice = mockDecide(l, { policy: askOwner, action: big, now: T0 + 5000 })
    expect(twice.verdict).toBe('pending')
    expect(twice).not.toMatchObject({ pendingId: first.pendingId })
  })

  it('expires: no approval after expiresAt, and an approval unused by then is void', () => {
    const l = new SpendLedger()
    const big = mockPayment('500', T0)
    const p = mockDecide(l, { policy: askOwner, action: big, now: T0 })
    if (p.verdict !== 'pending') throw new TypeError('expected pending')
    expect(resolvePending(l, { pendingId: p.pendingId, approve: true, now: p.expiresAt })).toMatchObject({ ok: false, code: 'pending_expired' })
    applyAll(l, resolvePending(l, { pendingId: p.pendingId, approve: true, now: p.expiresAt - 1 }))
    const late = mockDecide(l, { policy: askOwner, action: mockPayment('500', p.expiresAt), now: p.expiresAt })
    expect(late.verdict).toBe('pending')
    expect(resolvePending(l, { pendingId: 'pnd_nope', approve: true, now: T0 })).toMatchObject({ ok: false, code: 'pending_not_found' })
  })

  it('a rejected request is denied until its pending entry expires', () => {
    const l = new SpendLedger()
    const big = mockPayment('500', T0)
    const p = mockDecide(l, { policy: askOwner, action: big, now: T0 })
    if (p.verdict !== 'pending') throw new TypeError('expected pending')
    applyAll(l, resolvePending(l, { pendingId: p.pendingId, approve: false, now: T0 + 1 }))
    expect(mockDecide(l, { policy: askOwner, action: big, now: T0 + 2 })).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
  })

  it('deny rules are never turned into pending requests', () => {
    const policy = mockPolicy({ ...askOwner, rules: [...askOwner.rules, { id: 'no', effect: 'deny', payTo: { in: [MOCK_PAYTO] } }] })
    expect(mockDecide(new SpendLedger(), { policy, action: mockPayment('500', T0), now: T0 })).toMatchObject({ verdict: 'deny', code: 'policy_payto_not_allowed' })
  })
})

describe('spend permits', () => {
  const policy = mockPolicy({ budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, rolling24h: '5000' }], rules: [{ id: 'host', effect: 'allow', kinds: ['eip3009'], hosts: { in: ['a.example'] } }] })
  const issue = (l: SpendLedger, over: Partial<Parameters<typeof issuePermit>[1]> = {}) =>
    applyAll(l, issuePermit(l, { permitId: 'pmt', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '3000', payTo: MOCK_PAYTO, host: null, expiresAt: T0 + HOUR_MS, exceedCaps: false, now: T0, ...over }))

  it('is merchant-locked, amount-limited, used once, and its unused amount returns to the budget', () => {
    const l = new SpendLedger()
    issue(l)
    const use = (amount: string, payTo = MOCK_PAYTO, now = T0 + 10) => mockDecide(l, { policy, action: mockPayment(amount, now, { payTo }), now, permitId: 'pmt' })
    // Regular payments see 5000 − 3000 held.
    expect(mockDecide(l, { policy, action: mockPayment('2001', T0), context: { resourceUrl: 'https://a.example/' }, now: T0 + 1 })).toMatchObject({ code: 'policy_daily_cap_exceeded', remaining: '2000' })
    expect(use('100', OTHER)).toMatchObject({ verdict: 'deny', code: 'policy_permit_mismatch' })
    expect(use('3001')).toMatchObject({ verdict: 'deny', code: 'policy_permit_amount_exceeded', remaining: '3000' })
    const ok = use('1000')
    expect(ok).toMatchObject({ verdict: 'allow', rule: 'permit.pmt' })
    expect(ok.events.map((e) => e.type)).toEqual(['request', 'permit_used', 'spend'])
    expect(use('1')).toMatchObject({ verdict: 'deny', code: 'policy_permit_invalid' })
    // 1000 spent, 2000 unused returned: 4000 left.
    expect(mockDecide(l, { policy, action: mockPayment('4000', T0 + 20), context: { resourceUrl: 'https://a.example/' }, now: T0 + 20 }).verdict).toBe('allow')
  })

  it('expires, can be host-locked, and exceedCaps permits may pass the budget', () => {
    const l = new SpendLedger()
    issue(l, { permitId: 'h', host: 'shop.example', payTo: null, amount: '9000', exceedCaps: true })
    const pay = (ctxUrl: string, now: number) => mockDecide(l, { policy, action: mockPayment('9000', now), context: { resourceUrl: ctxUrl }, now, permitId: 'h' })
    expect(pay('https://other.example/', T0)).toMatchObject({ code: 'policy_permit_mismatch' })
    expect(pay('https://shop.example/', T0 + HOUR_MS)).toMatchObject({ code: 'policy_permit_invalid' })
    expect(pay('https://shop.example/', T0 + HOUR_MS - 1).verdict).toBe('allow')
    expect(issuePermit(l, { permitId: 'x', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '1', payTo: null, host: '', expiresAt: T0 + 1, exceedCaps: false, now: T0 })).toMatchObject({ ok: false, code: 'permit_invalid' })
    expect(issuePermit(l, { permitId: 'h', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '1', payTo: OTHER, host: null, expiresAt: T0 + 1, exceedCaps: false, now: T0 })).toMatchObject({ ok: false, code: 'permit_exists' })
  })

  it("a cap-bound permit cannot be used past the budget, and another agent's permit is refused", () => {
    const l = new SpendLedger()
    l.apply({ type: 'spend', agentId: MOCK_AGENT, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '4500', payTo: null, role: 'authorization', host: null, at: T0, validBefore: null })
    issue(l)
    expect(mockDecide(l, { policy, action: mockPayment('501', T0 + 1), now: T0 + 1, permitId: 'pmt' })).toMatchObject({ code: 'policy_daily_cap_exceeded', remaining: '500' })
    expect(mockDecide(l, { policy, action: mockPayment('500', T0 + 2), now: T0 + 2, permitId: 'pmt' }).verdict).toBe('allow')
    const other = 'agt_ffffffffffffffffffffffffffffffffffffffff'
    expect(mockDecide(l, { policy: { ...policy, agentId: other }, agentId: other, action: mockPayment('1', T0), now: T0, permitId: 'pmt' })).toMatchObject({ code: 'policy_permit_invalid' })
  })
})

describe('offline pre-approvals', () => {
  const policy = mockPolicy({
    rules: [{ id: 'hosts', effect: 'allow', kinds: ['eip3009'], hosts: { in: ['a.example'] } }],
    preApprovals: [{ id: 'indexer', kinds: ['eip3009'], chainId: MOCK_CHAIN, asset: MOCK_USDC, payTo: MOCK_PAYTO, maxAmountPerTx: '200', maxCountPerDay: 2, maxAmountPerDay: '300' }],
  })
  it('allow a recurring payment outside the rules within their own per-tx, count and amount limits', () => {
    const l = new SpendLedger()
    const go = (amount: string, now: number, payTo = MOCK_PAYTO) => mockDecide(l, { policy, action: mockPayment(amount, now, { payTo }), now })
    expect(go('201', T0)).toMatchObject({ verdict: 'deny', code: 'policy_host_not_allowed' })
    expect(go('100', T0, OTHER)).toMatchObject({ verdict: 'deny', code: 'policy_host_not_allowed' })
    const a = go('200', T0 + 1)
    expect(a).toMatchObject({ verdict: 'allow', rule: 'preApprovals.indexer' })
    expect(a.events.find((e) => e.type === 'spend')).toMatchObject({ preApprovalId: 'indexer' })
    expect(go('101', T0 + 2)).toMatchObject({ verdict: 'deny', code: 'policy_pre_approval_exhausted' })
    expect(go('100', T0 + 3).verdict).toBe('allow')
    expect(go('1', T0 + 4)).toMatchObject({ code: 'policy_pre_approval_exhausted' })
    // A day later (rolling), the first one has left the window.
    expect(go('200', T0 + 1 + 24 * HOUR_MS).verdict).toBe('allow')
  })
})
