import { describe, expect, it } from 'vitest'
import { SpendLedger } from '../ledger/SpendLedger.js'
import { evaluatePolicy } from './evaluatePolicy.js'
import { explainPolicy } from './explainPolicy.js'
import { MOCK_AGENT, MOCK_PAYTO, mockPayment, mockPolicy } from '../../test/helpers/mockPolicy.js'

const T0 = Date.UTC(2026, 10, 24, 12)

describe('explainPolicy', () => {
  it('returns the same verdict as evaluatePolicy, with every rule condition traced, and leaves the ledger untouched', () => {
    const policy = mockPolicy({
      rules: [
        { id: 'block', effect: 'deny', payTo: { in: ['0x000000000000000000000000000000000000dead'] } },
        { id: 'hosts', effect: 'allow', kinds: ['eip3009'], hosts: { in: ['a.example'] }, payTo: { in: [MOCK_PAYTO] }, maxValiditySeconds: 60 },
      ],
    })
    const ledger = new SpendLedger()
    const before = JSON.stringify(ledger)
    const params = { policy, action: mockPayment('10', T0), context: { resourceUrl: 'https://b.example/' }, agentId: MOCK_AGENT, ledger, now: T0 }
    const { verdict, trace } = explainPolicy(params)
    expect(verdict).toEqual(evaluatePolicy(params))
    expect(verdict).toMatchObject({ verdict: 'deny', code: 'policy_host_not_allowed' })
    expect(JSON.stringify(ledger)).toBe(before)
    expect(trace.rules.map((r) => [r.rule, r.ok])).toEqual([
      ['block', false],
      ['hosts', false],
    ])
    // Full trace: conditions after the first failure are still evaluated.
    const hosts = trace.rules[1]!.checks
    expect(hosts.map((c) => [c.name, c.ok])).toEqual([
      ['kinds', true],
      ['payTo', true],
      ['hosts', false],
      ['validity', false],
    ])
    expect(hosts.find((c) => c.name === 'validity')?.code).toBe('policy_validity_window_too_long')
    expect(trace.stages.map((s) => s.name)).toEqual(expect.arrayContaining(['tokens', 'validity']))
  })
})
