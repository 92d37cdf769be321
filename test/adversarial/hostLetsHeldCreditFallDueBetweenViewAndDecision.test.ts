import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendDecision, viewAndDecision } from '../helpers/governanceRelay.js'
import { CHAIN_ID, type MaliciousHost, TOKEN, eip3009, paymentPolicy, signAgentRequest, startWithAgent, type TestAgent } from '../helpers/maliciousHost.js'
import type { Hex, LocalAccount } from 'viem'

/**
 * Attack (malicious host, issue 12 stage B relay; found by gov36): a CreditBudget held by the wallet's time lock falls
 * due. The host asks the signer for an owner act's view (governance, deciding from it, applies the due credit in its
 * decision's steps), then lets an agent request through (the agent path applies the same due credit), then sends the
 * decision. Before gov36 the decision applied too: the credit counted twice (budget inflation; a held permit would
 * instead halt the signer on `permit exists`). The signer now refuses a decision when the wallet's held acts changed
 * since the view: `governance_stale`, nothing applied, the credit counted once; the owner's resend then applies.
 */
describe('adversarial: the host lets a held credit fall due on the agent path between an owner act\'s view and its decision', () => {
  let host: MaliciousHost
  let owner: LocalAccount
  let wallet: Hex
  let agent: TestAgent
  beforeAll(async () => {
    ;({ host, owner, wallet, agent } = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' })))
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  it('the decision is governance_stale and the credit counts once', async () => {
    const one = '1'
    const set = await host.walletAct(owner, 'SetOwners', wallet, { owners: [owner.address], stopQuorum: one, approveQuorum: one, loosenQuorum: one, agentsQuorum: one, ownersQuorum: one, delaySeconds: '2' })
    expect(set.ok, JSON.stringify(set)).toBe(true)
    const credit = await host.walletAct(owner, 'CreditBudget', wallet, { agentId: agent.agentId, chainId: String(CHAIN_ID), asset: TOKEN, amount: '7000' })
    expect(credit.ok, JSON.stringify(credit)).toBe(true)
    expect((credit as { result: { scheduled?: unknown } }).result.scheduled).toBeTruthy()
    await new Promise((r) => setTimeout(r, 2_500))
    const seq = String((await host.ownerSeq(wallet)) + 1)
    const parts = await viewAndDecision(host, owner, 'FreezeAgent', { wallet, agentId: agent.agentId, frozen: true, seq })
    const pay = await host.agentSign(signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 100n }) }))
    expect(pay.ok, JSON.stringify(pay)).toBe(true)
    const credits = () => host.entries.map((t) => JSON.parse(t) as { ledger?: Array<{ type: string }> }).filter((e) => (e.ledger ?? []).some((l) => l.type === 'budget_credit')).length
    expect(credits()).toBe(1) // the agent path applied it
    const applied = await sendDecision(host, parts.body, parts.decision)
    expect(applied.ok ? 'applied' : (applied as { error: { code: string } }).error.code).toBe('governance_stale')
    expect(credits()).toBe(1)
    // The owner's act sent again (a fresh view) applies, and the credit stays counted once.
    const again = await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: true })
    expect(again.ok, JSON.stringify(again)).toBe(true)
    expect(credits()).toBe(1)
  }, 60_000)
})
