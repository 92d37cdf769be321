import type { Hex, LocalAccount } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { macOf, openTestSession } from '../helpers/agentSessionTest.js'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  hasSignature,
  paymentPolicy,
  refusalCode,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: an agent (or a host holding its MACed traffic) keeps using a session after the owner revoked the agent.
 * The revocation kills the agent's sessions at once: the next MACed request is refused (agent_revoked), the session
 * is gone afterwards (session_unknown), and no new session can be opened.
 */
describe('adversarial: a session of a revoked agent', () => {
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

  it('signs before the revocation, nothing after it; the session is dropped and cannot be re-opened', async () => {
    const session = await openTestSession(host, agent, wallet)
    const spare = await openTestSession(host, agent, wallet)
    const before = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
    expect((await host.agentSign({ request: before.request, signature: macOf(session, before.request) })).ok).toBe(true)

    expect((await host.walletAct(owner, 'RevokeAgent', wallet, { agentId: agent.agentId })).ok).toBe(true)

    for (const s of [session, spare]) {
      const r = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
      const res = await host.agentSign({ request: r.request, signature: macOf(s, r.request) })
      expect(refusalCode(res)).toBe('agent_revoked')
      expect(hasSignature(res)).toBe(false)
      // Killed, not merely refused: the session id is unknown from now on.
      const r2 = signAgentRequest({ agent, wallet, operation: eip3009({ wallet, value: 1000n }) })
      const again = await host.agentSign({ request: r2.request, signature: macOf(s, r2.request) })
      expect(refusalCode(again)).toBe('session_unknown')
      expect(hasSignature(again)).toBe(false)
    }
    await expect(openTestSession(host, agent, wallet)).rejects.toThrow(/agent_revoked/)
  })
})
