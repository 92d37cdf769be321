import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSIONS_PER_AGENT } from '../../enclave/agent/agentSessions.js'
import { macOf, openTestSession, openText } from '../helpers/agentSessionTest.js'
import {
  type MaliciousHost,
  type TestAgent,
  eip3009,
  newAgent,
  paymentPolicy,
  refusalCode,
  resign,
  signAgentRequest,
  startWithAgent,
} from '../helpers/maliciousHost.js'

/**
 * Attack: a stranger (no registered key) and a registered agent open sessions without bound, to grow the enclave's
 * memory or evict other agents' sessions. A stranger opens none (agent_not_found / agent_signature_invalid); an
 * agent keeps at most SESSIONS_PER_AGENT (its own oldest are evicted, nobody else's); the total is capped by
 * SESSIONS_MAX (session_limit beyond it, never eviction), so memory is bounded by the documented numbers.
 */
describe('adversarial: session flood', () => {
  let host: MaliciousHost
  let wallet: Hex
  let agent: TestAgent
  let victim: TestAgent

  beforeAll(async () => {
    const s = await startWithAgent(paymentPolicy({ perTx: '5000', rolling24h: '1000000' }))
    host = s.host
    wallet = s.wallet
    agent = s.agent
    victim = (await host.setupAgent(s.owner, wallet, paymentPolicy({ perTx: '5000', rolling24h: '1000000' }), newAgent())).agent
    await host.waitAgentFloor()
  })
  afterAll(async () => {
    await host?.stop()
  })

  const pay = async (who: TestAgent, s: { id: string; key: Buffer }) => {
    const r = signAgentRequest({ agent: who, wallet, operation: eip3009({ wallet, value: 1n }) })
    return host.agentSign({ request: r.request, signature: macOf(s, r.request) })
  }

  it('a stranger opens no session: unregistered key → agent_not_found, a registered id under a foreign key → agent_signature_invalid', async () => {
    await expect(openTestSession(host, newAgent(), wallet)).rejects.toThrow(/agent_not_found/)
    const stranger = newAgent()
    const text = openText(agent, wallet, 'ab'.repeat(32))
    expect(refusalCode(await host.call({ type: 'agentStatus', request: text, signature: resign(text, stranger.privateKey) }))).toBe('agent_signature_invalid')
  })

  it(`an agent opening 200 sessions keeps only its newest ${SESSIONS_PER_AGENT}; another agent's session survives`, async () => {
    const victimSession = await openTestSession(host, victim, wallet)
    const opened = []
    for (let i = 0; i < 200; i++) opened.push(await openTestSession(host, agent, wallet))
    const evicted = opened.slice(0, -SESSIONS_PER_AGENT)
    const kept = opened.slice(-SESSIONS_PER_AGENT)
    for (const s of [evicted[0]!, evicted[100]!, evicted.at(-1)!]) expect(refusalCode(await pay(agent, s))).toBe('session_unknown')
    for (const s of kept) expect((await pay(agent, s)).ok).toBe(true)
    expect((await pay(victim, victimSession)).ok).toBe(true)
  })
})
