import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession } from '../helpers/agentSessionTest.js'
import { type MaliciousHost, type TestAgent, eip3009, hasSignature, paymentPolicy, refusalCode, signAgentRequest, startWithAgent } from '../helpers/maliciousHost.js'

/**
 * Attack: an agent opens a session under a generous policy, then the owner tightens the policy (perTx 5000 → 500),
 * freezes and unfreezes the agent, and revokes the policy. A session must carry no authority of its own: every MACed request is decided on the live
 * policy, exactly like an Ed25519 one — above the new limit refused, none at all after RevokePolicy.
 */
describe('adversarial: a session used after the owner tightened or revoked the policy', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let owner: LocalAccount

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '100000' }))
    ;({ host, wallet, agent, owner } = s)
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  const pay = (s: { id: string; key: Buffer }, value: bigint) => {
    const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value }) })
    return host.agentSign({ request: r.request, signature: macOf(s, r.request) })
  }

  it('the session follows the live policy: 4000 signs before, is refused after perTx 500, nothing after RevokePolicy', async () => {
    const session = await openTestSession(host, agent, wallet)
    expect((await pay(session, 4000n)).ok).toBe(true)

    const tightened = await host.setPolicy(owner, wallet, agent, paymentPolicy({ perTx: '500', rolling24h: '100000', version: 2 }))
    expect(tightened.res.ok).toBe(true)
    const above = await pay(session, 4000n)
    expect(above.ok).toBe(false)
    expect(hasSignature(above)).toBe(false)
    expect((await pay(session, 400n)).ok).toBe(true)

    // Frozen by the owner: refused in the session; unfrozen: the same session signs again (it carries no state).
    expect((await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: true })).ok).toBe(true)
    const frozen = await pay(session, 100n)
    expect(refusalCode(frozen)).toBe('agent_frozen')
    expect(hasSignature(frozen)).toBe(false)
    expect((await host.walletAct(owner, 'FreezeAgent', wallet, { agentId: agent.agentId, frozen: false })).ok).toBe(true)
    expect((await pay(session, 100n)).ok).toBe(true)

    expect((await host.walletAct(owner, 'RevokePolicy', wallet, { agentId: agent.agentId })).ok).toBe(true)
    const none = await pay(session, 1n)
    expect(refusalCode(none)).toBe('agent_no_policy')
    expect(hasSignature(none)).toBe(false)
  })
})
