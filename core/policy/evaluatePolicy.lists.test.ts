import { describe, expect, it } from 'vitest'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { PolicyRule } from '../../shared/schemas/policy.js'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { evaluatePolicy } from './evaluatePolicy.js'
import { MOCK_AGENT, MOCK_CHAIN, MOCK_PAYTO, MOCK_TX, MOCK_USDC, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)
const OTHER = '0x3333333333333333333333333333333333333333'
const pay = mockPayment('10', T0)
const approve = (spender: string): DecodedAction => ({ kind: 'erc20_approve', ...MOCK_TX, chainId: MOCK_CHAIN, asset: MOCK_USDC, amount: '10', spender, method: 'approve' })
const call = (to: string, selector = '0xa9059cbb'): DecodedAction => ({ kind: 'contract_call', ...MOCK_TX, chainId: MOCK_CHAIN, to, value: '0', selector, data: selector })
const typed = (over: Partial<Extract<DecodedAction, { kind: 'typed_data' }>> = {}): DecodedAction => ({
  kind: 'typed_data',
  chainId: MOCK_CHAIN,
  verifyingContract: OTHER,
  domainName: 'example-login',
  domainVersion: '1',
  primaryType: 'Login',
  typedData: { domain: { name: 'example-login', version: '1' }, types: { Login: [] }, primaryType: 'Login', message: {} },
  ...over,
})
const msg = (length: number): DecodedAction => ({ kind: 'raw_message', length, message: { raw: `0x${'00'.repeat(length)}` } })
const allow = (r: Partial<Extract<PolicyRule, { effect: 'allow' }>>): PolicyRule => ({ id: 'r', effect: 'allow', kinds: ['eip3009'], ...r })

type Row = { name: string; rules: PolicyRule[]; action?: DecodedAction; url?: string; code: string | null }
const rows: Row[] = [
  { name: 'kind not allowed by any rule', rules: [allow({ kinds: ['erc20_transfer'] })], code: 'policy_kind_not_allowed' },
  { name: 'no rules at all: default deny', rules: [], code: 'policy_kind_not_allowed' },
  { name: 'chain in list', rules: [allow({ chains: { in: [MOCK_CHAIN] } })], code: null },
  { name: 'chain not in list', rules: [allow({ chains: { in: [8453] } })], code: 'policy_chain_not_allowed' },
  { name: 'chain in notIn list', rules: [allow({ chains: { notIn: [MOCK_CHAIN] } })], code: 'policy_chain_not_allowed' },
  { name: 'token contract allowlisted (case-insensitive)', rules: [allow({ assets: { in: [MOCK_USDC.toUpperCase().replace('0X', '0x')] } })], code: null },
  { name: 'token contract not allowlisted', rules: [allow({ assets: { in: [OTHER] } })], code: 'policy_asset_not_allowed' },
  { name: 'pay-to allowlisted', rules: [allow({ payTo: { in: [MOCK_PAYTO] } })], code: null },
  { name: 'pay-to not allowlisted', rules: [allow({ payTo: { in: [OTHER] } })], code: 'policy_payto_not_allowed' },
  { name: 'pay-to on an allow-rule notIn list', rules: [allow({ payTo: { notIn: [MOCK_PAYTO] } })], code: 'policy_payto_not_allowed' },
  {
    name: 'deny rule wins over a passing allow rule',
    rules: [allow({}), { id: 'bad', effect: 'deny', payTo: { in: [MOCK_PAYTO] } }],
    code: 'policy_payto_not_allowed',
  },
  { name: 'deny rule that does not match', rules: [allow({}), { id: 'bad', effect: 'deny', payTo: { in: [OTHER] } }], code: null },
  { name: 'deny rule without predicates denies everything', rules: [allow({}), { id: 'kill', effect: 'deny' }], code: 'policy_denied_by_rule' },
  {
    name: 'deny rule scoped to another kind does not match',
    rules: [allow({}), { id: 'no-approve', effect: 'deny', kinds: ['erc20_approve'] }],
    code: null,
  },
  { name: 'host exact match', rules: [allow({ hosts: { in: ['api.example.com'] } })], url: 'https://api.example.com/x?y=1', code: null },
  { name: 'host wildcard matches a subdomain', rules: [allow({ hosts: { in: ['*.example.com'] } })], url: 'https://a.b.example.com/', code: null },
  { name: 'host wildcard does not match the apex', rules: [allow({ hosts: { in: ['*.example.com'] } })], url: 'https://example.com/', code: 'policy_host_not_allowed' },
  { name: 'host lookalike suffix', rules: [allow({ hosts: { in: ['*.example.com'] } })], url: 'https://evilexample.com/', code: 'policy_host_not_allowed' },
  { name: 'host missing when an allowlist exists', rules: [allow({ hosts: { in: ['api.example.com'] } })], code: 'policy_host_not_allowed' },
  { name: 'host unparsable', rules: [allow({ hosts: { in: ['api.example.com'] } })], url: 'not a url', code: 'policy_host_not_allowed' },
  { name: 'host denylisted by a deny rule', rules: [allow({}), { id: 'h', effect: 'deny', hosts: { in: ['evil.example'] } }], url: 'https://EVIL.example./pay', code: 'policy_host_not_allowed' },
  { name: 'deny-rule host list ignores requests without a host', rules: [allow({}), { id: 'h', effect: 'deny', hosts: { in: ['evil.example'] } }], code: null },
  { name: 'approve spender allowlisted', rules: [allow({ kinds: ['erc20_approve'], spenders: { in: [OTHER] } })], action: approve(OTHER), code: null },
  { name: 'approve spender not allowlisted', rules: [allow({ kinds: ['erc20_approve'], spenders: { in: [OTHER] } })], action: approve(MOCK_PAYTO), code: 'policy_spender_not_allowed' },
  {
    name: 'a deny rule on a payee also matches it as a spender',
    rules: [allow({ kinds: ['erc20_approve'] }), { id: 'bad', effect: 'deny', payTo: { in: [OTHER] } }],
    action: approve(OTHER),
    code: 'policy_payto_not_allowed',
  },
  { name: 'a deny payee list leaves other spenders alone', rules: [allow({ kinds: ['erc20_approve'] }), { id: 'bad', effect: 'deny', payTo: { in: [OTHER] } }], action: approve(MOCK_PAYTO), code: null },
  { name: 'an allow rule payTo notIn list also excludes the spender', rules: [allow({ kinds: ['erc20_approve'], payTo: { notIn: [OTHER] } })], action: approve(OTHER), code: 'policy_payto_not_allowed' },
  { name: 'an allow rule payTo notIn list passes other spenders', rules: [allow({ kinds: ['erc20_approve'], payTo: { notIn: [OTHER] } })], action: approve(MOCK_PAYTO), code: null },
  { name: 'an allow payTo list does not admit a spender', rules: [allow({ kinds: ['erc20_approve'], payTo: { in: [OTHER] } })], action: approve(OTHER), code: 'policy_payto_not_allowed' },
  { name: 'contract allowlisted with selector', rules: [allow({ kinds: ['contract_call'], contracts: { in: [OTHER] }, selectors: { in: ['0xA9059CBB'] } })], action: call(OTHER), code: null },
  { name: 'contract not allowlisted', rules: [allow({ kinds: ['contract_call'], contracts: { in: [OTHER] } })], action: call(MOCK_PAYTO), code: 'policy_contract_not_allowed' },
  { name: 'selector not allowlisted', rules: [allow({ kinds: ['contract_call'], selectors: { in: ['0x095ea7b3'] } })], action: call(OTHER), code: 'policy_selector_not_allowed' },
  {
    name: 'typed data matching domain and primary type',
    rules: [allow({ kinds: ['typed_data'], typedData: [{ domainName: 'example-login', chainId: MOCK_CHAIN, verifyingContract: OTHER, primaryTypes: ['Login'] }] })],
    action: typed(),
    code: null,
  },
  {
    name: 'typed data with another primary type',
    rules: [allow({ kinds: ['typed_data'], typedData: [{ domainName: 'example-login', primaryTypes: ['Login'] }] })],
    action: typed({ primaryType: 'Permit' }),
    code: 'policy_typed_data_not_allowed',
  },
  {
    name: 'typed data on another chain',
    rules: [allow({ kinds: ['typed_data'], typedData: [{ chainId: 1, primaryTypes: ['Login'] }] })],
    action: typed(),
    code: 'policy_typed_data_not_allowed',
  },
  {
    name: 'typed data with another verifying contract',
    rules: [allow({ kinds: ['typed_data'], typedData: [{ verifyingContract: MOCK_PAYTO, primaryTypes: ['Login'] }] })],
    action: typed(),
    code: 'policy_typed_data_not_allowed',
  },
  { name: 'raw message off unless allowed', rules: [allow({})], action: msg(5), code: 'policy_kind_not_allowed' },
  { name: 'raw message at the max length', rules: [allow({ kinds: ['raw_message'], maxMessageLength: 5 })], action: msg(5), code: null },
  { name: 'raw message one byte over', rules: [allow({ kinds: ['raw_message'], maxMessageLength: 5 })], action: msg(6), code: 'policy_message_too_long' },
]

describe('evaluatePolicy: kinds and allow/deny lists', () => {
  it.each(rows)('$name', (r) => {
    const policy = mockPolicy({ rules: r.rules })
    const v = evaluatePolicy({
      policy,
      action: r.action ?? pay,
      context: r.url === undefined ? {} : { resourceUrl: r.url },
      agentId: MOCK_AGENT,
      ledger: new SpendLedger(),
      now: T0,
    })
    if (r.code === null) expect(v.verdict, JSON.stringify(v)).toBe('allow')
    else expect(v, JSON.stringify(v)).toMatchObject({ verdict: 'deny', code: r.code })
    expect(v.events[0]).toEqual({ type: 'request', agentId: MOCK_AGENT, at: T0 })
  })

  it('reports the closest allow rule when none passes', () => {
    const policy = mockPolicy({
      rules: [
        allow({ id: 'a', hosts: { in: ['a.example'] } }),
        allow({ id: 'b', hosts: { in: ['b.example'] }, caps: [{ chainId: MOCK_CHAIN, asset: MOCK_USDC, perTx: '5' }] }),
      ],
    })
    const v = evaluatePolicy({ policy, action: pay, context: { resourceUrl: 'https://b.example/' }, agentId: MOCK_AGENT, ledger: new SpendLedger(), now: T0 })
    expect(v).toMatchObject({ verdict: 'deny', code: 'policy_per_tx_cap_exceeded', rule: 'rules.b', remaining: '5' })
  })

  it('an allow-rule notIn list passes actions without that field; a deny rule never matches on a missing field', () => {
    const policy = mockPolicy({ rules: [allow({ kinds: ['typed_data'], payTo: { notIn: [MOCK_PAYTO] }, typedData: [{ primaryTypes: ['Login'] }] }), { id: 'd', effect: 'deny', payTo: { notIn: [MOCK_PAYTO] } }] })
    const v = evaluatePolicy({ policy, action: typed(), agentId: MOCK_AGENT, ledger: new SpendLedger(), now: T0 })
    expect(v.verdict).toBe('allow')
  })

  it('refuses a policy bound to another agent', () => {
    const v = evaluatePolicy({ policy: mockPolicy(), action: pay, agentId: 'agt_ffffffffffffffffffffffffffffffffffffffff', ledger: new SpendLedger(), now: T0 })
    expect(v).toMatchObject({ verdict: 'deny', code: 'policy_agent_mismatch' })
  })
})
