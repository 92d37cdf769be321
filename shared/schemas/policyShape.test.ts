import { describe, expect, it } from 'vitest'
import { evaluatePolicy } from '../../core/policy/evaluatePolicy.js'
import { SpendLedger } from '../../core/ledger/SpendLedger.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_USDC, MOCK_WALLET, mockPayment } from '../../test/helpers/mockPolicy.js'
import type { DecodedAction } from './decodedAction.js'
import { PolicyInvalidError, parsePolicy } from './policy.js'
import { parseStoredPolicy } from './policyShape.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const base = {
  version: 1, wallet: MOCK_WALLET, agentId: MOCK_AGENT, timeZone: 'UTC',
  tokens: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, name: 'USDC', version: '2', decimals: 6 }],
  budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '1000', rolling24h: '5000' }],
  rules: [{ id: 'pay', effect: 'allow', kinds: ['eip3009'] }],
}
const issues = (f: () => unknown): string[] | null => {
  try {
    f()
    return null
  } catch (e) {
    if (!(e instanceof PolicyInvalidError)) throw e
    return (e as PolicyInvalidError & { metaMessages?: string[] }).metaMessages ?? []
  }
}

/** Broken across fields only: what PolicySchema refuses and the signer's shape reads. */
const CROSS_FIELD = {
  'duplicate rule id': { ...base, rules: [...base.rules, { id: 'pay', effect: 'deny', kinds: ['eip3009'] }] },
  'duplicate token': { ...base, tokens: [...base.tokens, { ...base.tokens[0], name: 'Other' }] },
  'duplicate budget': { ...base, budgets: [...base.budgets, { chainId: MOCK_CHAIN, asset: MOCK_USDC.toUpperCase().replace('0X', '0x'), perTx: '5' }] },
  'duplicate pre-approval id': { ...base, preApprovals: [1, 2].map(() => ({ id: 'pa', kinds: ['eip3009'], chainId: MOCK_CHAIN, asset: MOCK_USDC, payTo: MOCK_WALLET, maxAmountPerTx: '1' })) },
  'typed_data allowed without matchers': { ...base, rules: [{ id: 't', effect: 'allow', kinds: ['typed_data'] }] },
}
/** Broken in one field: refused by both, with the same issues. */
const FIELD = {
  'bad address': { ...base, wallet: '0x12' },
  'amount not decimal': { ...base, budgets: [{ ...base.budgets[0], perTx: '1e3' }] },
  'unknown key': { ...base, extra: 1 },
  'unknown time zone': { ...base, timeZone: 'Mars/Olympus' },
  'cap without a limit': { ...base, budgets: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC }] },
  'window ending before it starts': { ...base, rules: [{ ...base.rules[0], timeWindows: [{ days: ['mon'], start: '10:00', end: '09:00' }] }] },
  'pre-approval with payTo and host': { ...base, preApprovals: [{ id: 'pa', kinds: ['eip3009'], chainId: MOCK_CHAIN, asset: MOCK_USDC, payTo: MOCK_WALLET, host: 'a.example', maxAmountPerTx: '1' }] },
  'not JSON': '{',
}

describe('parseStoredPolicy (the signer’s read of a stored policy: PolicySchema without its cross-field rules)', () => {
  it('reads every valid policy exactly as parsePolicy does (identity, text or value)', () => {
    for (const p of [base, { ...base, preApprovals: [{ id: 'pa', kinds: ['eip3009'], chainId: MOCK_CHAIN, asset: MOCK_USDC, host: 'a.example', maxAmountPerTx: '1' }] }]) {
      expect(parseStoredPolicy(p)).toEqual(parsePolicy(p))
      expect(parseStoredPolicy(JSON.stringify(p))).toEqual(p)
    }
  })
  it('refuses what breaks one field with the same issues as parsePolicy', () => {
    for (const [name, p] of Object.entries(FIELD)) {
      const full = issues(() => parsePolicy(p))
      expect(full, name).not.toBeNull()
      expect(issues(() => parseStoredPolicy(p)), name).toEqual(full)
    }
  })
  it('reads what breaks only a cross-field rule (governance refuses it on install), unchanged', () => {
    for (const [name, p] of Object.entries(CROSS_FIELD)) {
      expect(issues(() => parsePolicy(p)), name).not.toBeNull()
      expect(parseStoredPolicy(p), name).toEqual(p)
    }
  })
  it('such a policy is evaluated as written: typed data with no matchers is denied, the first of duplicate budgets decides', () => {
    const ledger = new SpendLedger()
    const typed: DecodedAction = { kind: 'typed_data', chainId: MOCK_CHAIN, verifyingContract: null, domainName: 'x', domainVersion: '1', primaryType: 'Login', typedData: { domain: { name: 'x', version: '1' }, types: { Login: [] }, primaryType: 'Login', message: {} } }
    const t = evaluatePolicy({ policy: parseStoredPolicy(CROSS_FIELD['typed_data allowed without matchers']), action: typed, agentId: MOCK_AGENT, ledger, now: T0 })
    expect(t).toMatchObject({ verdict: 'deny', code: 'policy_typed_data_not_allowed' })
    const dup = parseStoredPolicy(CROSS_FIELD['duplicate budget'])
    expect(evaluatePolicy({ policy: dup, action: mockPayment('1000', T0), agentId: MOCK_AGENT, ledger, now: T0 }).verdict).toBe('allow')
    expect(evaluatePolicy({ policy: dup, action: mockPayment('1001', T0), agentId: MOCK_AGENT, ledger, now: T0 })).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded' })
  })
})
